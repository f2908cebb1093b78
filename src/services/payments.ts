/**
 * Payments: Stripe Checkout for a pending booking, the webhook's exactly-once
 * effects, and the stale-checkout cleanup of the cron job.
 *
 * Exactly once: every webhook event is applied in ONE transaction that first
 * inserts its id into `stripe_events` (ON CONFLICT DO NOTHING). A duplicate
 * finds the id and does nothing; a concurrent duplicate blocks on the primary
 * key until the first commits (then does nothing) or rolls back (then applies).
 *
 * Monotonic states, whatever order Stripe delivers in:
 * - payment: pending/failed -> succeeded -> refunded; `refunded` is final,
 *   `failed` may still become `succeeded` (a retried card), never the reverse.
 * - a payment arriving for a booking that is already cancelled (late
 *   `checkout.session.completed`) never revives it: the payment is recorded as
 *   succeeded with a flag_reason and refunded at once through Stripe (idempotent
 *   key), so the client gets the money back and revenue nets it out.
 * - a payment arriving for a booking already confirmed by ANOTHER payment
 *   (a double payment) is handled the same way (recorded, flagged, refunded).
 * - an amount or currency that differs from the payment row is not confirmed:
 *   received_amount/received_currency/flag_reason are stored, the booking stays
 *   pending and is left for an admin (the cron job does not cancel it).
 *
 * Lock order everywhere (here and in booking-cancellation.ts): booking row, then
 * payment rows, so a cancellation and a webhook for the same booking serialise.
 */

import { and, asc, desc, eq, gt, inArray, isNull, lte, notExists, or, sql } from "drizzle-orm";
import Stripe from "stripe";
import { type Booking, bookings, coachProfiles, type Payment, payments, stripeEvents, users } from "../../drizzle/schema.ts";
import type { Database, Transaction } from "../db/client.ts";
import type { AuthUser, ServiceEnv } from "../env.ts";
import { AppError, badRequest, conflict, forbidden, notFound } from "../lib/errors.ts";
import { requireIso } from "../lib/time.ts";
import { type BookingNotice, bookingEmails, displayName, loadParties } from "./bookings.ts";
import { dispatchEmails, recordEmails } from "./notifications.ts";
import { fromMinorUnits, minorUnitFactor, refundPaymentIntent, requireStripe, stripeFailure, toMinorUnits } from "./stripe.ts";

/** Checkout sessions live 30 minutes (contract). */
export const CHECKOUT_LIFETIME_MS = 30 * 60 * 1000;
/**
 * Stripe refuses an expires_at less than 30 minutes after the session's
 * creation as measured on its side; this margin covers the request's latency.
 */
const EXPIRY_MARGIN_MS = 30 * 1000;
/** A session about to expire is not handed out again: the client would not have time to pay. */
const REUSE_MIN_REMAINING_MS = 60 * 1000;
/** A pending booking nobody started paying for is released after this long. */
export const UNPAID_HOLD_MS = CHECKOUT_LIFETIME_MS;

// ---------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------

export interface CheckoutView {
  session_id: string;
  checkout_url: string;
  expires_at: string;
}

export interface PaymentView {
  id: string;
  booking_id: string;
  amount: number;
  currency: string;
  status: Payment["status"];
  stripe_session_id: string | null;
  stripe_payment_intent_id: string | null;
  created_at: string;
  updated_at: string;
  paid_at: string | null;
  refunded_at: string | null;
  flag_reason: string | null;
}

export function paymentView(payment: Payment): PaymentView {
  return {
    id: payment.id,
    booking_id: payment.bookingId,
    amount: Number(payment.amount),
    currency: payment.currency,
    status: payment.status,
    stripe_session_id: payment.stripeSessionId,
    stripe_payment_intent_id: payment.stripePaymentIntentId,
    created_at: requireIso(payment.createdAt),
    updated_at: requireIso(payment.updatedAt),
    paid_at: payment.paidAt ? requireIso(payment.paidAt) : null,
    refunded_at: payment.refundedAt ? requireIso(payment.refundedAt) : null,
    flag_reason: payment.flagReason,
  };
}

export async function getPaymentFor(db: Database, paymentId: string, caller: AuthUser): Promise<PaymentView> {
  const [row] = await db
    .select({ payment: payments, clientId: bookings.clientId, coachId: bookings.coachId })
    .from(payments)
    .innerJoin(bookings, eq(bookings.id, payments.bookingId))
    .where(eq(payments.id, paymentId))
    .limit(1);
  if (!row) throw notFound("Payment");
  if (caller.role !== "admin" && caller.id !== row.clientId && caller.id !== row.coachId)
    throw forbidden("This payment belongs to other users");
  return paymentView(row.payment);
}

// ---------------------------------------------------------------------------
// Checkout
// ---------------------------------------------------------------------------

/** Session price in minor units: hourly rate x minutes / 60, rounded to the minor unit. */
export function sessionPriceMinor(hourlyRate: string | number, durationMinutes: number, currency: string): number {
  const rateMinor = toMinorUnits(Number(hourlyRate), currency);
  return Math.round((rateMinor * durationMinutes) / 60);
}

function checkoutUrls(env: ServiceEnv, bookingId: string): { success: string; cancel: string } {
  const success = env.config.checkoutSuccessUrl;
  const cancel = env.config.checkoutCancelUrl;
  const join = (url: string, query: string) => `${url}${url.includes("?") ? "&" : "?"}${query}`;
  return {
    // {CHECKOUT_SESSION_ID} is filled in by Stripe.
    success: join(success, `booking_id=${bookingId}&session_id={CHECKOUT_SESSION_ID}`),
    cancel: join(cancel, `booking_id=${bookingId}`),
  };
}

/**
 * A Checkout Session for the caller's pending booking. The booking row is
 * locked for the whole call so that two parallel calls cannot open two
 * sessions: the second waits and gets the first one's open session. Stripe is
 * called inside the transaction: when it fails nothing is written (503).
 */
export async function createCheckout(
  db: Database,
  env: ServiceEnv,
  input: { bookingId: string; caller: AuthUser; now: Date },
): Promise<CheckoutView> {
  const { caller, now } = input;
  return db.transaction(async (tx) => {
    const [booking] = await tx.select().from(bookings).where(eq(bookings.id, input.bookingId)).for("update");
    if (!booking) throw notFound("Booking");
    if (booking.clientId !== caller.id) throw forbidden("Only the booking's client can pay for it");
    if (booking.status !== "pending") {
      throw badRequest(`The booking is ${booking.status}, only a pending booking can be paid`, { status: booking.status });
    }
    if (booking.sessionDatetime.getTime() <= now.getTime())
      throw badRequest("The session has already started", { status: booking.status });

    const attempts = await tx.select().from(payments).where(eq(payments.bookingId, booking.id)).orderBy(desc(payments.createdAt));
    // Money already received (e.g. an amount under review) must not be asked for twice.
    if (attempts.some((payment) => payment.status === "succeeded" || payment.receivedAmount !== null)) {
      throw conflict("A payment for this booking has already been received and is being processed", {
        reason: "payment_received",
      });
    }
    const open = attempts.find(
      (payment) =>
        payment.status === "pending" &&
        payment.stripeSessionId &&
        payment.checkoutUrl &&
        payment.expiresAt &&
        payment.expiresAt.getTime() - now.getTime() > REUSE_MIN_REMAINING_MS,
    );
    if (open) {
      return {
        session_id: open.stripeSessionId as string,
        checkout_url: open.checkoutUrl as string,
        expires_at: requireIso(open.expiresAt as Date),
      };
    }

    const stripe = requireStripe(env);
    const [coach] = await tx
      .select({
        hourlyRate: coachProfiles.hourlyRate,
        currency: coachProfiles.currency,
        firstName: coachProfiles.firstName,
        lastName: coachProfiles.lastName,
      })
      .from(coachProfiles)
      .where(eq(coachProfiles.userId, booking.coachId))
      .limit(1);
    if (!coach || coach.hourlyRate === null)
      throw conflict("The coach has no hourly rate; the session cannot be paid", { reason: "coach_has_no_rate" });
    const [client] = await tx.select({ email: users.email }).from(users).where(eq(users.id, booking.clientId)).limit(1);

    const currency = coach.currency.toUpperCase();
    const amountMinor = sessionPriceMinor(coach.hourlyRate, booking.durationMinutes, currency);
    const expiresAt = new Date(Math.floor((now.getTime() + CHECKOUT_LIFETIME_MS + EXPIRY_MARGIN_MS) / 1000) * 1000);
    const paymentId = crypto.randomUUID();
    const urls = checkoutUrls(env, booking.id);
    const metadata = { booking_id: booking.id, payment_id: paymentId };
    const coachName = displayName({
      id: booking.coachId,
      email: "",
      firstName: coach.firstName,
      lastName: coach.lastName,
      photoUrl: null,
    });

    let session: Stripe.Checkout.Session;
    try {
      session = await stripe.checkout.sessions.create(
        {
          mode: "payment",
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: currency.toLowerCase(),
                unit_amount: amountMinor,
                product_data: { name: `Coaching session with ${coachName} (${booking.durationMinutes} min)` },
              },
            },
          ],
          expires_at: Math.floor(expiresAt.getTime() / 1000),
          client_reference_id: booking.id,
          ...(client?.email && !client.email.endsWith("@invalid") ? { customer_email: client.email } : {}),
          metadata,
          payment_intent_data: { metadata },
          success_url: urls.success,
          cancel_url: urls.cancel,
        },
        // One key per attempt: the SDK's retry and a replay after a lost
        // response get the same session, never a second one.
        { idempotencyKey: `checkout-${booking.id}-${paymentId}` },
      );
    } catch (error) {
      throw stripeFailure(error, "checkout.sessions.create");
    }
    if (!session.url) throw new AppError("SERVICE_UNAVAILABLE", "The payment provider returned no checkout URL");
    const sessionExpiry = session.expires_at ? new Date(session.expires_at * 1000) : expiresAt;

    await tx.insert(payments).values({
      id: paymentId,
      bookingId: booking.id,
      amount: fromMinorUnits(amountMinor, currency).toFixed(minorUnitFactor(currency) === 1 ? 0 : 2),
      currency,
      status: "pending",
      stripeSessionId: session.id,
      checkoutUrl: session.url,
      expiresAt: sessionExpiry,
      createdAt: now,
      updatedAt: now,
    });
    await tx.update(bookings).set({ paymentId, updatedAt: now }).where(eq(bookings.id, booking.id));
    return { session_id: session.id, checkout_url: session.url, expires_at: requireIso(sessionExpiry) };
  });
}

// ---------------------------------------------------------------------------
// Webhook
// ---------------------------------------------------------------------------

const WEBHOOK_TOLERANCE_SECONDS = 300;

/** Verifies the signature of the raw body; any failure is a 400 (contract). */
export async function verifyStripeEvent(
  env: ServiceEnv,
  rawBody: string,
  signature: string | undefined,
  now: Date,
): Promise<Stripe.Event> {
  const secret = env.config.stripe.webhookSecret;
  if (!secret) throw new AppError("SERVICE_UNAVAILABLE", "Webhooks are not configured (STRIPE_WEBHOOK_SECRET)");
  if (!signature) throw badRequest("Missing Stripe-Signature header", { header: "stripe-signature" });
  // The SDK rejects only timestamps that are too old; one too far in the
  // future is just as far outside the tolerance (contract: 400).
  const signedAt = Number(/(?:^|,)\s*t=(\d+)/.exec(signature)?.[1]);
  if (Number.isFinite(signedAt) && signedAt - now.getTime() / 1000 > WEBHOOK_TOLERANCE_SECONDS) {
    throw badRequest("Webhook timestamp outside the tolerance", { header: "stripe-signature" });
  }
  try {
    return await Stripe.webhooks.constructEventAsync(
      rawBody,
      signature,
      secret,
      WEBHOOK_TOLERANCE_SECONDS,
      Stripe.createSubtleCryptoProvider(),
      now.getTime(),
    );
  } catch (error) {
    const message =
      error instanceof Error && /tolerance/i.test(error.message)
        ? "Webhook timestamp outside the tolerance"
        : "Invalid Stripe signature";
    throw badRequest(message, { header: "stripe-signature" });
  }
}

export type WebhookOutcome = { duplicate: boolean; effect: string };

interface PaymentSignal {
  /** how to find our payment row */
  sessionId?: string | null;
  intentId?: string | null;
  paymentId?: string | null;
  bookingId?: string | null;
}

interface Effects {
  emails: string[];
}

const idOf = (value: string | { id: string } | null | undefined): string | null =>
  typeof value === "string" ? value : value && typeof value === "object" ? value.id : null;

/** Our payment row for a Stripe object (by session, intent, metadata payment id, metadata booking id), locked. */
async function findPayment(tx: Transaction, signal: PaymentSignal): Promise<{ payment: Payment; booking: Booking } | undefined> {
  const conditions = [
    signal.sessionId ? eq(payments.stripeSessionId, signal.sessionId) : undefined,
    signal.intentId ? eq(payments.stripePaymentIntentId, signal.intentId) : undefined,
    signal.paymentId && /^[0-9a-f-]{36}$/i.test(signal.paymentId) ? eq(payments.id, signal.paymentId) : undefined,
  ].filter((condition) => condition !== undefined);
  let candidate: Payment | undefined;
  if (conditions.length > 0) {
    [candidate] = await tx
      .select()
      .from(payments)
      .where(or(...conditions))
      .limit(1);
  }
  if (!candidate && signal.bookingId && /^[0-9a-f-]{36}$/i.test(signal.bookingId)) {
    // Last resort: the booking's most recent attempt.
    [candidate] = await tx
      .select()
      .from(payments)
      .where(eq(payments.bookingId, signal.bookingId))
      .orderBy(desc(payments.createdAt))
      .limit(1);
  }
  if (!candidate) return undefined;
  // Lock order: booking, then payment.
  const [booking] = await tx.select().from(bookings).where(eq(bookings.id, candidate.bookingId)).for("update");
  const [payment] = await tx.select().from(payments).where(eq(payments.id, candidate.id)).for("update");
  if (!booking || !payment) return undefined;
  return { payment, booking };
}

async function notify(tx: Transaction, effects: Effects, booking: Booking, notice: BookingNotice): Promise<void> {
  const parties = await loadParties(tx, booking);
  effects.emails.push(...(await recordEmails(tx, bookingEmails(booking, parties, notice))));
}

async function cancelBookingRow(tx: Transaction, booking: Booking, now: Date): Promise<Booking> {
  const [updated] = await tx
    .update(bookings)
    .set({ status: "cancelled", sequence: sql`${bookings.sequence} + 1`, updatedAt: now })
    .where(eq(bookings.id, booking.id))
    .returning();
  return updated as Booking;
}

/** A successful payment (checkout.session.completed paid, or payment_intent.succeeded). */
async function applyPaymentSucceeded(
  tx: Transaction,
  env: ServiceEnv,
  effects: Effects,
  signal: PaymentSignal & { amountMinor: number | null; currency: string | null },
  now: Date,
): Promise<string> {
  const found = await findPayment(tx, signal);
  if (!found) return "ignored: no matching payment";
  const { payment, booking } = found;
  const intentId = signal.intentId ?? payment.stripePaymentIntentId;
  const base = { stripePaymentIntentId: intentId, updatedAt: now };

  if (payment.status === "refunded") {
    // The refund came first (out of order): it stays refunded.
    await tx
      .update(payments)
      .set({ ...base, paidAt: payment.paidAt ?? now })
      .where(eq(payments.id, payment.id));
    return "kept refunded";
  }
  if (payment.status === "succeeded") {
    if (!payment.stripePaymentIntentId && intentId) await tx.update(payments).set(base).where(eq(payments.id, payment.id));
    return "already succeeded";
  }

  // Amount and currency must be what we asked for.
  const expectedMinor = toMinorUnits(Number(payment.amount), payment.currency);
  const receivedCurrency = (signal.currency ?? payment.currency).toUpperCase();
  const receivedMinor = signal.amountMinor ?? expectedMinor;
  if (receivedMinor !== expectedMinor || receivedCurrency !== payment.currency.toUpperCase()) {
    await tx
      .update(payments)
      .set({
        ...base,
        receivedAmount: fromMinorUnits(receivedMinor, receivedCurrency).toFixed(2),
        receivedCurrency,
        flagReason: `amount mismatch: expected ${fromMinorUnits(expectedMinor, payment.currency).toFixed(2)} ${payment.currency}, received ${fromMinorUnits(receivedMinor, receivedCurrency).toFixed(2)} ${receivedCurrency}`,
      })
      .where(eq(payments.id, payment.id));
    console.warn(
      JSON.stringify({ level: "warn", msg: "payment amount mismatch", payment_id: payment.id, booking_id: booking.id }),
    );
    return "flagged: amount mismatch";
  }

  const bookingTaken =
    booking.status === "cancelled" ||
    ((booking.status === "confirmed" || booking.status === "completed") && booking.paymentId !== payment.id);
  if (bookingTaken) {
    // Never revive or double-charge: record the money, then give it back.
    const reason =
      booking.status === "cancelled" ? "paid after the booking was cancelled" : "second payment for an already confirmed booking";
    await tx
      .update(payments)
      .set({ ...base, status: "succeeded", paidAt: now, flagReason: `${reason}; refund issued` })
      .where(eq(payments.id, payment.id));
    if (!intentId) return `flagged: ${reason} (no intent id to refund)`;
    const outcome = await refundPaymentIntent(requireStripe(env), {
      paymentId: payment.id,
      paymentIntentId: intentId,
      bookingId: booking.id,
    });
    if (outcome.status === "succeeded") {
      await tx.update(payments).set({ status: "refunded", refundedAt: now, updatedAt: now }).where(eq(payments.id, payment.id));
      await notify(tx, effects, booking, { kind: "refunded" });
    }
    return `refunded: ${reason}`;
  }

  await tx
    .update(payments)
    .set({ ...base, status: "succeeded", paidAt: now, flagReason: null })
    .where(eq(payments.id, payment.id));
  if (booking.status === "pending") {
    const [confirmed] = await tx
      .update(bookings)
      .set({ status: "confirmed", paymentId: payment.id, sequence: sql`${bookings.sequence} + 1`, updatedAt: now })
      .where(eq(bookings.id, booking.id))
      .returning();
    await notify(tx, effects, confirmed as Booking, { kind: "confirmed" });
    return "confirmed";
  }
  return "succeeded";
}

async function applyPaymentFailed(tx: Transaction, signal: PaymentSignal, now: Date): Promise<string> {
  const found = await findPayment(tx, signal);
  if (!found) return "ignored: no matching payment";
  const { payment } = found;
  if (payment.status !== "pending") return `kept ${payment.status}`;
  await tx
    .update(payments)
    .set({ status: "failed", stripePaymentIntentId: signal.intentId ?? payment.stripePaymentIntentId, updatedAt: now })
    .where(eq(payments.id, payment.id));
  return "failed";
}

async function applyRefunded(
  tx: Transaction,
  effects: Effects,
  signal: PaymentSignal & { fully: boolean; refundedMinor: number | null },
  now: Date,
): Promise<string> {
  const found = await findPayment(tx, signal);
  if (!found) return "ignored: no matching payment";
  const { payment, booking } = found;
  if (payment.status === "refunded") return "already refunded";
  if (!signal.fully) {
    // A partial refund (made in the dashboard): keep the record, do not cancel.
    await tx
      .update(payments)
      .set({
        flagReason: `partially refunded (${signal.refundedMinor ?? "?"} minor units)`,
        updatedAt: now,
        stripePaymentIntentId: signal.intentId ?? payment.stripePaymentIntentId,
      })
      .where(eq(payments.id, payment.id));
    return "flagged: partial refund";
  }
  await tx
    .update(payments)
    .set({
      status: "refunded",
      refundedAt: now,
      paidAt: payment.paidAt ?? now,
      stripePaymentIntentId: signal.intentId ?? payment.stripePaymentIntentId,
      updatedAt: now,
    })
    .where(eq(payments.id, payment.id));
  let current = booking;
  if (booking.status === "pending" || booking.status === "confirmed") {
    current = await cancelBookingRow(tx, booking, now);
    await notify(tx, effects, current, { kind: "cancelled", refund: "full", cancelledBy: "system" });
    return "refunded, booking cancelled";
  }
  // Cancelled already (our own refund) or completed: tell both that the money went back.
  await notify(tx, effects, current, { kind: "refunded" });
  return "refunded";
}

async function applyCheckoutExpired(tx: Transaction, effects: Effects, signal: PaymentSignal, now: Date): Promise<string> {
  const found = await findPayment(tx, signal);
  if (!found) return "ignored: no matching payment";
  const { payment, booking } = found;
  if (payment.status === "pending") {
    await tx.update(payments).set({ status: "failed", updatedAt: now }).where(eq(payments.id, payment.id));
  }
  if (booking.status !== "pending")
    return `payment ${payment.status === "pending" ? "failed" : "kept"}; booking kept ${booking.status}`;
  // Another attempt still open, paid or under review keeps the booking.
  const others = await tx
    .select({ id: payments.id })
    .from(payments)
    .where(
      and(
        eq(payments.bookingId, booking.id),
        sql`${payments.id} <> ${payment.id}`,
        or(
          and(eq(payments.status, "pending"), gt(payments.expiresAt, now)),
          eq(payments.status, "succeeded"),
          sql`${payments.receivedAmount} is not null`,
        ),
      ),
    )
    .limit(1);
  if (others.length > 0 || payment.receivedAmount !== null) return "payment failed; booking kept (another attempt)";
  const cancelled = await cancelBookingRow(tx, booking, now);
  await notify(tx, effects, cancelled, { kind: "cancelled", refund: "not_paid", cancelledBy: "system" });
  return "payment failed; booking cancelled";
}

/** Applies one verified event exactly once. */
export async function handleStripeEvent(db: Database, env: ServiceEnv, event: Stripe.Event, now: Date): Promise<WebhookOutcome> {
  const effects: Effects = { emails: [] };
  const outcome = await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(stripeEvents)
      .values({ id: event.id, type: event.type, receivedAt: now })
      .onConflictDoNothing()
      .returning({ id: stripeEvents.id });
    if (inserted.length === 0) return { duplicate: true, effect: "duplicate" };

    switch (event.type) {
      case "checkout.session.completed":
      case "checkout.session.async_payment_succeeded": {
        const session = event.data.object;
        if (session.payment_status !== "paid")
          return { duplicate: false, effect: `ignored: payment_status ${session.payment_status}` };
        const effect = await applyPaymentSucceeded(
          tx,
          env,
          effects,
          {
            sessionId: session.id,
            intentId: idOf(session.payment_intent),
            paymentId: session.metadata?.payment_id,
            bookingId: session.metadata?.booking_id ?? session.client_reference_id,
            amountMinor: session.amount_total,
            currency: session.currency,
          },
          now,
        );
        return { duplicate: false, effect };
      }
      case "payment_intent.succeeded": {
        const intent = event.data.object;
        const effect = await applyPaymentSucceeded(
          tx,
          env,
          effects,
          {
            intentId: intent.id,
            paymentId: intent.metadata?.payment_id,
            bookingId: intent.metadata?.booking_id,
            amountMinor: intent.amount_received ?? intent.amount,
            currency: intent.currency,
          },
          now,
        );
        return { duplicate: false, effect };
      }
      case "payment_intent.payment_failed":
      case "checkout.session.async_payment_failed": {
        const object = event.data.object;
        const signal: PaymentSignal =
          object.object === "payment_intent"
            ? { intentId: object.id, paymentId: object.metadata?.payment_id, bookingId: object.metadata?.booking_id }
            : {
                sessionId: object.id,
                intentId: idOf(object.payment_intent),
                paymentId: object.metadata?.payment_id,
                bookingId: object.metadata?.booking_id,
              };
        return { duplicate: false, effect: await applyPaymentFailed(tx, signal, now) };
      }
      case "charge.refunded": {
        const charge = event.data.object;
        const effect = await applyRefunded(
          tx,
          effects,
          {
            intentId: idOf(charge.payment_intent),
            paymentId: charge.metadata?.payment_id,
            bookingId: charge.metadata?.booking_id,
            fully: charge.refunded === true || (charge.amount_refunded ?? 0) >= charge.amount,
            refundedMinor: charge.amount_refunded ?? null,
          },
          now,
        );
        return { duplicate: false, effect };
      }
      case "checkout.session.expired": {
        const session = event.data.object;
        const effect = await applyCheckoutExpired(
          tx,
          effects,
          {
            sessionId: session.id,
            paymentId: session.metadata?.payment_id,
            bookingId: session.metadata?.booking_id ?? session.client_reference_id,
          },
          now,
        );
        return { duplicate: false, effect };
      }
      default:
        return { duplicate: false, effect: "ignored: unhandled type" };
    }
  });
  await dispatchEmails(env, effects.emails);
  console.log(JSON.stringify({ level: "info", msg: "stripe event", event_id: event.id, type: event.type, ...outcome }));
  return outcome;
}

// ---------------------------------------------------------------------------
// Cron: stale pending bookings
// ---------------------------------------------------------------------------

/**
 * Releases pending bookings nobody is paying for: every checkout attempt has
 * expired (no webhook arrived), or none was started within UNPAID_HOLD_MS, or
 * the session time has passed. Bookings with money received (succeeded or
 * flagged) are left alone. Each is cancelled in its own transaction with the
 * booking row locked and the status re-checked, so a payment arriving at the
 * same moment wins or loses cleanly.
 */
export async function releaseStalePendingBookings(
  db: Database,
  env: ServiceEnv,
  now: Date,
  /** narrows the sweep to one coach's bookings (tests and manual runs; the cron sweeps all) */
  scope: { coachId?: string } = {},
): Promise<number> {
  const holdCutoff = new Date(now.getTime() - UNPAID_HOLD_MS);
  const liveOrPaid = db
    .select({ id: payments.id })
    .from(payments)
    .where(
      and(
        eq(payments.bookingId, bookings.id),
        or(
          and(eq(payments.status, "pending"), or(isNull(payments.expiresAt), gt(payments.expiresAt, now))),
          eq(payments.status, "succeeded"),
          sql`${payments.receivedAmount} is not null`,
        ),
      ),
    );
  const stale = await db
    .select({ id: bookings.id })
    .from(bookings)
    .where(
      and(
        eq(bookings.status, "pending"),
        or(lte(bookings.createdAt, holdCutoff), lte(bookings.sessionDatetime, now)),
        notExists(liveOrPaid),
        scope.coachId ? eq(bookings.coachId, scope.coachId) : undefined,
      ),
    )
    .orderBy(asc(bookings.createdAt))
    .limit(200);
  let released = 0;
  for (const { id } of stale) {
    const emails: string[] = [];
    const done = await db.transaction(async (tx) => {
      const [booking] = await tx.select().from(bookings).where(eq(bookings.id, id)).for("update");
      if (booking?.status !== "pending") return false;
      const [blocking] = await tx
        .select({ id: payments.id })
        .from(payments)
        .where(
          and(
            eq(payments.bookingId, id),
            or(
              and(eq(payments.status, "pending"), or(isNull(payments.expiresAt), gt(payments.expiresAt, now))),
              eq(payments.status, "succeeded"),
              sql`${payments.receivedAmount} is not null`,
            ),
          ),
        )
        .limit(1);
      if (blocking) return false;
      await tx
        .update(payments)
        .set({ status: "failed", updatedAt: now })
        .where(and(eq(payments.bookingId, id), inArray(payments.status, ["pending"])));
      const cancelled = await cancelBookingRow(tx, booking, now);
      const parties = await loadParties(tx, cancelled);
      emails.push(
        ...(await recordEmails(
          tx,
          bookingEmails(cancelled, parties, { kind: "cancelled", refund: "not_paid", cancelledBy: "system" }),
        )),
      );
      return true;
    });
    if (done) {
      released++;
      await dispatchEmails(env, emails);
    }
  }
  return released;
}
