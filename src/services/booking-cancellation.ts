/**
 * Cancelling a booking: the one implementation behind DELETE /booking/{id},
 * PATCH /booking/{id}/status {status:"cancelled"} and account deletion.
 *
 * In one transaction: the booking row is locked (the webhook locks it too, so
 * a payment event and a cancellation are serialised), set to `cancelled`
 * (SEQUENCE + 1 for calendars), open checkout attempts are marked failed, a
 * refund due under the policy is made through Stripe (idempotency key per
 * payment, so a retry never refunds twice) and the emails are recorded.
 * The Stripe refund call is inside the transaction on purpose: if Stripe is
 * unreachable the cancellation answers 503 and nothing changed, so the caller
 * can retry; if the refund went through but the commit failed, Stripe's
 * `charge.refunded` webhook still cancels the booking and marks the payment.
 */
import { and, eq, gt, inArray, or, sql } from "drizzle-orm";
import { type Booking, bookings, payments } from "../../drizzle/schema.ts";
import type { Database } from "../db/client.ts";
import type { ServiceEnv } from "../env.ts";
import { AppError, badRequest, notFound } from "../lib/errors.ts";
import { type CancellingParty, refundDue } from "./booking-rules.ts";
import { bookingEmails, loadParties } from "./bookings.ts";
import { dispatchEmails, recordEmails } from "./notifications.ts";
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
      const stripe = requireStripe(env);
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
        const outcome = await refundPaymentIntent(stripe, {
          paymentId: payment.id,
          paymentIntentId: payment.stripePaymentIntentId,
          bookingId: booking.id,
        });
        if (outcome.status === "succeeded") {
          await tx
            .update(payments)
            .set({ status: "refunded", refundedAt: now, updatedAt: now })
            .where(eq(payments.id, payment.id));
        } else {
          // Stripe accepted the refund but has not settled it: charge.refunded will mark it.
          await tx
            .update(payments)
            .set({ flagReason: `refund ${outcome.refundId} ${outcome.status}`, updatedAt: now })
            .where(eq(payments.id, payment.id));
          refund = "pending";
        }
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
  if (expireSessions.length > 0) {
    const stripe = stripeClient(env);
    if (stripe) await Promise.all(expireSessions.map((sessionId) => expireCheckoutSession(stripe, sessionId)));
  }
  return result;
}

/**
 * Account deletion: cancels every future pending/confirmed booking in which the
 * user is the client or the coach, under the policy (by an admin -> full
 * refund; the user is the coach -> full refund; the user is the client -> full
 * refund >= 24 h ahead, else none), notifying the other party only.
 * Each booking is its own transaction; returns how many were cancelled.
 * Stripe being unreachable while a refund is due -> 503 (the deletion should
 * then not proceed; already cancelled bookings stay cancelled and refunded).
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
