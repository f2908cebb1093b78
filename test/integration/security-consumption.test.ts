/**
 * OWASP API10:2023 Unsafe Consumption of APIs — what Stripe (the one
 * third-party API whose data changes our state) tells us is believed only
 * when signed with our webhook secret within the 5-minute tolerance, over the
 * exact bytes received; and even a genuine event is checked against what we
 * asked for: a different amount or currency is recorded and flagged, never
 * silently confirmed; unknown events and unknown objects change nothing.
 */
import { afterAll, describe, expect, it } from "vitest";
import { baseUrl, expectEnvelope } from "../helpers/api.ts";
import { book, checkout, deliver, paidSessionEvent, slot } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { stripeEvent, stripeSignature } from "../helpers/fake-stripe.ts";
import { createClient, createCoach } from "../helpers/fixtures.ts";
import { TEST_WEBHOOK_SECRET } from "../helpers/stack.ts";

afterAll(async () => {
  await closeTestPool();
});

async function openCheckout(hourlyRate = 100) {
  const client = await createClient();
  const coach = await createCoach({ hourlyRate });
  const booking = await book(client, coach, slot(6000 + Math.floor(Math.random() * 1000), 10));
  const session = await checkout(client, booking.id);
  return { client, coach, booking, session };
}

async function state(bookingId: string) {
  const [booking] = await query<{ status: string }>("SELECT status FROM bookings WHERE id = $1", [bookingId]);
  const [payment] = await query<{ status: string; flag_reason: string | null }>(
    "SELECT status, flag_reason FROM payments WHERE booking_id = $1",
    [bookingId],
  );
  return { booking: booking?.status, payment: payment?.status, flag: payment?.flag_reason ?? null };
}

describe("API10 the webhook believes only signed, fresh, untampered events", () => {
  it("missing signature, another secret, a stale timestamp or a tampered body -> 400 and nothing changes", async () => {
    const { booking, session } = await openCheckout();
    const event = await paidSessionEvent(session.session_id);
    expectEnvelope(await deliver(event, { signature: null }), 400, "VALIDATION_ERROR");
    expectEnvelope(await deliver(event, { secret: "whsec_someone_else_0123456789" }), 400, "VALIDATION_ERROR");
    expectEnvelope(await deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 600 }), 400, "VALIDATION_ERROR");
    expectEnvelope(await deliver(event, { signature: "t=1,v1=deadbeef" }), 400, "VALIDATION_ERROR");

    // Signed over other bytes than those sent.
    const signedPayload = JSON.stringify(event);
    const signature = await stripeSignature(signedPayload, TEST_WEBHOOK_SECRET);
    const tampered = JSON.stringify({ ...event, data: { object: { ...event.data.object, amount_total: 1 } } });
    const response = await fetch(`${baseUrl()}/payment/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: tampered,
    });
    expect(response.status).toBe(400);

    expect(await state(booking.id)).toEqual({ booking: "pending", payment: "pending", flag: null });
    // Control: the genuine delivery confirms.
    expect((await deliver(event)).status).toBe(200);
    expect(await state(booking.id)).toMatchObject({ booking: "confirmed", payment: "succeeded" });
  });

  it("a genuine event with another amount is flagged, not confirmed", async () => {
    const { booking, session } = await openCheckout(100);
    const event = await paidSessionEvent(session.session_id, { amount_total: 100 });
    expect((await deliver(event)).status).toBe(200);
    const after = await state(booking.id);
    expect(after.booking).toBe("pending");
    expect(after.payment).not.toBe("succeeded");
    expect(after.flag).not.toBeNull();
  });

  it("a genuine event in another currency is flagged, not confirmed", async () => {
    const { booking, session } = await openCheckout(100);
    const event = await paidSessionEvent(session.session_id, { currency: "jpy" });
    expect((await deliver(event)).status).toBe(200);
    const after = await state(booking.id);
    expect(after.booking).toBe("pending");
    expect(after.payment).not.toBe("succeeded");
    expect(after.flag).not.toBeNull();
  });

  it("unknown event types and events about objects we never created change nothing", async () => {
    const { booking, session } = await openCheckout();
    expect((await deliver(stripeEvent("customer.created", { id: "cus_x", object: "customer" }))).status).toBe(200);
    const foreign = await paidSessionEvent(session.session_id);
    foreign.data.object = {
      ...foreign.data.object,
      id: "cs_test_not_ours",
      metadata: {},
      client_reference_id: null,
      payment_intent: "pi_not_ours",
    };
    expect((await deliver(foreign)).status).toBe(200);
    expect(await state(booking.id)).toEqual({ booking: "pending", payment: "pending", flag: null });
  });

  it("the webhook route answers a garbage body with a signature check, not a parse error or 5xx", async () => {
    for (const body of ["", "not json", '{"type":', "[]"]) {
      const response = await fetch(`${baseUrl()}/payment/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=00" },
        body,
      });
      expect(response.status, body).toBe(400);
    }
  });
});
