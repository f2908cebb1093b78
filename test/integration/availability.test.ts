/**
 * GET /booking/coach/{coach_id}/availability over HTTP against the Worker:
 * shape, Cache-Control, errors, and the property "every listed slot is
 * accepted by POST /booking, nothing outside the windows is listed" in
 * Europe/Madrid and America/New_York (across their DST changes), Asia/Kolkata
 * (half-hour offset) and Pacific/Auckland (date line), with the server clock
 * moved (X-Test-Now) so that the DST days lie ahead.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { del, expectEnvelope, get, type Json, post } from "../helpers/api.ts";
import { book, DAY, HOUR } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { accessToken, createClient, createCoach, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const path = (coach: { id: string }, query = "") => `/booking/coach/${coach.id}/availability${query ? `?${query}` : ""}`;
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY).toISOString().slice(0, 10);

async function at(user: TestUser, now: Date) {
  return { token: await accessToken(user.id, user.role, now), now };
}

function wallClock(instant: Date, timeZone: string) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      weekday: "long",
    })
      .formatToParts(instant)
      .map((part) => [part.type, part.value]),
  );
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: String(parts.weekday).toLowerCase(),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** Independent check: every minute of the slot is inside one window of the slot's local day. */
function insideOneWindow(availability: Record<string, unknown>, timeZone: string, slot: Json): boolean {
  const start = new Date(slot.start);
  const first = wallClock(start, timeZone);
  const windows = ((availability[first.weekday] as string[] | undefined) ?? []).map((text) => {
    const [a, b] = text.split("-") as [string, string];
    return { start: Number(a.slice(0, 2)) * 60 + Number(a.slice(3)), end: Number(b.slice(0, 2)) * 60 + Number(b.slice(3)) };
  });
  const window = windows.find((w) => first.minutes >= w.start && first.minutes < w.end);
  if (!window) return false;
  for (let minute = 0; minute < slot.duration_minutes; minute++) {
    const local = wallClock(new Date(start.getTime() + minute * 60_000), timeZone);
    if (local.date !== first.date || local.minutes < window.start || local.minutes >= window.end) return false;
  }
  return true;
}

describe("GET /booking/coach/{coach_id}/availability", () => {
  describe("happy", () => {
    it("anonymous: the old API's shape, UTC slots on the coach's grid, sorted, Cache-Control private", async () => {
      const coach = await createCoach({
        availability: { timezone: "Asia/Kolkata", monday: ["09:00-12:00"], friday: ["14:00-15:30"] },
      });
      const result = await get(path(coach, `start_date=${day(3)}&end_date=${day(16)}&duration_minutes=60`));
      expect(result.status).toBe(200);
      // The edge cache's policy for public reads (docs/EDGE.md): revalidate, so the author sees a change at once.
      expect(result.headers.get("cache-control")).toBe("private, max-age=0, must-revalidate");
      expect(result.body).toMatchObject({ coach_id: coach.id, timezone: "Asia/Kolkata", duration_minutes: 60 });
      const slots = result.body.available_slots as Json[];
      // Two Mondays x 5 starts (09:00..11:00) + two Fridays x 2 starts (14:00, 14:30).
      expect(slots).toHaveLength(14);
      for (const slot of slots) {
        expect(slot.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
        expect(Date.parse(slot.end) - Date.parse(slot.start)).toBe(HOUR);
        expect(slot.duration_minutes).toBe(60);
        expect(new Date(slot.start).getUTCMinutes() % 30).toBe(0); // IST is UTC+05:30: still a half-hour grid
      }
      const starts = slots.map((slot) => Date.parse(slot.start));
      expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    });

    it("the coach profile id works too; the default duration is 60; busy times and the next 2 hours are left out", async () => {
      const coach = await createCoach({
        availability: {
          timezone: "UTC",
          monday: ["00:00-24:00"],
          tuesday: ["00:00-24:00"],
          wednesday: ["00:00-24:00"],
          thursday: ["00:00-24:00"],
          friday: ["00:00-24:00"],
          saturday: ["00:00-24:00"],
          sunday: ["00:00-24:00"],
        },
      });
      const client = await createClient();
      const busyStart = new Date(Date.now() + 3 * DAY);
      busyStart.setUTCHours(10, 0, 0, 0);
      await book(client, coach, busyStart, 90);
      const result = await get(path({ id: coach.profileId as string }, `start_date=${day(0)}&end_date=${day(4)}`));
      expect(result.status).toBe(200);
      expect(result.body.coach_id).toBe(coach.id);
      expect(result.body.duration_minutes).toBe(60);
      const starts = (result.body.available_slots as Json[]).map((slot) => Date.parse(slot.start));
      expect(Math.min(...starts)).toBeGreaterThanOrEqual(Date.now() + 2 * HOUR - 60_000);
      const busyEnd = busyStart.getTime() + 90 * 60_000;
      for (const start of starts) expect(start + HOUR <= busyStart.getTime() || start >= busyEnd).toBe(true);
      expect(starts).toContain(busyStart.getTime() - HOUR);
      expect(starts).toContain(busyEnd);
    });

    it("a coach without an hourly rate (not bookable) has no free slots", async () => {
      const coach = await createCoach({ hourlyRate: null });
      const result = await get(path(coach, `start_date=${day(2)}&end_date=${day(4)}`));
      expect(result.status).toBe(200);
      expect(result.body.available_slots).toEqual([]);
    });
  });

  describe("errors", () => {
    it("400: end before start, over 31 days, bad duration, malformed dates or id", async () => {
      const coach = await createCoach();
      for (const query of [
        `start_date=${day(5)}&end_date=${day(4)}`,
        `start_date=${day(1)}&end_date=${day(32)}`,
        "duration_minutes=45",
        "duration_minutes=abc",
        "start_date=2026-02-30",
        "start_date=0001-01-01",
        "end_date=tomorrow",
        "start_date=%00",
      ]) {
        expectEnvelope(await get(path(coach, query)), 400, "VALIDATION_ERROR");
      }
      expectEnvelope(await get("/booking/coach/not-a-uuid/availability"), 400, "VALIDATION_ERROR");
      // 31 days inclusive is the limit, accepted.
      expect((await get(path(coach, `start_date=${day(1)}&end_date=${day(31)}`))).status).toBe(200);
    });

    it("404: unknown coach, inactive coach, a user who is not a coach", async () => {
      const [coach, client] = await Promise.all([createCoach(), createClient()]);
      expectEnvelope(await get(path({ id: crypto.randomUUID() })), 404, "NOT_FOUND");
      expectEnvelope(await get(path(client)), 404, "NOT_FOUND");
      await query(`UPDATE users SET is_active = false WHERE id = $1`, [coach.id]);
      expectEnvelope(await get(path(coach)), 404, "NOT_FOUND");
    });
  });

  describe("security", () => {
    it("reveals no bookings: slots only, no client ids or notes", async () => {
      const [coach, client] = await Promise.all([createCoach(), createClient()]);
      const start = new Date(Date.now() + 2 * DAY);
      start.setUTCHours(9, 0, 0, 0);
      await post(
        "/booking",
        { coach_id: coach.id, session_datetime: start.toISOString(), duration_minutes: 60, notes: "secret note" },
        { token: client.token },
      );
      const result = await get(path(coach, `start_date=${day(1)}&end_date=${day(3)}`));
      expect(result.text).not.toContain(client.id);
      expect(result.text).not.toContain("secret note");
      expect(Object.keys(result.body).sort()).toEqual(["available_slots", "coach_id", "duration_minutes", "timezone"]);
    });
  });

  describe("property: listed == bookable", () => {
    const ZONES = [
      // zone, range start (local dates), a moved server clock before it: ranges cross the DST change
      { zone: "Europe/Madrid", first: "2027-03-27", last: "2027-03-29" },
      { zone: "Europe/Madrid", first: "2027-10-30", last: "2027-11-01" },
      { zone: "America/New_York", first: "2027-03-13", last: "2027-03-15" },
      { zone: "America/New_York", first: "2027-11-06", last: "2027-11-08" },
      { zone: "Asia/Kolkata", first: "2027-01-10", last: "2027-01-12" },
      { zone: "Pacific/Auckland", first: "2027-04-03", last: "2027-04-05" },
      { zone: "Pacific/Auckland", first: "2026-12-31", last: "2027-01-02" },
    ];
    const windowText = fc.tuple(fc.integer({ min: 0, max: 44 }), fc.integer({ min: 1, max: 8 })).map(([start, length]) => {
      const hhmm = (half: number) => `${String(Math.floor(half / 2)).padStart(2, "0")}:${half % 2 ? "30" : "00"}`;
      return `${hhmm(start)}-${hhmm(Math.min(48, start + length))}`;
    });
    const week = fc.record({
      monday: fc.array(windowText, { maxLength: 1 }),
      tuesday: fc.array(windowText, { maxLength: 1 }),
      wednesday: fc.array(windowText, { maxLength: 1 }),
      thursday: fc.array(windowText, { maxLength: 1 }),
      friday: fc.array(windowText, { maxLength: 1 }),
      saturday: fc.array(windowText, { maxLength: 1 }),
      sunday: fc.array(windowText, { maxLength: 1 }),
    });

    it("every listed slot is accepted by POST /booking on a fresh coach; nothing outside the windows is listed", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ZONES),
          week,
          fc.constantFrom(30, 60, 90),
          fc.nat(),
          async (scenario, windows, duration, seed) => {
            const availability = { timezone: scenario.zone, ...windows };
            const coach = await createCoach({ availability });
            const now = new Date(Date.parse(`${scenario.first}T00:00:00Z`) - 2 * DAY);
            const result = await get(
              path(coach, `start_date=${scenario.first}&end_date=${scenario.last}&duration_minutes=${duration}`),
              { now },
            );
            expect(result.status).toBe(200);
            const slots = result.body.available_slots as Json[];
            for (const slot of slots) expect(insideOneWindow(availability, scenario.zone, slot), slot.start).toBe(true);
            expect(new Set(slots.map((slot) => slot.start)).size).toBe(slots.length);
            // Book up to three listed slots (each with a fresh client, cancelled after: the coach stays fresh).
            const picks = slots.length === 0 ? [] : [0, 1, 2].map((i) => slots[(seed + i * 7) % slots.length]);
            for (const slot of new Set(picks)) {
              const client = await createClient();
              const booked = await post(
                "/booking",
                { coach_id: coach.id, session_datetime: slot.start, duration_minutes: duration },
                await at(client, now),
              );
              expect(booked.status, `${scenario.zone} ${slot.start}: ${booked.text}`).toBe(201);
              expect((await del(`/booking/${booked.body.id}`, await at(client, now))).status).toBe(204);
            }
          },
        ),
        { numRuns: 14 },
      );
    }, 600_000);
  });
});
