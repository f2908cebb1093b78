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
 * Stripe is called only after that commit and after the response
 * (payment-followups.ts), so a cancellation never waits on Stripe: open checkout
 * sessions are expired (best effort) and due refunds are made with the payment's
 * idempotency key. A refund whose call fails stays recorded (refund_requested_at)
 * and the cron job makes it again (same key, so never twice); Stripe's answer or
 * its `charge.refunded` event marks the payment refunded.
 */
import { and, eq, gt, inArray, or, type SQL, sql } from "drizzle-orm";
import { type Booking, bookings } from "../../drizzle/schema.ts";
import type { Database, Executor } from "../db/client.ts";
import { rowFromJson } from "../db/json-rows.ts";
import type { AuthUser, ServiceEnv } from "../env.ts";
import { AppError, badRequest, notFound } from "../lib/errors.ts";
import { type BookingParties, bookingEmails } from "./booking-emails.ts";
import { type CancellingParty, refundDue } from "./booking-rules.ts";
import { concurrentChange } from "./booking-status.ts";
import { assertParticipant, callBookingFunction, loadBookingForWrite } from "./bookings.ts";
import { dispatchEmails } from "./notifications.ts";
import { runStripeFollowUps } from "./payment-followups.ts";

export type RefundResult =
  /** nothing was paid */
  | "not_paid"
  /** paid, a full refund is made (at Stripe right after the answer; retried by the cron job) */
  | "full"
  /** paid, a refund is due but cannot be made automatically (flagged for an admin) */
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

const CANCELLABLE = ["pending", "confirmed"] as const;

/**
 * `[{id, coachId}]` of the user's future cancellable bookings, as a JSON array
 * subquery: account deletion reads them together with the user (one round trip).
 */
export function futureBookingsOf(userId: SQL | string, now: Date): SQL {
  return sql`(select coalesce(json_agg(json_build_object('id', b.id, 'coachId', b.coach_id)), '[]'::json)
                from ${bookings} b
               where (b.client_id = ${userId} or b.coach_id = ${userId})
                 and b.status in (${sql.join(
                   CANCELLABLE.map((status) => sql`${status}`),
                   sql`, `,
                 )})
                 and b.session_datetime > ${now.toISOString()})`;
}

type CancelOutcome =
  | {
      outcome: "cancelled";
      booking: Record<string, unknown>;
      expire_sessions: string[];
      /** refunds recorded (refund_requested_at) with what the Stripe call needs */
      refunds: Array<{ payment_id: string; payment_intent_id: string; destination_account: string | null }>;
      /** paid payments due a refund that have no payment intent (flagged; cannot happen for Stripe-confirmed ones) */
      unrefundable: number;
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
    // After the commit and after the response: the booking is cancelled whatever Stripe does now.
    runStripeFollowUps(
      env,
      {
        expireSessions: result.expire_sessions,
        refunds: result.refunds.map((row) => ({
          paymentId: row.payment_id,
          bookingId: booking.id,
          paymentIntentId: row.payment_intent_id,
          destinationCharge: row.destination_account !== null,
        })),
      },
      now,
    );
    const refund: RefundResult = result.unrefundable > 0 ? "pending" : wording;
    return { booking: rowFromJson(bookings, result.booking), parties, refund };
  }
}

/**
 * Account deletion: cancels every future pending/confirmed booking in which the
 * user is the client or the coach, under the policy (by an admin -> full
 * refund; the user is the coach -> full refund; the user is the client -> full
 * refund >= 24 h ahead, else none), notifying the other party only.
 * Returns how many were cancelled. Refunds are recorded with each cancellation
 * and made at Stripe after it (retried by the cron job), so Stripe being down
 * does not block a deletion.
 */
export async function cancelFutureBookingsOfUser(
  db: Database,
  env: ServiceEnv,
  input: {
    userId: string;
    byAdmin: boolean;
    now: Date;
    /** The bookings to cancel when the caller already read them (futureBookingsOf); read here otherwise. */
    candidates?: ReadonlyArray<{ id: string; coachId: string }>;
  },
): Promise<number> {
  const { userId, byAdmin, now } = input;
  const candidates =
    input.candidates ??
    (await db
      .select({ id: bookings.id, coachId: bookings.coachId })
      .from(bookings)
      .where(
        and(
          or(eq(bookings.clientId, userId), eq(bookings.coachId, userId)),
          inArray(bookings.status, [...CANCELLABLE]),
          gt(bookings.sessionDatetime, now),
        ),
      ));
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
