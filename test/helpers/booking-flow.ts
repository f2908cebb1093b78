/**
 * Booking/payment flows shared by the booking, payment and calendar tests:
 * book a slot, open a checkout through the real Stripe SDK (against the fake),
 * "pay" on the fake and deliver the signed webhook.
 */
import { expect, inject } from "vitest";
import { baseUrl, type CallResult, type Json, post } from "./api.ts";
import { query } from "./db.ts";
import { completeFakeSession, deliverStripeEvent, stripeEvent } from "./fake-stripe.ts";
import type { TestUser } from "./fixtures.ts";
import { TEST_WEBHOOK_SECRET } from "./stack.ts";

export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;

/** A whole-hour UTC instant `days` from now (coaches in tests are available 00:00-23:30 UTC). */
export function slot(days: number, hourUtc = 10, minute = 0): Date {
  const date = new Date(Date.now() + days * DAY);
  date.setUTCHours(hourUtc, minute, 0, 0);
  return date;
}

export function stripeUrl(): string {
  return inject("stripeUrl");
}

export async function book(client: TestUser, coach: TestUser, start: Date, durationMinutes = 60): Promise<Json> {
  const result = await post(
    "/booking",
    { coach_id: coach.id, session_datetime: start.toISOString(), duration_minutes: durationMinutes },
    { token: client.token },
  );
  if (result.status !== 201) throw new Error(`booking failed: ${result.status} ${result.text}`);
  return result.body;
}

/**
 * Opens a checkout and waits until its session is recorded: the API records it
 * after the response (2 round trips for the client), so a test that goes on to
 * read or age the payment row starts from the settled state. The other order
 * (a cancellation landing before the record) has tests of its own.
 */
export async function checkout(client: TestUser, bookingId: string): Promise<Json> {
  const result = await post("/payment/checkout", { booking_id: bookingId }, { token: client.token });
  if (result.status !== 200) throw new Error(`checkout failed: ${result.status} ${result.text}`);
  const until = Date.now() + 10_000;
  while (
    (await query(`SELECT 1 FROM payments WHERE booking_id = $1 AND stripe_session_id = $2`, [bookingId, result.body.session_id]))
      .length === 0
  ) {
    if (Date.now() > until) throw new Error(`checkout session ${result.body.session_id} was never recorded`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return result.body;
}

/** Delivers a signed event to POST /payment/webhook (options: another signature, timestamp or server clock). */
export async function deliver(
  event: Json,
  options: { timestamp?: number; signature?: string | null; now?: Date; secret?: string } = {},
): Promise<CallResult> {
  // The signature's age is judged by the server clock: sign at the moved clock too.
  const timestamp = options.timestamp ?? (options.now ? Math.floor(options.now.getTime() / 1000) : undefined);
  const result = await deliverStripeEvent(baseUrl(), event, {
    secret: TEST_WEBHOOK_SECRET,
    ...options,
    ...(timestamp !== undefined ? { timestamp } : {}),
  });
  return { ...result, body: result.text ? JSON.parse(result.text) : undefined };
}

/** The customer pays the session on the fake; returns the checkout.session.completed event (not delivered). */
export async function paidSessionEvent(
  sessionId: string,
  overrides: { amount_total?: number; currency?: string } = {},
): Promise<Json> {
  const session = await completeFakeSession(stripeUrl(), sessionId, overrides);
  return stripeEvent("checkout.session.completed", session);
}

/** Book, check out, pay and deliver the completion: a confirmed, paid booking. */
export async function confirmedBooking(
  client: TestUser,
  coach: TestUser,
  start: Date,
  durationMinutes = 60,
): Promise<{ booking: Json; session: Json; event: Json }> {
  const booking = await book(client, coach, start, durationMinutes);
  const session = await checkout(client, booking.id);
  const event = await paidSessionEvent(session.session_id);
  const delivered = await deliver(event);
  expect(delivered.status).toBe(200);
  return { booking, session, event };
}
