/**
 * Cancelling a booking: the one implementation behind DELETE /booking/{id},
 * PATCH /booking/{id}/status {status:"cancelled"} and account deletion.
 *
 * In one transaction: the booking row is locked (the webhook's guarded write
 * sees the change and re-decides), set to `cancelled` (SEQUENCE + 1 for
 * calendars), open checkout attempts are marked failed, a refund due under the
 * policy is RECORDED (`refund_requested_at`) and the emails are recorded.
 * Stripe is called only after the commit and after the response
 * (payment-followups.ts): the refund with the payment's idempotency key, the
 * open sessions expired. A cancellation therefore never waits on Stripe; a
 * refund whose call fails stays recorded and the cron job makes it again
 * (same key, so never twice); Stripe's answer or its `charge.refunded` event
 * marks the payment refunded.
 */
import { and, eq, gt, inArray, or, sql } from "drizzle-orm";
import { type Booking, bookings, payments } from "../../drizzle/schema.ts";
import type { Database } from "../db/client.ts";
import type { ServiceEnv } from "../env.ts";
import { AppError, badRequest, notFound } from "../lib/errors.ts";
import { type CancellingParty, refundDue } from "./booking-rules.ts";
import { bookingEmails, loadParties } from "./bookings.ts";
import { dispatchEmails, recordEmails } from "./notifications.ts";
import { type RefundIntent, runStripeFollowUps } from "./payment-followups.ts";

export type RefundResult =
  /** nothing was paid */
  | "not_paid"
  /** paid, a full refund is due: recorded, made at Stripe right after the commit */
  | "full"
  /** paid, refund due but it cannot be made automatically (no payment intent id): flagged for an admin */
  | "pending"
  /** paid, the policy gives no refund */
  | "none";

export interface CancellationResult {
  booking: Booking;
  refund: RefundResult;
}

export interface CancelBookingInput {
  bookingId: string;
  /** who cancels, for the refund policy ("system" = the cron/webhook; no refund decision is made for it) */
  party: CancellingParty | "system";
  now: Date;
  /** users who get no email (e.g. the account being deleted) */
  skipNotifyUserIds?: readonly string[];
}

const CANCELLABLE = ["pending", "confirmed"] as const;

/** Cancels one booking under the policy. 404 unknown, 400 when it is not pending/confirmed. */
export async function cancelBooking(db: Database, env: ServiceEnv, input: CancelBookingInput): Promise<CancellationResult> {
  const { now } = input;
  let expireSessions: string[] = [];
  let outboxIds: string[] = [];
  const refunds: RefundIntent[] = [];
  const result = await db.transaction(async (tx) => {
    const [booking] = await tx.select().from(bookings).where(eq(bookings.id, input.bookingId)).for("update");
    if (!booking) throw notFound("Booking");
    if (!(CANCELLABLE as readonly string[]).includes(booking.status)) {
      throw badRequest(`A ${booking.status} booking cannot be cancelled`, {
        status: booking.status,
        allowed_from: [...CANCELLABLE],
      });
    }

    const attempts = await tx.select().from(payments).where(eq(payments.bookingId, booking.id)).for("update");
    // Open checkouts of this booking can no longer be paid for: close them here
    // and at Stripe (after commit, best effort; a payment that still slips
    // through is refunded by the webhook).
    const open = attempts.filter((payment) => payment.status === "pending");
    if (open.length > 0) {
      await tx
        .update(payments)
        .set({ status: "failed", flagReason: "booking cancelled before payment", updatedAt: now })
        .where(
          inArray(
            payments.id,
            open.map((payment) => payment.id),
          ),
        );
      expireSessions = open
        .filter((payment) => payment.stripeSessionId && (!payment.expiresAt || payment.expiresAt > now))
        .map((payment) => payment.stripeSessionId as string);
    }

    const paid = attempts.filter((payment) => payment.status === "succeeded");
    let refund: RefundResult = paid.length === 0 ? "not_paid" : "none";
    const due = input.party === "system" || refundDue(input.party, booking.sessionDatetime, now);
    if (paid.length > 0 && due) {
      refund = "full";
      for (const payment of paid) {
        if (!payment.stripePaymentIntentId) {
          // Cannot happen for a payment confirmed by Stripe; keep it visible rather than guess.
          await tx
            .update(payments)
            .set({ flagReason: "refund due but no payment intent id", updatedAt: now })
            .where(eq(payments.id, payment.id));
          refund = "pending";
          continue;
        }
        // The intent: made at Stripe after the commit (and by the cron job if that call fails).
        await tx.update(payments).set({ refundRequestedAt: now, updatedAt: now }).where(eq(payments.id, payment.id));
        refunds.push({
          paymentId: payment.id,
          bookingId: booking.id,
          paymentIntentId: payment.stripePaymentIntentId,
          destinationCharge: payment.destinationAccount !== null,
        });
      }
    }

    const [updated] = await tx
      .update(bookings)
      .set({ status: "cancelled", sequence: sql`${bookings.sequence} + 1`, updatedAt: now })
      .where(eq(bookings.id, booking.id))
      .returning();
    const parties = await loadParties(tx, booking);
    const cancelledBy = input.party;
    outboxIds = await recordEmails(
      tx,
      bookingEmails(booking, parties, { kind: "cancelled", refund, cancelledBy }, input.skipNotifyUserIds ?? []),
    );
    return { booking: updated as Booking, refund };
  });

  await dispatchEmails(env, outboxIds);
  // After the commit and after the response: the booking is cancelled whatever Stripe does now.
  runStripeFollowUps(env, { refunds, expireSessions }, now);
  return result;
}

/**
 * Account deletion: cancels every future pending/confirmed booking in which the
 * user is the client or the coach, under the policy (by an admin -> full
 * refund; the user is the coach -> full refund; the user is the client -> full
 * refund >= 24 h ahead, else none), notifying the other party only.
 * Each booking is its own transaction; returns how many were cancelled.
 * Refunds are recorded with each cancellation and made at Stripe after it
 * (retried by the cron job), so Stripe being down does not block a deletion.
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
