/**
 * Cancelling a booking: the one implementation behind DELETE /booking/{id},
 * PATCH /booking/{id}/status {status:"cancelled"} and account deletion.
 *
 * The database part is two round trips (issue 14): loadBookingForWrite (the
 * booking, its parties and paid payments: who cancels and the refund policy
 * are decided from it), then booking_cancel(), which under the row lock
 * re-checks the status and the paid payments it was given, cancels the booking
 * (SEQUENCE + 1 for calendars), fails open checkouts, records the refund
 * intent on paid payments ("refund requested") and the emails -- one statement.
 *
 * Stripe is called only after that commit (no row lock or connection held while
 * Stripe answers): open checkout sessions are expired (best effort) and due
 * refunds are requested with an idempotency key per payment, so a retry never
 * refunds twice. A refund Stripe settles at once marks the payment `refunded`
 * (one more statement, only for paid cancellations); otherwise Stripe's
 * `charge.refunded` webhook does. When Stripe is unreachable the cancellation
 * stands and the answer is 503: the refund intent stays recorded and calling
 * the cancellation again completes it.
 */
import { and, eq, gt, inArray, or, sql } from "drizzle-orm";
import { type Booking, bookings, payments } from "../../drizzle/schema.ts";
import type { Database, Executor } from "../db/client.ts";
import { rowFromJson } from "../db/json-rows.ts";
import type { AuthUser, ServiceEnv } from "../env.ts";
import { AppError, badRequest, notFound } from "../lib/errors.ts";
import { type BookingParties, bookingEmails } from "./booking-emails.ts";
import { type CancellingParty, refundDue } from "./booking-rules.ts";
import { concurrentChange } from "./booking-status.ts";
import { assertParticipant, callBookingFunction, loadBookingForWrite, type PaidPayment } from "./bookings.ts";
import { dispatchEmails } from "./notifications.ts";
import { expireCheckoutSession, refundPaymentIntent, requireStripe, stripeClient } from "./stripe.ts";

export type RefundResult =
  /** nothing was paid */
  | "not_paid"
  /** paid, refunded and confirmed by Stripe */
  | "full"
  /** paid, refund requested; Stripe confirms later (charge.refunded) */
  | "pending"
  /** paid, the policy gives no refund */
  | "none";

export interface CancellationResult {
  booking: Booking;
  parties: BookingParties;
  refund: RefundResult;
}

export interface CancelBookingInput {
  bookingId: string;
  /** the caller: must be a party or an admin; the policy's party follows from it */
  caller?: AuthUser;
  /** a fixed party instead of a caller (account deletion; "system" = no policy decision, full refund) */
  party?: CancellingParty | "system";
  now: Date;
  /** users who get no email (e.g. the account being deleted) */
  skipNotifyUserIds?: readonly string[];
}

/** Marks a paid payment whose refund is due but not yet confirmed (the intent, retried by a repeated cancellation). */
export const REFUND_REQUESTED = "refund requested";

const CANCELLABLE = ["pending", "confirmed"] as const;

type CancelOutcome =
  | {
      outcome: "cancelled";
      booking: Record<string, unknown>;
      expire_sessions: string[];
      refunds: Array<{ payment_id: string; payment_intent_id: string | null }>;
      email_ids: string[];
    }
  | { outcome: "not_found" }
  | { outcome: "changed" }
  | { outcome: "bad_status"; status: Booking["status"] };

function partyOf(booking: Booking, input: CancelBookingInput): CancellingParty | "system" {
  if (input.caller) {
    assertParticipant(booking, input.caller);
    if (input.caller.role === "admin") return "admin";
    return input.caller.id === booking.coachId ? "coach" : "client";
  }
  return input.party ?? "system";
}

const notCancellable = (status: Booking["status"]) =>
  badRequest(`A ${status} booking cannot be cancelled`, { status, allowed_from: [...CANCELLABLE] });

/** Cancels one booking under the policy. 404 unknown, 400 when it is not pending/confirmed. */
export async function cancelBooking(db: Executor, env: ServiceEnv, input: CancelBookingInput): Promise<CancellationResult> {
  const { now } = input;
  // A payment or another change landing between the read and the write: read again, once.
  for (let attempt = 1; ; attempt++) {
    const state = await loadBookingForWrite(db, input.bookingId);
    if (!state) throw notFound("Booking");
    const { booking, parties, paidPayments } = state;
    const party = partyOf(booking, input);

    if (booking.status === "cancelled") {
      // A cancellation whose refund Stripe could not take yet: this retry completes it.
      const outstanding = paidPayments.filter((payment) => payment.flag === REFUND_REQUESTED);
      if (outstanding.length === 0) throw notCancellable(booking.status);
      const refund = await issueRefunds(db, env, booking.id, outstanding, now);
      return { booking, parties, refund };
    }
    if (!(CANCELLABLE as readonly string[]).includes(booking.status)) throw notCancellable(booking.status);

    const due = party === "system" || refundDue(party, booking.sessionDatetime, now);
    const wording: RefundResult = paidPayments.length === 0 ? "not_paid" : due ? "full" : "none";
    const emails = bookingEmails(
      booking,
      parties,
      { kind: "cancelled", refund: wording, cancelledBy: party },
      input.skipNotifyUserIds ?? [],
    );
    const result = await callBookingFunction<CancelOutcome>(
      db,
      sql`booking_cancel(${booking.id}::uuid, ${booking.status}::booking_status,
          ${`{${paidPayments.map((payment) => payment.id).join(",")}}`}::uuid[], ${due}::boolean,
          ${now.toISOString()}::timestamptz, ${JSON.stringify(emails)}::jsonb)`,
    );
    if (result.outcome === "changed") {
      if (attempt < 2) continue;
      throw concurrentChange();
    }
    if (result.outcome === "not_found") throw notFound("Booking");
    if (result.outcome === "bad_status") throw notCancellable(result.status);

    await dispatchEmails(env, result.email_ids);
    if (result.expire_sessions.length > 0) {
      const stripe = stripeClient(env);
      if (stripe) await Promise.all(result.expire_sessions.map((sessionId) => expireCheckoutSession(stripe, sessionId)));
    }
    const cancelled = rowFromJson(bookings, result.booking);
    const refund =
      result.refunds.length === 0
        ? wording
        : await issueRefunds(
            db,
            env,
            booking.id,
            result.refunds.map((row) => ({ id: row.payment_id, intent: row.payment_intent_id, flag: REFUND_REQUESTED })),
            now,
          );
    return { booking: cancelled, parties, refund };
  }
}

/**
 * After the cancellation committed: asks Stripe for each due refund (idempotency
 * key per payment) and records what Stripe says. Stripe unreachable -> 503; the
 * intent stays, and the next cancellation call (or charge.refunded) completes it.
 */
async function issueRefunds(
  db: Executor,
  env: ServiceEnv,
  bookingId: string,
  due: readonly PaidPayment[],
  now: Date,
): Promise<RefundResult> {
  const stripe = requireStripe(env);
  let result: RefundResult = "full";
  for (const payment of due) {
    if (!payment.intent) {
      // Cannot happen for a payment confirmed by Stripe; keep it visible rather than guess.
      await db
        .update(payments)
        .set({ flagReason: "refund due but no payment intent id", updatedAt: now })
        .where(eq(payments.id, payment.id));
      result = "pending";
      continue;
    }
    const outcome = await refundPaymentIntent(stripe, { paymentId: payment.id, paymentIntentId: payment.intent, bookingId });
    if (outcome.status === "succeeded") {
      await db
        .update(payments)
        .set({ status: "refunded", refundedAt: now, flagReason: null, updatedAt: now })
        .where(and(eq(payments.id, payment.id), eq(payments.status, "succeeded")));
    } else {
      // Stripe accepted the refund but has not settled it: charge.refunded will mark it.
      await db
        .update(payments)
        .set({ flagReason: `refund ${outcome.refundId} ${outcome.status}`, updatedAt: now })
        .where(eq(payments.id, payment.id));
      result = "pending";
    }
  }
  return result;
}

/**
 * Account deletion: cancels every future pending/confirmed booking in which the
 * user is the client or the coach, under the policy (by an admin -> full
 * refund; the user is the coach -> full refund; the user is the client -> full
 * refund >= 24 h ahead, else none), notifying the other party only.
 * Returns how many were cancelled. Stripe being unreachable while a refund is
 * due -> 503 (the deletion should then not proceed; already cancelled bookings
 * stay cancelled, their refund intents recorded).
 */
export async function cancelFutureBookingsOfUser(
  db: Database,
  env: ServiceEnv,
  input: { userId: string; byAdmin: boolean; now: Date },
): Promise<number> {
  const { userId, byAdmin, now } = input;
  const candidates = await db
    .select({ id: bookings.id, coachId: bookings.coachId })
    .from(bookings)
    .where(
      and(
        or(eq(bookings.clientId, userId), eq(bookings.coachId, userId)),
        inArray(bookings.status, [...CANCELLABLE]),
        gt(bookings.sessionDatetime, now),
      ),
    );
  let cancelled = 0;
  for (const candidate of candidates) {
    const party: CancellingParty = byAdmin ? "admin" : candidate.coachId === userId ? "coach" : "client";
    try {
      await cancelBooking(db, env, { bookingId: candidate.id, party, now, skipNotifyUserIds: [userId] });
      cancelled++;
    } catch (error) {
      // Lost a race with another cancellation or a completion: nothing left to cancel.
      if (error instanceof AppError && (error.code === "VALIDATION_ERROR" || error.code === "NOT_FOUND")) continue;
      throw error;
    }
  }
  return cancelled;
}
