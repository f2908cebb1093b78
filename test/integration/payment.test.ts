import { afterAll, describe, expect, inject, it } from "vitest";
import { type CallResult, del, expectEnvelope, get, type Json, post } from "../helpers/api.ts";
import { book, checkout, confirmedBooking, deliver, HOUR, paidSessionEvent, slot, stripeUrl } from "../helpers/booking-flow.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { eventually } from "../helpers/eventually.ts";
import {
  completeFakeSession,
  fakeStripeRequests,
  fakeStripeSession,
  setFakeStripeMode,
  stripeEvent,
  stripeSignature,
} from "../helpers/fake-stripe.ts";
import { createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";
import { startTestWorker, TEST_WEBHOOK_SECRET } from "../helpers/stack.ts";

afterAll(closeTestPool);

interface PaymentRow {
  id: string;
  status: string;
  amount: string;
  currency: string;
  stripe_session_id: string | null;
  stripe_payment_intent_id: string | null;
  checkout_url: string | null;
  expires_at: Date | null;
  paid_at: Date | null;
  refunded_at: Date | null;
  received_amount: string | null;
  received_currency: string | null;
  flag_reason: string | null;
  refund_requested_at: Date | null;
  platform_fee: string | null;
  coach_amount: string | null;
  destination_account: string | null;
}

async function paymentsOf(bookingId: string): Promise<PaymentRow[]> {
  return query<PaymentRow & Record<string, unknown>>(`SELECT * FROM payments WHERE booking_id = $1 ORDER BY created_at`, [
    bookingId,
  ]);
}

type BookingRow = { status: string; sequence: number; payment_id: string | null; meeting_link: string | null };

async function bookingRow(bookingId: string): Promise<BookingRow> {
  const [row] = await query<BookingRow>(`SELECT status, sequence, payment_id, meeting_link FROM bookings WHERE id = $1`, [
    bookingId,
  ]);
  return row as BookingRow;
}

async function emailsTo(user: TestUser): Promise<{ subject: string; text: string }[]> {
  return (await get(`/dev/emails?to=${encodeURIComponent(user.email)}`)).body.items;
}

async function stripeCalls(predicate: (request: { path: string; body: Json; idempotencyKey?: string }) => boolean) {
  return (await fakeStripeRequests(stripeUrl())).filter(predicate);
}

/** A booking with an open checkout session. */
async function openCheckout(options: { rate?: number; currency?: string; duration?: number } = {}) {
  const [client, coach] = await Promise.all([
    createClient(),
    createCoach({ hourlyRate: options.rate ?? 100, currency: options.currency ?? "USD" }),
  ]);
  const booking = await book(client, coach, slot(6), options.duration ?? 60);
  const session = await checkout(client, booking.id);
  const stored = await fakeStripeSession(stripeUrl(), session.session_id);
  return { client, coach, booking, session, stored };
}

function intentEvent(type: string, stored: Json, intentId: string, overrides: Json = {}): Json {
  return stripeEvent(type, {
    id: intentId,
    object: "payment_intent",
    amount: stored.amount_total,
    amount_received: type === "payment_intent.succeeded" ? stored.amount_total : 0,
    currency: stored.currency,
    status: type === "payment_intent.succeeded" ? "succeeded" : "requires_payment_method",
    metadata: stored.metadata,
    ...overrides,
  });
}

function refundedEvent(stored: Json, intentId: string): Json {
  return stripeEvent("charge.refunded", {
    id: `ch_test_${crypto.randomUUID().slice(0, 8)}`,
    object: "charge",
    amount: stored.amount_total,
    amount_refunded: stored.amount_total,
    refunded: true,
    currency: stored.currency,
    payment_intent: intentId,
    metadata: stored.metadata,
  });
}

const ok = (result: CallResult) => {
  if (result.status !== 200) throw new Error(`webhook answered ${result.status}: ${result.text}`);
  expect(result.body).toEqual({ received: true });
};

describe("POST /payment/checkout", () => {
  describe("happy", () => {
    it("opens a Stripe session: amount, currency, metadata, 30-minute expiry, idempotency key; one pending payments row", async () => {
      const before = Date.now();
      const { client, booking, session, stored } = await openCheckout({ rate: 120, currency: "EUR", duration: 90 });
      expect(session.session_id).toMatch(/^cs_test_/);
      // The stand-in's hosted page (scripts/lib/fake-stripe-pages.ts); Stripe's is https.
      expect(session.checkout_url).toMatch(/^https?:\/\//);
      const expiresAt = new Date(session.expires_at).getTime();
      expect(expiresAt - before).toBeGreaterThanOrEqual(30 * 60_000 - 1000);
      expect(expiresAt - Date.now()).toBeLessThanOrEqual(31 * 60_000);

      const [create] = await stripeCalls(
        (request) => request.path === "/v1/checkout/sessions" && request.body.metadata?.booking_id === booking.id,
      );
      expect(create).toBeDefined();
      expect(create?.idempotencyKey).toBe(`checkout-${(await paymentsOf(booking.id))[0]?.id}`);
      const body = create?.body as Json;
      expect(body.mode).toBe("payment");
      expect(body.line_items[0].price_data).toMatchObject({ currency: "eur", unit_amount: "18000" });
      expect(body.line_items[0].quantity).toBe("1");
      expect(body.metadata.booking_id).toBe(booking.id);
      expect(body.payment_intent_data.metadata.booking_id).toBe(booking.id);
      expect(Number(body.expires_at)).toBe(Math.floor(expiresAt / 1000));
      expect(body.customer_email).toBe(client.email);
      expect(stored.amount_total).toBe(18000);

      // The session is recorded after the response (2 round trips for the client): it lands at once.
      await eventually(async () => expect((await paymentsOf(booking.id))[0]?.stripe_session_id).toBe(session.session_id));
      const rows = await paymentsOf(booking.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        status: "pending",
        amount: "180.00",
        currency: "EUR",
        stripe_session_id: session.session_id,
        checkout_url: session.checkout_url,
      });
      expect(rows[0]?.expires_at?.getTime()).toBe(expiresAt);
      expect((await bookingRow(booking.id)).payment_id).toBe(rows[0]?.id);
    });

    it("rounds rate x minutes / 60 to the minor unit", async () => {
      const { stored, booking } = await openCheckout({ rate: 99.99, duration: 90 });
      expect(stored.amount_total).toBe(14999); // 149.985 -> 149.99
      expect((await paymentsOf(booking.id))[0]?.amount).toBe("149.99");
    });

    it("a second call while the session is open returns the same session without a new Stripe call", async () => {
      const { client, booking, session } = await openCheckout();
      const again = await post("/payment/checkout", { booking_id: booking.id }, { token: client.token });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(session);
      const creates = await stripeCalls(
        (request) => request.path === "/v1/checkout/sessions" && request.body.metadata?.booking_id === booking.id,
      );
      expect(creates).toHaveLength(1);
      expect(await paymentsOf(booking.id)).toHaveLength(1);
    });

    it("re-opened just before it expires: a new session, row and key, but never past the hold bound (60 min from the booking)", async () => {
      const { client, booking, session } = await openCheckout();
      const { accessToken } = await import("../helpers/fixtures.ts");
      const at = async (when: Date) =>
        post("/payment/checkout", { booking_id: booking.id }, { token: await accessToken(client.id, "client", when), now: when });
      // 59 s before the first session ends it is not handed out again: a new one, ending <= 60 min after the booking.
      const nearEnd = new Date(new Date(session.expires_at).getTime() - 59_000);
      const second = await at(nearEnd);
      expect(second.status).toBe(200);
      expect(second.body.session_id).not.toBe(session.session_id);
      const holdEnd = new Date(booking.created_at).getTime() + 60 * 60_000;
      expect(new Date(second.body.expires_at).getTime()).toBeLessThanOrEqual(holdEnd);
      const creates = await stripeCalls(
        (request) => request.path === "/v1/checkout/sessions" && request.body.metadata?.booking_id === booking.id,
      );
      expect(creates).toHaveLength(2);
      expect(creates[0]?.idempotencyKey).not.toBe(creates[1]?.idempotencyKey);
      expect(await paymentsOf(booking.id)).toHaveLength(2);
      // Just before the second one ends: no third session, the hold cannot be extended any further.
      const third = await at(new Date(new Date(second.body.expires_at).getTime() - 59_000));
      expect(expectEnvelope(third, 409, "CONFLICT").details.reason).toBe("payment_window_closed");
      expect(await paymentsOf(booking.id)).toHaveLength(2);
    });
  });

  describe("errors", () => {
    it("404 unknown booking, 400 malformed id, 400 booking not pending", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      expectEnvelope(
        await post("/payment/checkout", { booking_id: crypto.randomUUID() }, { token: client.token }),
        404,
        "NOT_FOUND",
      );
      expectEnvelope(await post("/payment/checkout", { booking_id: "42" }, { token: client.token }), 400, "VALIDATION_ERROR");
      const booking = await book(client, coach, slot(6));
      await del(`/booking/${booking.id}`, { token: client.token });
      expectEnvelope(
        await post("/payment/checkout", { booking_id: booking.id }, { token: client.token }),
        400,
        "VALIDATION_ERROR",
      );
    });

    it("503 when Stripe fails: only the intent is recorded, and the retry completes it with the same key", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const booking = await book(client, coach, slot(6));
      await setFakeStripeMode(stripeUrl(), { mode: "error", match: booking.id });
      try {
        expectEnvelope(
          await post("/payment/checkout", { booking_id: booking.id }, { token: client.token }),
          503,
          "SERVICE_UNAVAILABLE",
        );
        const [intent] = await paymentsOf(booking.id);
        expect(intent).toMatchObject({ status: "pending", stripe_session_id: null, checkout_url: null });
        expect((await bookingRow(booking.id)).payment_id).toBe(intent?.id);
      } finally {
        await setFakeStripeMode(stripeUrl(), { mode: "ok" });
      }
      const retry = await post("/payment/checkout", { booking_id: booking.id }, { token: client.token });
      expect(retry.status).toBe(200);
      await eventually(async () => expect((await paymentsOf(booking.id))[0]?.stripe_session_id).toBe(retry.body.session_id));
      const rows = await paymentsOf(booking.id);
      expect(rows).toHaveLength(1);
      const keys = (
        await stripeCalls(
          (request) => request.path === "/v1/checkout/sessions" && request.body.metadata?.booking_id === booking.id,
        )
      ).map((request) => request.idempotencyKey);
      expect(new Set(keys)).toEqual(new Set([`checkout-${rows[0]?.id}`]));
    });

    it("503 SERVICE_UNAVAILABLE when STRIPE_SECRET_KEY is not configured", async () => {
      const worker = await startTestWorker(
        { databaseUrl: inject("databaseUrl"), proxyUrl: inject("proxyUrl"), stripeUrl: stripeUrl() },
        { STRIPE_SECRET_KEY: "" },
      );
      try {
        const [client, coach] = await Promise.all([createClient(), createCoach()]);
        const booking = await book(client, coach, slot(6));
        const response = await fetch(`${worker.url}/payment/checkout`, {
          method: "POST",
          headers: { authorization: `Bearer ${client.token}`, "content-type": "application/json" },
          body: JSON.stringify({ booking_id: booking.id }),
        });
        expect(response.status).toBe(503);
        expect(((await response.json()) as Json).error.code).toBe("SERVICE_UNAVAILABLE");
        expect(await paymentsOf(booking.id)).toHaveLength(0);
      } finally {
        await worker.stop();
      }
    });
  });

  describe("security", () => {
    it("only the booking's client: another client, the coach and admins get 403; anonymous 401", async () => {
      const [client, coach, stranger, admin] = await Promise.all([
        createClient(),
        createCoach(),
        createClient(),
        createUser("admin"),
      ]);
      const booking = await book(client, coach, slot(6));
      for (const user of [stranger, coach, admin]) {
        expectEnvelope(await post("/payment/checkout", { booking_id: booking.id }, { token: user.token }), 403, "FORBIDDEN");
      }
      expectEnvelope(await post("/payment/checkout", { booking_id: booking.id }), 401, "UNAUTHORIZED");
      expect(await paymentsOf(booking.id)).toHaveLength(0);
    });
  });
});

describe("POST /payment/webhook", () => {
  describe("signature", () => {
    it("400 for a missing, wrong or stale signature, and nothing changes", async () => {
      const { booking, session } = await openCheckout();
      const event = await paidSessionEvent(session.session_id);
      expectEnvelope(await deliver(event, { signature: null }), 400, "VALIDATION_ERROR");
      expectEnvelope(await deliver(event, { secret: "whsec_someone_else_0123456789" }), 400, "VALIDATION_ERROR");
      expectEnvelope(await deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 301 }), 400, "VALIDATION_ERROR");
      // a timestamp from the future is as far outside the tolerance as a stale one
      expectEnvelope(await deliver(event, { timestamp: Math.floor(Date.now() / 1000) + 301 }), 400, "VALIDATION_ERROR");
      expectEnvelope(await deliver(event, { signature: "t=123,v1=deadbeef" }), 400, "VALIDATION_ERROR");
      // A valid signature over another body does not cover this one.
      const otherSignature = await stripeSignature(JSON.stringify({ id: "evt_other" }), TEST_WEBHOOK_SECRET);
      expectEnvelope(await deliver(event, { signature: otherSignature }), 400, "VALIDATION_ERROR");
      expect((await bookingRow(booking.id)).status).toBe("pending");
      expect((await paymentsOf(booking.id))[0]?.status).toBe("pending");
      const [seen] = await query(`SELECT id FROM stripe_events WHERE id = $1`, [event.id]);
      expect(seen).toBeUndefined();
      // The same event, properly signed and fresh, is accepted.
      ok(await deliver(event));
      expect((await bookingRow(booking.id)).status).toBe("confirmed");
    });

    it("unknown event types are acknowledged and ignored", async () => {
      ok(await deliver(stripeEvent("customer.created", { id: "cus_test_1", object: "customer" })));
    });
  });

  describe("effects", () => {
    it("checkout.session.completed: payment succeeded with intent id and paid_at, booking confirmed, both parties emailed", async () => {
      const { client, coach, booking, session } = await openCheckout();
      const event = await paidSessionEvent(session.session_id);
      ok(await deliver(event));
      const [payment] = await paymentsOf(booking.id);
      expect(payment).toMatchObject({
        status: "succeeded",
        stripe_payment_intent_id: event.data.object.payment_intent,
        flag_reason: null,
      });
      expect(payment?.paid_at).toBeInstanceOf(Date);
      const row = await bookingRow(booking.id);
      expect(row).toMatchObject({ status: "confirmed", payment_id: payment?.id, sequence: 1 });
      // Contract v2 Meeting links: confirmed by payment -> a generated, unguessable link, in both emails.
      expect(row.meeting_link).toMatch(/^https:\/\/meet\.jit\.si\/CultureBridge-[0-9a-f]{32}$/);
      for (const user of [client, coach]) {
        const confirmations = (await emailsTo(user)).filter((mail) => mail.subject.includes("confirmed"));
        expect(confirmations).toHaveLength(1);
        expect(confirmations[0]?.text).toContain(booking.id);
        expect(confirmations[0]?.text).toContain(row.meeting_link as string);
      }
      const view = await get(`/payment/${payment?.id}`, { token: client.token });
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({
        id: payment?.id,
        booking_id: booking.id,
        amount: 100,
        currency: "USD",
        status: "succeeded",
        stripe_session_id: session.session_id,
      });
    });

    it("the same event twice, and payment_intent.succeeded after it: one effect", async () => {
      const { client, booking, session, stored } = await openCheckout();
      const event = await paidSessionEvent(session.session_id);
      ok(await deliver(event));
      ok(await deliver(event));
      ok(await deliver(intentEvent("payment_intent.succeeded", stored, event.data.object.payment_intent)));
      expect((await bookingRow(booking.id)).sequence).toBe(1);
      expect((await emailsTo(client)).filter((mail) => mail.subject.includes("confirmed"))).toHaveLength(1);
      const succeeded = (await paymentsOf(booking.id)).filter((payment) => payment.status === "succeeded");
      expect(succeeded).toHaveLength(1);
    });

    it.runIf(isRealPostgres())("10 concurrent deliveries of one event: one effect", async () => {
      const { client, coach, booking, session } = await openCheckout();
      const event = await paidSessionEvent(session.session_id);
      const results = await Promise.all(Array.from({ length: 10 }, () => deliver(event)));
      for (const result of results) ok(result);
      expect((await bookingRow(booking.id)).sequence).toBe(1);
      for (const user of [client, coach])
        expect((await emailsTo(user)).filter((mail) => mail.subject.includes("confirmed"))).toHaveLength(1);
      const [events] = await query<{ n: string }>(`SELECT count(*) AS n FROM stripe_events WHERE id = $1`, [event.id]);
      expect(Number(events?.n)).toBe(1);
    });

    it("payment_intent.succeeded alone confirms (found by metadata)", async () => {
      const { booking, stored } = await openCheckout();
      const intentId = `pi_test_${crypto.randomUUID().slice(0, 8)}`;
      ok(await deliver(intentEvent("payment_intent.succeeded", stored, intentId)));
      expect((await bookingRow(booking.id)).status).toBe("confirmed");
      expect((await paymentsOf(booking.id))[0]).toMatchObject({ status: "succeeded", stripe_payment_intent_id: intentId });
    });

    it("payment_intent.payment_failed: payment failed, booking stays pending", async () => {
      const { booking, stored } = await openCheckout();
      ok(await deliver(intentEvent("payment_intent.payment_failed", stored, `pi_test_${crypto.randomUUID().slice(0, 8)}`)));
      expect((await paymentsOf(booking.id))[0]?.status).toBe("failed");
      expect((await bookingRow(booking.id)).status).toBe("pending");
    });

    it("checkout.session.expired: payment failed, booking cancelled, the slot is free again", async () => {
      const { coach, booking, session } = await openCheckout();
      const expired = { ...(await fakeStripeSession(stripeUrl(), session.session_id)), status: "expired" };
      ok(await deliver(stripeEvent("checkout.session.expired", expired)));
      expect((await paymentsOf(booking.id))[0]?.status).toBe("failed");
      expect((await bookingRow(booking.id)).status).toBe("cancelled");
      const other = await createClient();
      const rebook = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: booking.session_datetime, duration_minutes: 60 },
        { token: other.token },
      );
      expect(rebook.status).toBe(201);
    });

    it("an amount or currency different from the payment row is recorded and flagged, not confirmed", async () => {
      const first = await openCheckout();
      ok(await deliver(await paidSessionEvent(first.session.session_id, { amount_total: 100 })));
      const [underpaid] = await paymentsOf(first.booking.id);
      expect(underpaid).toMatchObject({ status: "pending", received_amount: "1.000", received_currency: "USD" });
      expect(underpaid?.flag_reason).toContain("mismatch");
      expect((await bookingRow(first.booking.id)).status).toBe("pending");

      const second = await openCheckout();
      ok(await deliver(await paidSessionEvent(second.session.session_id, { currency: "eur" })));
      const [wrongCurrency] = await paymentsOf(second.booking.id);
      expect(wrongCurrency).toMatchObject({ status: "pending", received_currency: "EUR" });
      expect((await bookingRow(second.booking.id)).status).toBe("pending");
      // A flagged booking cannot be checked out again (money is under review).
      expectEnvelope(
        await post("/payment/checkout", { booking_id: second.booking.id }, { token: second.client.token }),
        409,
        "CONFLICT",
      );
    });

    it("charge.refunded: payment refunded, booking cancelled, both notified", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const { booking, session, event } = await confirmedBooking(client, coach, slot(6));
      const stored = await fakeStripeSession(stripeUrl(), session.session_id);
      ok(await deliver(refundedEvent(stored, event.data.object.payment_intent)));
      expect((await paymentsOf(booking.id))[0]).toMatchObject({ status: "refunded" });
      expect((await bookingRow(booking.id)).status).toBe("cancelled");
      for (const user of [client, coach])
        expect((await emailsTo(user)).some((mail) => mail.subject.includes("cancelled"))).toBe(true);
    });
  });

  describe("out of order", () => {
    it("refund before completion: the refund is kept, the booking stays cancelled", async () => {
      const { booking, session } = await openCheckout();
      const completed = await paidSessionEvent(session.session_id);
      const intentId = completed.data.object.payment_intent;
      ok(await deliver(refundedEvent(completed.data.object, intentId)));
      ok(await deliver(completed));
      const [payment] = await paymentsOf(booking.id);
      expect(payment).toMatchObject({ status: "refunded", stripe_payment_intent_id: intentId });
      expect((await bookingRow(booking.id)).status).toBe("cancelled");
      // No refund was requested from Stripe for it: the money is already back.
      expect(
        await stripeCalls((request) => request.path === "/v1/refunds" && request.body.payment_intent === intentId),
      ).toHaveLength(0);
    });

    it("completion after the client cancelled: the booking is not revived; the payment is flagged and refunded", async () => {
      const { client, booking, session } = await openCheckout();
      expect((await del(`/booking/${booking.id}`, { token: client.token })).status).toBe(204);
      // The open session is expired at Stripe after the cancellation committed (not waited for).
      await eventually(async () =>
        expect(
          await stripeCalls((request) => request.path === `/v1/checkout/sessions/${session.session_id}/expire`),
        ).toHaveLength(1),
      );
      // ...but the customer had already paid (a race Stripe allows).
      const completed = await paidSessionEvent(session.session_id);
      ok(await deliver(completed));
      expect((await bookingRow(booking.id)).status).toBe("cancelled");
      // The refund is made after the webhook's write committed; Stripe's answer marks it.
      await eventually(async () => expect((await paymentsOf(booking.id))[0]?.status).toBe("refunded"));
      const [payment] = await paymentsOf(booking.id);
      expect(payment?.flag_reason).toContain("cancelled");
      const refunds = await stripeCalls(
        (request) => request.path === "/v1/refunds" && request.body.payment_intent === completed.data.object.payment_intent,
      );
      expect(refunds).toHaveLength(1);
      // Stripe's charge.refunded for that refund changes nothing more.
      ok(await deliver(refundedEvent(completed.data.object, completed.data.object.payment_intent)));
      expect((await paymentsOf(booking.id))[0]?.status).toBe("refunded");
    });

    it("failed then succeeded ends succeeded; a late failure never downgrades", async () => {
      const { booking, session, stored } = await openCheckout();
      const completed = await paidSessionEvent(session.session_id);
      const intentId = completed.data.object.payment_intent;
      ok(await deliver(intentEvent("payment_intent.payment_failed", stored, intentId)));
      expect((await paymentsOf(booking.id))[0]?.status).toBe("failed");
      ok(await deliver(completed));
      expect((await paymentsOf(booking.id))[0]?.status).toBe("succeeded");
      expect((await bookingRow(booking.id)).status).toBe("confirmed");
      ok(await deliver(intentEvent("payment_intent.payment_failed", stored, intentId)));
      expect((await paymentsOf(booking.id))[0]?.status).toBe("succeeded");
      expect((await bookingRow(booking.id)).status).toBe("confirmed");
    });

    it("an expiry event after the payment does not cancel a confirmed booking", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const { booking, session } = await confirmedBooking(client, coach, slot(6));
      const stored = await fakeStripeSession(stripeUrl(), session.session_id);
      ok(await deliver(stripeEvent("checkout.session.expired", { ...stored, status: "expired" })));
      expect((await bookingRow(booking.id)).status).toBe("confirmed");
      expect((await paymentsOf(booking.id))[0]?.status).toBe("succeeded");
    });
  });

  describe("revenue", () => {
    it("duplicates and both success events count the payment once; the refund takes it out", async () => {
      // Payment date on a day of its own, so that the report holds only this payment.
      const day = new Date(
        Date.UTC(2045 + Math.floor(Math.random() * 50), Math.floor(Math.random() * 12), 1 + Math.floor(Math.random() * 28), 12),
      );
      const date = day.toISOString().slice(0, 10);
      const admin = await createUser("admin");
      const { booking, session, stored } = await openCheckout({ rate: 80 });
      const completed = await paidSessionEvent(session.session_id);
      const intentId = completed.data.object.payment_intent;
      ok(await deliver(completed, { now: day }));
      ok(await deliver(completed, { now: day }));
      ok(await deliver(intentEvent("payment_intent.succeeded", stored, intentId), { now: day }));
      const report = await get(`/admin/revenue?start_date=${date}&end_date=${date}&currency=USD`, { token: admin.token });
      expect(report.status).toBe(200);
      expect(report.body).toMatchObject({ total_revenue: 80, total_bookings: 1 });
      ok(await deliver(refundedEvent(stored, intentId), { now: new Date(day.getTime() + HOUR) }));
      const after = await get(`/admin/revenue?start_date=${date}&end_date=${date}&currency=USD`, { token: admin.token });
      expect(after.body).toMatchObject({ total_revenue: 0, total_bookings: 0 });
      expect((await paymentsOf(booking.id))[0]?.status).toBe("refunded");
    });
  });
});

describe("GET /payment/{id}", () => {
  it("happy: the client, the coach and admins; errors 404/400; strangers 403", async () => {
    const { client, coach, booking } = await openCheckout();
    const admin = await createUser("admin");
    const stranger = await createClient();
    const [payment] = await paymentsOf(booking.id);
    for (const user of [client, coach, admin]) {
      const result = await get(`/payment/${payment?.id}`, { token: user.token });
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({
        id: payment?.id,
        booking_id: booking.id,
        status: "pending",
        stripe_payment_intent_id: null,
      });
      expect(result.body.created_at).toMatch(/Z$/);
    }
    expectEnvelope(await get(`/payment/${payment?.id}`, { token: stranger.token }), 403, "FORBIDDEN");
    expectEnvelope(await get(`/payment/${crypto.randomUUID()}`, { token: client.token }), 404, "NOT_FOUND");
    expectEnvelope(await get(`/payment/abc`, { token: client.token }), 400, "VALIDATION_ERROR");
    expectEnvelope(await get(`/payment/${payment?.id}`), 401, "UNAUTHORIZED");
  });
});

describe("refund that Stripe settles later", () => {
  it("a pending refund leaves the payment succeeded until charge.refunded marks it refunded", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(6));
    const session = await checkout(client, booking.id);
    const completed = await paidSessionEvent(session.session_id);
    ok(await deliver(completed));
    await setFakeStripeMode(stripeUrl(), { refundStatus: "pending", match: booking.id });
    try {
      expect((await del(`/booking/${booking.id}`, { token: coach.token })).status).toBe(204);
      await eventually(async () =>
        expect(
          await stripeCalls((request) => request.path === "/v1/refunds" && request.body.metadata?.booking_id === booking.id),
        ).toHaveLength(1),
      );
    } finally {
      await setFakeStripeMode(stripeUrl(), {});
    }
    const [payment] = await paymentsOf(booking.id);
    expect(payment?.status).toBe("succeeded");
    expect(payment?.refund_requested_at).not.toBeNull();
    ok(
      await deliver(
        refundedEvent(await completeFakeSession(stripeUrl(), session.session_id), completed.data.object.payment_intent),
      ),
    );
    expect((await paymentsOf(booking.id))[0]?.status).toBe("refunded");
  });
});
