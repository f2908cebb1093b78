/**
 * POST /booking in one round trip when the Worker read the coach shortly before (the free-slot
 * listing or an earlier booking: services/bookable-coach-memo.ts), and the same answers as the
 * two-round-trip path when what it read has changed since -- the facts are re-checked inside
 * the transaction (booking_create_known_coach(), migration 0016). The changes below are made by
 * SQL, behind the Worker's back, so that its memo is stale for sure.
 */
import { afterAll, describe, expect, it } from "vitest";
import { type CallResult, get, post } from "../helpers/api.ts";
import { slot } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach, type TestUser, WEEK_AVAILABILITY } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const roundTrips = (result: CallResult) => Number(result.headers.get("x-db-queries"));

/** The next start, at least 3 days ahead, on that UTC weekday (0 = Sunday) at 10:00 UTC. */
function nextWeekday(weekday: number): Date {
  for (let days = 3; ; days++) {
    const start = slot(days, 10);
    if (start.getUTCDay() === weekday) return start;
  }
}

async function viewFreeSlots(client: TestUser, coachRef: string) {
  const view = await get(`/booking/coach/${coachRef}/availability?duration_minutes=60`, { token: client.token });
  expect(view.status).toBe(200);
  return view;
}

const requestBooking = (client: TestUser, coachRef: string, start: Date) =>
  post("/booking", { coach_id: coachRef, session_datetime: start.toISOString(), duration_minutes: 60 }, { token: client.token });

async function bookingsOf(coach: TestUser): Promise<number> {
  const [row] = await query<{ n: number }>(`select count(*)::int as n from bookings where coach_id = $1`, [coach.id]);
  return row?.n ?? 0;
}

describe("POST /booking after the Worker read the coach", () => {
  it("is one round trip after the free-slot view, and a second client's overlap is still a 409 with its reason", async () => {
    const coach = await createCoach();
    const first = await createClient();
    const second = await createClient();
    await viewFreeSlots(first, coach.id);
    const start = slot(6, 10);

    const created = await requestBooking(first, coach.id, start);
    expect(created.status).toBe(201);
    expect(roundTrips(created)).toBe(1);

    const clash = await requestBooking(second, coach.id, start);
    expect(clash.status).toBe(409);
    expect(clash.body.error.details.reason).toBe("coach_slot_taken");
    expect(roundTrips(clash)).toBe(1);
    expect(await bookingsOf(coach)).toBe(1);
  });

  it("remembers the coach under the profile id and the user id", async () => {
    const coach = await createCoach();
    const client = await createClient();
    await viewFreeSlots(client, coach.profileId as string);
    const created = await requestBooking(client, coach.id, slot(7, 11));
    expect(created.status).toBe(201);
    expect(roundTrips(created)).toBe(1);
  });

  it("availability narrowed since the read: 409 outside_availability, nothing booked", async () => {
    const coach = await createCoach();
    const client = await createClient();
    await viewFreeSlots(client, coach.id);
    await query(`update coach_profiles set availability = $2 where user_id = $1`, [
      coach.id,
      JSON.stringify({ timezone: "UTC", monday: ["09:00-12:00"] }),
    ]);

    const refused = await requestBooking(client, coach.id, nextWeekday(2));
    expect(refused.status).toBe(409);
    expect(refused.body.error.details.reason).toBe("outside_availability");
    expect(roundTrips(refused)).toBe(2); // the stale attempt, then the coach read; no write
    expect(await bookingsOf(coach)).toBe(0);
  });

  it("availability widened since the read: a time outside the remembered windows is judged on a fresh read", async () => {
    const coach = await createCoach({ availability: { timezone: "UTC", monday: ["09:00-12:00"] } });
    const client = await createClient();
    await viewFreeSlots(client, coach.id);
    await query(`update coach_profiles set availability = $2 where user_id = $1`, [coach.id, JSON.stringify(WEEK_AVAILABILITY)]);

    const created = await requestBooking(client, coach.id, nextWeekday(2));
    expect(created.status).toBe(201);
    expect(roundTrips(created)).toBe(2);
  });

  it("coach deactivated since the read: 404", async () => {
    const coach = await createCoach();
    const client = await createClient();
    await viewFreeSlots(client, coach.id);
    await query(`update users set is_active = false where id = $1`, [coach.id]);

    const refused = await requestBooking(client, coach.id, slot(8, 10));
    expect(refused.status).toBe(404);
    expect(await bookingsOf(coach)).toBe(0);
  });

  it("hourly rate removed since the read: 409 coach_has_no_rate", async () => {
    const coach = await createCoach();
    const client = await createClient();
    await viewFreeSlots(client, coach.id);
    await query(`update coach_profiles set hourly_rate = null where user_id = $1`, [coach.id]);

    const refused = await requestBooking(client, coach.id, slot(9, 10));
    expect(refused.status).toBe(409);
    expect(refused.body.error.details.reason).toBe("coach_has_no_rate");
    expect(await bookingsOf(coach)).toBe(0);
  });

  it("a past start is still a 400, whatever is remembered", async () => {
    const coach = await createCoach();
    const client = await createClient();
    await viewFreeSlots(client, coach.id);
    const past = await requestBooking(client, coach.id, new Date(Date.now() - 3_600_000));
    expect(past.status).toBe(400);
    expect(await bookingsOf(coach)).toBe(0);
  });
});
