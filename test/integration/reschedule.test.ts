/**
 * POST /booking/{id}/reschedule (contract v2) over HTTP against the Worker:
 * the rules of POST /booking, the 24 h rule for clients, the history in
 * GET /booking/{id}, the emails, the calendar event (same UID, higher
 * SEQUENCE), and races on real Postgres.
 */
import { afterAll, describe, expect, it } from "vitest";
import { expectEnvelope, get, type Json, patch, post } from "../helpers/api.ts";
import { book, confirmedBooking, HOUR, slot } from "../helpers/booking-flow.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { accessToken, createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const iso = (date: Date) => date.toISOString().replace(".000Z", "Z");
const reschedule = (bookingId: string, start: Date, options: { token: string; now?: Date }) =>
  post(`/booking/${bookingId}/reschedule`, { session_datetime: start.toISOString() }, options);

async function at(user: TestUser, now: Date) {
  return { token: await accessToken(user.id, user.role, now), now };
}

async function mails(user: TestUser): Promise<Json[]> {
  return (await get(`/dev/emails?to=${encodeURIComponent(user.email)}`)).body.items;
}

function icsEvent(feed: string, bookingId: string): { uid: string; sequence: number; start: string } {
  const block = feed.split("BEGIN:VEVENT").find((part) => part.includes(`UID:${bookingId}@culturebridge`));
  if (!block) throw new Error(`no event for ${bookingId}`);
  return {
    uid: /UID:(.+)/.exec(block)?.[1]?.trim() ?? "",
    sequence: Number(/SEQUENCE:(\d+)/.exec(block)?.[1]),
    start: /DTSTART[^:]*:(\S+)/.exec(block)?.[1] ?? "",
  };
}

describe("POST /booking/{id}/reschedule", () => {
  describe("happy", () => {
    it("the client >= 24 h ahead: same id, status and payment, new time; history, emails, calendar event moved", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const { booking } = await confirmedBooking(client, coach, slot(5, 10));
      const feed = await post("/calendar/feed-token", undefined, { token: client.token });
      const feedPath = new URL(feed.body.feed_url).pathname;
      const before = icsEvent((await get(feedPath)).text, booking.id);
      const paymentBefore = (await get(`/booking/${booking.id}`, { token: client.token })).body.payment_id;

      const target = slot(6, 15, 30);
      const result = await reschedule(booking.id, target, { token: client.token });
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({
        id: booking.id,
        status: "confirmed",
        session_datetime: iso(target),
        duration_minutes: 60,
      });
      expect(result.body.payment_id).toBe(paymentBefore);

      const read = await get(`/booking/${booking.id}`, { token: coach.token });
      expect(read.body.reschedules).toHaveLength(1);
      expect(read.body.reschedules[0]).toMatchObject({
        old_session_datetime: iso(slot(5, 10)),
        new_session_datetime: iso(target),
        rescheduled_by: client.id,
        rescheduled_by_role: "client",
      });
      expect(read.body.reschedules[0].created_at).toMatch(/Z$/);

      for (const user of [client, coach]) {
        const subjects = (await mails(user)).map((mail) => mail.subject as string);
        expect(subjects.some((subject) => subject.startsWith("Rescheduled: "))).toBe(true);
      }
      const after = icsEvent((await get(feedPath)).text, booking.id);
      expect(after.uid).toBe(before.uid);
      expect(after.sequence).toBeGreaterThan(before.sequence);
      expect(after.start).not.toBe(before.start);
      // The old slot is free again: another client can book it.
      const other = await createClient();
      expect((await book(other, coach, slot(5, 10))).status).toBe("pending");
    });

    it("the coach and an admin may move it at any time, also within 24 h; several moves are all listed, oldest first", async () => {
      const [client, coach, admin] = await Promise.all([createClient(), createCoach(), createUser("admin")]);
      const start = slot(3, 9);
      const booking = await book(client, coach, start);
      const late = new Date(start.getTime() - 2 * HOUR);
      const first = await reschedule(booking.id, slot(3, 12), await at(coach, late));
      expect(first.status).toBe(200);
      // A minute later: the history is ordered by when each move happened (the request's clock).
      const second = await reschedule(booking.id, slot(3, 14), await at(admin, new Date(late.getTime() + 60_000)));
      expect(second.status).toBe(200);
      expect(second.body.status).toBe("pending");
      const history = (await get(`/booking/${booking.id}`, { token: admin.token })).body.reschedules as Json[];
      expect(history.map((entry) => [entry.rescheduled_by_role, entry.new_session_datetime])).toEqual([
        ["coach", iso(slot(3, 12))],
        ["admin", iso(slot(3, 14))],
      ]);
    });

    it("may overlap its own current time (the same row moves)", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const booking = await book(client, coach, slot(8, 10), 90);
      const result = await reschedule(booking.id, slot(8, 10, 30), { token: client.token });
      expect(result.status).toBe(200);
      expect(result.body.duration_minutes).toBe(90);
    });
  });

  describe("errors", () => {
    it("409: the client within 24 h; a slot taken by the coach's or the client's other booking; outside availability", async () => {
      const [client, coach, rival] = await Promise.all([
        createClient(),
        createCoach({
          availability: {
            timezone: "UTC",
            monday: ["08:00-18:00"],
            tuesday: ["08:00-18:00"],
            wednesday: ["08:00-18:00"],
            thursday: ["08:00-18:00"],
            friday: ["08:00-18:00"],
            saturday: ["08:00-18:00"],
            sunday: ["08:00-18:00"],
          },
        }),
        createClient(),
      ]);
      const start = slot(4, 10);
      const booking = await book(client, coach, start);
      const tooLate = await reschedule(booking.id, slot(4, 14), await at(client, new Date(start.getTime() - 23 * HOUR)));
      expect(expectEnvelope(tooLate, 409, "CONFLICT").details.reason).toBe("reschedule_too_late");

      await book(rival, coach, slot(4, 15));
      const taken = await reschedule(booking.id, slot(4, 15, 30), { token: client.token });
      expect(expectEnvelope(taken, 409, "CONFLICT").details.reason).toBe("coach_slot_taken");

      const otherCoach = await createCoach();
      await book(client, otherCoach, slot(4, 16));
      const own = await reschedule(booking.id, slot(4, 16), { token: client.token });
      expect(expectEnvelope(own, 409, "CONFLICT").details.reason).toBe("client_overlap");

      const outside = await reschedule(booking.id, slot(4, 17, 30), { token: client.token });
      expect(expectEnvelope(outside, 409, "CONFLICT").details.reason).toBe("outside_availability");
      // Nothing moved.
      expect((await get(`/booking/${booking.id}`, { token: client.token })).body.session_datetime).toBe(iso(start));
    });

    it("400: past time, same time, malformed body, a cancelled or completed booking", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const booking = await book(client, coach, slot(6, 10));
      expectEnvelope(await reschedule(booking.id, new Date(Date.now() - HOUR), { token: client.token }), 400, "VALIDATION_ERROR");
      expectEnvelope(await reschedule(booking.id, slot(6, 10), { token: client.token }), 400, "VALIDATION_ERROR");
      for (const body of [
        {},
        { session_datetime: "soon" },
        { session_datetime: "0001-01-01T00:00:00Z" },
        { session_datetime: slot(7).toISOString(), duration_minutes: 30 },
      ]) {
        expectEnvelope(await post(`/booking/${booking.id}/reschedule`, body, { token: client.token }), 400, "VALIDATION_ERROR");
      }
      await patch(`/booking/${booking.id}/status`, { status: "cancelled" }, { token: client.token });
      expectEnvelope(await reschedule(booking.id, slot(7), { token: client.token }), 400, "VALIDATION_ERROR");
      expectEnvelope(await reschedule(crypto.randomUUID(), slot(7), { token: client.token }), 404, "NOT_FOUND");
    });
  });

  describe("security", () => {
    it("401 anonymous, 403 strangers (another client, another coach), 404 unknown", async () => {
      const [client, coach, stranger, otherCoach] = await Promise.all([
        createClient(),
        createCoach(),
        createClient(),
        createCoach(),
      ]);
      const booking = await book(client, coach, slot(9));
      expectEnvelope(
        await post(`/booking/${booking.id}/reschedule`, { session_datetime: slot(10).toISOString() }),
        401,
        "UNAUTHORIZED",
      );
      expectEnvelope(await reschedule(booking.id, slot(10), { token: stranger.token }), 403, "FORBIDDEN");
      expectEnvelope(await reschedule(booking.id, slot(10), { token: otherCoach.token }), 403, "FORBIDDEN");
      expect((await get(`/booking/${booking.id}`, { token: client.token })).body.reschedules).toEqual([]);
    });
  });

  describe("concurrency (real Postgres)", () => {
    it.runIf(isRealPostgres())(
      "two bookings moved to the same slot at once, and a new booking for it: exactly one wins",
      async () => {
        const coach = await createCoach();
        const [a, b, c] = await Promise.all([createClient(), createClient(), createClient()]);
        const [first, second] = await Promise.all([book(a, coach, slot(12, 9)), book(b, coach, slot(12, 11))]);
        const target = slot(12, 15);
        const results = await Promise.all([
          reschedule(first.id, target, { token: a.token }),
          reschedule(second.id, new Date(target.getTime() + 30 * 60_000), { token: b.token }),
          post(
            "/booking",
            {
              coach_id: coach.id,
              session_datetime: new Date(target.getTime() + 30 * 60_000).toISOString(),
              duration_minutes: 30,
            },
            { token: c.token },
          ),
        ]);
        const ok = results.filter((result) => result.status === 200 || result.status === 201);
        expect(ok).toHaveLength(1);
        for (const result of results.filter((r) => r.status === 409))
          expect(expectEnvelope(result, 409, "CONFLICT").details.reason).toBe("coach_slot_taken");
        const overlapping = await query(
          `SELECT a.id FROM bookings a JOIN bookings b ON a.coach_id = b.coach_id AND a.id < b.id
          WHERE a.coach_id = $1 AND a.status IN ('pending','confirmed') AND b.status IN ('pending','confirmed')
            AND booking_period(a.session_datetime, a.duration_minutes) && booking_period(b.session_datetime, b.duration_minutes)`,
          [coach.id],
        );
        expect(overlapping).toEqual([]);
      },
    );
  });
});
