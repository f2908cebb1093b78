/**
 * Stripe failing in the ways that cost money or availability:
 * - its answer to "create a Checkout Session" is lost and the client retries
 *   (issue 19): the retry gets the same session, and events of any other
 *   session of the same booking never touch the live attempt;
 * - it hangs: no transaction or row lock is held meanwhile, so other requests
 *   for the same booking and /health answer at once (on the embedded database
 *   too, where an open transaction would stall every connection).
 * Runs on both databases (no concurrency beyond one hanging request).
 */
import { afterAll, describe, expect, it } from "vitest";
import { del, get, post } from "../helpers/api.ts";
import { book, checkout, deliver, paidSessionEvent, slot, stripeUrl } from "../helpers/booking-flow.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { fakeStripeRequests, setFakeStripeMode, stripeEvent } from "../helpers/fake-stripe.ts";
import { createClient, createCoach } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

interface Row {
  id: string;
  status: string;
  stripe_session_id: string | null;
}

const paymentsOf = (bookingId: string) =>
  query<Row & Record<string, unknown>>(
    `SELECT id, status, stripe_session_id FROM payments WHERE booking_id = $1 ORDER BY created_at`,
    [bookingId],
  );

async function sessionsCreatedFor(bookingId: string) {
  return (await fakeStripeRequests(stripeUrl())).filter(
    (request) =>
      request.path === "/v1/checkout/sessions" && (request.body.metadata as { booking_id?: string })?.booking_id === bookingId,
  );
}

describe("issue 19: a lost Checkout answer, then a retry", () => {
  it("the retry gets the very session Stripe made (same key); a stray session's events never touch the live one", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(6));
    // Stripe makes the session, but its answer never arrives (twice: the SDK retries once).
    await setFakeStripeMode(stripeUrl(), { mode: "lose", match: booking.id });
    try {
      const lost = await post("/payment/checkout", { booking_id: booking.id }, { token: client.token });
      expect(lost.status).toBe(503);
    } finally {
      await setFakeStripeMode(stripeUrl(), { mode: "ok" });
    }
    const retry = await post("/payment/checkout", { booking_id: booking.id }, { token: client.token });
    expect(retry.status).toBe(200);
    const calls = await sessionsCreatedFor(booking.id);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(new Set(calls.map((call) => call.idempotencyKey)).size).toBe(1);
    // Recorded after the response; the impostor check below needs the live session id stored.
    await eventually(async () => expect((await paymentsOf(booking.id))[0]?.stripe_session_id).toBe(retry.body.session_id));
    const rows = await paymentsOf(booking.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "pending", stripe_session_id: retry.body.session_id });

    // Thirty minutes later, events of ANOTHER session of this booking (e.g. one an older build
    // opened and lost) arrive: matched by booking id they would fail the live attempt and
    // cancel the booking. They are not this payment's, so nothing changes.
    const stray = {
      id: "cs_test_stray_session",
      object: "checkout.session",
      status: "expired",
      payment_status: "unpaid",
      client_reference_id: booking.id,
      metadata: { booking_id: booking.id, payment_id: crypto.randomUUID() },
    };
    expect((await deliver(stripeEvent("checkout.session.expired", stray))).status).toBe(200);
    // Even carrying the live payment's id, a different session is not the live one.
    const impostor = { ...stray, id: "cs_test_other_session", metadata: { booking_id: booking.id, payment_id: rows[0]?.id } };
    expect((await deliver(stripeEvent("checkout.session.expired", impostor))).status).toBe(200);
    expect((await paymentsOf(booking.id))[0]).toMatchObject({ status: "pending", stripe_session_id: retry.body.session_id });
    expect((await get(`/booking/${booking.id}`, { token: client.token })).body.status).toBe("pending");

    // The live session's own expiry does apply.
    const own = { ...stray, id: retry.body.session_id, metadata: { booking_id: booking.id, payment_id: rows[0]?.id } };
    expect((await deliver(stripeEvent("checkout.session.expired", own))).status).toBe(200);
    expect((await paymentsOf(booking.id))[0]?.status).toBe("failed");
    expect((await get(`/booking/${booking.id}`, { token: client.token })).body.status).toBe("cancelled");
  });
});

describe("a hanging Stripe holds nothing", () => {
  it("while checkout waits on Stripe, the same booking can be read and cancelled and /health answers, at once", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(6));
    await setFakeStripeMode(stripeUrl(), { mode: "hang", match: booking.id });
    try {
      const pending = post("/payment/checkout", { booking_id: booking.id }, { token: client.token });
      // Stripe has the request (the intent is committed) and does not answer.
      await eventually(async () => expect((await sessionsCreatedFor(booking.id)).length).toBeGreaterThanOrEqual(1));
      const timed = async (run: () => Promise<{ status: number }>) => {
        const started = Date.now();
        const result = await run();
        return { status: result.status, ms: Date.now() - started };
      };
      const read = await timed(() => get(`/booking/${booking.id}`, { token: client.token }));
      const health = await timed(() => get("/health"));
      // Cancelling also expires the open attempt at Stripe -- after the response, so it does not wait either.
      const cancel = await timed(() => del(`/booking/${booking.id}`, { token: client.token }));
      expect(read).toMatchObject({ status: 200 });
      expect(health).toMatchObject({ status: 200 });
      expect(cancel).toMatchObject({ status: 204 });
      for (const answer of [read, health, cancel]) expect(answer.ms).toBeLessThan(3_000);
      // The checkout gives up on Stripe (SDK timeout, one retry): 503, the intent marked failed by the cancellation.
      const answered = await pending;
      expect(answered.status).toBe(503);
      expect((await paymentsOf(booking.id))[0]?.status).toBe("failed");
    } finally {
      await setFakeStripeMode(stripeUrl(), { mode: "ok" });
    }
  }, 60_000);
});

describe("a cancellation while Stripe makes the session", () => {
  it("the checkout still answers its session, which is then expired at Stripe and never reopens the booking", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(6));
    await setFakeStripeMode(stripeUrl(), { mode: "slow", delayMs: 1500, match: booking.id });
    try {
      const pending = post("/payment/checkout", { booking_id: booking.id }, { token: client.token });
      // The intent is committed and Stripe is working on the session: the client cancels.
      await eventually(async () => expect((await sessionsCreatedFor(booking.id)).length).toBeGreaterThanOrEqual(1));
      expect((await del(`/booking/${booking.id}`, { token: client.token })).status).toBe(204);
      const answered = await pending;
      expect(answered.status).toBe(200);
      const sessionId = answered.body.session_id as string;
      // The session is recorded after the response; the cancelled intent makes that step expire it.
      await eventually(async () =>
        expect(
          (await fakeStripeRequests(stripeUrl())).filter(
            (request) => request.path === `/v1/checkout/sessions/${sessionId}/expire`,
          ),
        ).toHaveLength(1),
      );
      const [payment] = await paymentsOf(booking.id);
      expect(payment).toMatchObject({ status: "failed", stripe_session_id: sessionId });
      expect((await get(`/booking/${booking.id}`, { token: client.token })).body.status).toBe("cancelled");
    } finally {
      await setFakeStripeMode(stripeUrl(), { mode: "ok" });
    }
  }, 30_000);
});

describe("different events for one payment at the same moment (real Postgres)", () => {
  it.runIf(isRealPostgres())(
    "completed and payment_intent.succeeded, 6 of each with their own ids, concurrently: confirmed once, one email each",
    async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const booking = await book(client, coach, slot(6));
      const session = await checkout(client, booking.id);
      const completed = await paidSessionEvent(session.session_id);
      const object = completed.data.object;
      const succeeded = stripeEvent("payment_intent.succeeded", {
        id: object.payment_intent,
        object: "payment_intent",
        amount: object.amount_total,
        amount_received: object.amount_total,
        currency: object.currency,
        status: "succeeded",
        metadata: object.metadata,
      });
      const deliveries = Array.from({ length: 6 }, () => [
        deliver({ ...completed, id: `evt_c_${crypto.randomUUID()}` }),
        deliver({ ...succeeded, id: `evt_pi_${crypto.randomUUID()}` }),
      ]).flat();
      const results = await Promise.all(deliveries);
      expect(results.map((result) => result.status)).toEqual(results.map(() => 200));
      const [row] = await query<{ status: string; sequence: number }>(`SELECT status, sequence FROM bookings WHERE id = $1`, [
        booking.id,
      ]);
      expect(row).toEqual({ status: "confirmed", sequence: 1 });
      expect((await paymentsOf(booking.id))[0]?.status).toBe("succeeded");
      const confirmations = await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM email_outbox WHERE to_address = $1 AND subject LIKE '%confirmed%' AND body LIKE '%' || $2 || '%'`,
        [client.email, booking.id],
      );
      expect(confirmations[0]?.n).toBe(1);
    },
  );
});
