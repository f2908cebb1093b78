/**
 * The parts of the booking lifecycle that no HTTP route starts: the cron
 * sweep of stale unpaid bookings and account deletion's cancellations. The
 * services run here in Node on the same database (through the same Neon
 * driver and WebSocket proxy the Worker uses) and the same fake Stripe.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, type DatabaseSession } from "../../src/db/client.ts";
import { type Bindings, type ServiceEnv, serviceEnvOf } from "../../src/env.ts";
import { createLog } from "../../src/lib/log.ts";
import { cancelFutureBookingsOfUser } from "../../src/services/booking-cancellation.ts";
import { completePendingRefunds } from "../../src/services/payment-followups.ts";
import { releaseStalePendingBookings } from "../../src/services/payments.ts";
import { del, get, post } from "../helpers/api.ts";
import { book, checkout, confirmedBooking, deliver, HOUR, paidSessionEvent, slot, stripeUrl } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { fakeStripeRequests, setFakeStripeMode } from "../helpers/fake-stripe.ts";
import { createClient, createCoach, type TestUser } from "../helpers/fixtures.ts";
import { TEST_STRIPE_KEY } from "../helpers/stack.ts";

let session: DatabaseSession;
// The services need only these bindings here; no queue: emails stay recorded in the outbox.
let env: ServiceEnv;

beforeAll(() => {
  session = createDatabase({ DATABASE_URL: inject("databaseUrl"), WS_PROXY: inject("proxyUrl") });
  env = serviceEnvOf(
    {
      ENVIRONMENT: "test",
      DATABASE_URL: inject("databaseUrl"),
      WS_PROXY: inject("proxyUrl"),
      STRIPE_SECRET_KEY: TEST_STRIPE_KEY,
      STRIPE_API_BASE: stripeUrl(),
    } as Bindings,
    () => {},
    createLog(),
  );
});
afterAll(async () => {
  await session.end();
  await closeTestPool();
});

async function status(bookingId: string): Promise<string | undefined> {
  const [row] = await query<{ status: string }>(`SELECT status FROM bookings WHERE id = $1`, [bookingId]);
  return row?.status;
}

/** Makes a booking look as if it had been created `minutes` ago. */
async function age(bookingId: string, minutes: number): Promise<void> {
  await query(`UPDATE bookings SET created_at = now() - make_interval(mins => $2) WHERE id = $1`, [bookingId, minutes]);
}

async function paidStatus(bookingId: string): Promise<string | undefined> {
  const [payment] = await query<{ status: string }>(`SELECT status FROM payments WHERE booking_id = $1 AND paid_at IS NOT NULL`, [
    bookingId,
  ]);
  return payment?.status;
}

async function subjectsTo(user: TestUser): Promise<string[]> {
  return (await get(`/dev/emails?to=${encodeURIComponent(user.email)}`)).body.items.map(
    (mail: { subject: string }) => mail.subject,
  );
}

describe("cron: stale pending bookings", () => {
  it("cancels a booking whose checkout expired without an event, fails the payment and frees the slot", async () => {
    const [client, coach, other] = await Promise.all([createClient(), createCoach(), createClient()]);
    const booking = await book(client, coach, slot(6));
    await checkout(client, booking.id);
    await age(booking.id, 45);
    await query(`UPDATE payments SET expires_at = now() - interval '5 minutes' WHERE booking_id = $1`, [booking.id]);

    expect(await releaseStalePendingBookings(session.db, env, new Date(), { coachId: coach.id })).toBe(1);
    expect(await status(booking.id)).toBe("cancelled");
    const [payment] = await query<{ status: string }>(`SELECT status FROM payments WHERE booking_id = $1`, [booking.id]);
    expect(payment?.status).toBe("failed");
    expect(await subjectsTo(client)).toContain("Your CultureBridge session was cancelled");
    const rebook = await post(
      "/booking",
      { coach_id: coach.id, session_datetime: booking.session_datetime, duration_minutes: 60 },
      { token: other.token },
    );
    expect(rebook.status).toBe(201);
    // A second sweep finds nothing more.
    expect(await releaseStalePendingBookings(session.db, env, new Date(), { coachId: coach.id })).toBe(0);
  });

  it("releases a hold nobody started paying for after 30 minutes, not before", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const fresh = await book(client, coach, slot(6));
    const old = await book(client, coach, slot(7));
    await age(fresh.id, 10);
    await age(old.id, 31);
    expect(await releaseStalePendingBookings(session.db, env, new Date(), { coachId: coach.id })).toBe(1);
    expect(await status(old.id)).toBe("cancelled");
    expect(await status(fresh.id)).toBe("pending");
  });

  it("keeps bookings with an open checkout, a confirmed one, and one with money under review", async () => {
    const [client, coach, payer, flagged] = await Promise.all([createClient(), createCoach(), createClient(), createClient()]);
    const open = await book(client, coach, slot(6));
    await checkout(client, open.id);
    await age(open.id, 45);

    const { booking: confirmed } = await confirmedBooking(payer, coach, slot(7));
    await age(confirmed.id, 45);

    const review = await book(flagged, coach, slot(8));
    const reviewSession = await checkout(flagged, review.id);
    expect((await deliver(await paidSessionEvent(reviewSession.session_id, { amount_total: 1 }))).status).toBe(200);
    await age(review.id, 45);
    await query(`UPDATE payments SET expires_at = now() - interval '1 minute' WHERE booking_id = $1`, [review.id]);

    expect(await releaseStalePendingBookings(session.db, env, new Date(), { coachId: coach.id })).toBe(0);
    expect(await status(open.id)).toBe("pending");
    expect(await status(confirmed.id)).toBe("confirmed");
    expect(await status(review.id)).toBe("pending");
  });
});

describe("account deletion: cancelFutureBookingsOfUser", () => {
  it("the client deletes >= 24 h ahead: every future booking cancelled, paid ones refunded, only the coach notified", async () => {
    const [client, coachA, coachB] = await Promise.all([createClient(), createCoach(), createCoach()]);
    const { booking: paid, event } = await confirmedBooking(client, coachA, slot(5));
    const unpaid = await book(client, coachB, slot(6));
    const count = await cancelFutureBookingsOfUser(session.db, env, { userId: client.id, byAdmin: false, now: new Date() });
    expect(count).toBe(2);
    expect(await status(paid.id)).toBe("cancelled");
    expect(await status(unpaid.id)).toBe("cancelled");
    // Refunds are made after each cancellation committed (docs/PAYMENTS.md).
    await eventually(async () => expect(await paidStatus(paid.id)).toBe("refunded"));
    const refunds = (await fakeStripeRequests(stripeUrl())).filter(
      (request) => request.path === "/v1/refunds" && request.body.payment_intent === event.data.object.payment_intent,
    );
    expect(refunds).toHaveLength(1);
    expect((await subjectsTo(coachA)).filter((subject) => subject.includes("cancelled"))).toHaveLength(1);
    expect((await subjectsTo(client)).filter((subject) => subject.includes("cancelled"))).toHaveLength(0);
  });

  it("the client deletes < 24 h ahead: cancelled without refund; past and completed bookings are left alone", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const start = slot(3);
    const { booking } = await confirmedBooking(client, coach, start);
    const count = await cancelFutureBookingsOfUser(session.db, env, {
      userId: client.id,
      byAdmin: false,
      now: new Date(start.getTime() - 2 * HOUR),
    });
    expect(count).toBe(1);
    const [payment] = await query<{ status: string }>(
      `SELECT status FROM payments WHERE booking_id = $1 AND paid_at IS NOT NULL`,
      [booking.id],
    );
    expect(payment?.status).toBe("succeeded");
    // Nothing left in the future: a second run cancels nothing.
    expect(await cancelFutureBookingsOfUser(session.db, env, { userId: client.id, byAdmin: false, now: new Date() })).toBe(0);
  });

  it("the coach deletes (or an admin deletes the client) late: full refund", async () => {
    const [client, coach, client2, coach2] = await Promise.all([createClient(), createCoach(), createClient(), createCoach()]);
    const start = slot(3);
    const { booking } = await confirmedBooking(client, coach, start);
    expect(
      await cancelFutureBookingsOfUser(session.db, env, {
        userId: coach.id,
        byAdmin: false,
        now: new Date(start.getTime() - HOUR),
      }),
    ).toBe(1);
    await eventually(async () => expect(await paidStatus(booking.id)).toBe("refunded"));
    expect((await subjectsTo(client)).some((subject) => subject.includes("cancelled"))).toBe(true);

    const { booking: second } = await confirmedBooking(client2, coach2, start);
    expect(
      await cancelFutureBookingsOfUser(session.db, env, {
        userId: client2.id,
        byAdmin: true,
        now: new Date(start.getTime() - HOUR),
      }),
    ).toBe(1);
    await eventually(async () => expect(await paidStatus(second.id)).toBe("refunded"));
  });
});

describe("cron: refunds whose call after the commit failed", () => {
  it("pending_refunds makes the recorded refund again with the same key, once it is 5 minutes old", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const { booking, event } = await confirmedBooking(client, coach, slot(5));
    const intent = event.data.object.payment_intent as string;
    const refundCalls = async () =>
      (await fakeStripeRequests(stripeUrl())).filter(
        (request) => request.path === "/v1/refunds" && request.body.payment_intent === intent,
      );
    await setFakeStripeMode(stripeUrl(), { mode: "error", match: intent });
    try {
      expect((await del(`/booking/${booking.id}`, { token: coach.token })).status).toBe(204);
      await eventually(async () => expect((await refundCalls()).length).toBeGreaterThan(0));
    } finally {
      await setFakeStripeMode(stripeUrl(), {});
    }
    expect(await paidStatus(booking.id)).toBe("succeeded");
    // Too fresh: the cron leaves it (the call after the commit may still be under way).
    await completePendingRefunds(session.db, env, new Date());
    expect(await paidStatus(booking.id)).toBe("succeeded");
    const later = new Date(Date.now() + 6 * 60_000);
    expect(await completePendingRefunds(session.db, env, later)).toBeGreaterThanOrEqual(1);
    expect(await paidStatus(booking.id)).toBe("refunded");
    // Every attempt carried the payment's key: Stripe refunds once.
    const calls = await refundCalls();
    expect(new Set(calls.map((request) => request.idempotencyKey)).size).toBe(1);
    // Done: a later run does not ask again.
    await completePendingRefunds(session.db, env, later);
    expect(await refundCalls()).toHaveLength(calls.length);
  });
});
