/**
 * Payments: Stripe Checkout for a pending booking, the payment object, and the
 * stale-checkout cleanup of the cron job. The webhook is stripe-webhook.ts.
 *
 * Checkout never holds a transaction (or a row lock) while Stripe answers:
 *  1. one read: the booking, the coach's price and payout account, the
 *     client's email and every attempt of the booking;
 *  2. a guarded write records the INTENT: a `pending` payment row with the
 *     amount, fee, destination and the session's expiry, before any session
 *     exists (the booking's pointer moves to it; a concurrent checkout that
 *     read the same booking loses the guard and reads again);
 *  3. Stripe, after the commit, with the idempotency key `checkout-<payment id>`;
 *  4. the session's id and URL are written to the intent, after the response
 *     (recordSessionAfterResponse): the client waits for 2 round trips.
 * A lost answer (Stripe timed out, the client got 503) leaves the intent: the
 * client's retry sends the very same request with the same key and gets the
 * same session back; the webhook matches events by session id or by the
 * payment id in the session's metadata, never by the booking alone.
 *
 * Holds are bounded: a new session may only be opened while it would expire
 * within MAX_UNPAID_HOLD_MS of the booking's creation (docs/PAYMENTS.md).
 */

import { and, asc, eq, gt, inArray, isNull, lte, notExists, or, sql } from "drizzle-orm";
import { type Booking, bookings, coachProfiles, type Payment, payments, users } from "../../drizzle/schema.ts";
import type { CheckoutSession, PaymentWire } from "../contract/payments.ts";
import type { Database } from "../db/client.ts";
import { jsonRows, rowsFromJson } from "../db/json-rows.ts";
import type { AuthUser, ServiceEnv } from "../env.ts";
import { isStripeCurrency, minorToDecimalString, platformFeeMinor, sessionPriceMinor, toMinorUnits } from "../lib/currencies.ts";
import { AppError, badRequest, conflict, forbidden, notFound } from "../lib/errors.ts";
import { requireIso } from "../lib/time.ts";
import {
  type CheckoutRequest,
  createCheckoutSession,
  expireCheckoutSession,
  StaleIntentError,
  stripeClient,
} from "../platform/stripe.ts";
import { bookingEmails, loadParties } from "./bookings.ts";
import { dispatchEmails, recordEmails } from "./notifications.ts";
import { afterResponse, WRITE_ATTEMPTS } from "./payment-followups.ts";

/** Checkout sessions live 30 minutes (contract). */
export const CHECKOUT_LIFETIME_MS = 30 * 60 * 1000;
/**
 * Stripe refuses an expires_at less than 30 minutes after the session's
 * creation as measured on its side; this margin covers the request's latency.
 */
const EXPIRY_MARGIN_MS = 30 * 1000;
/** A session cut short by the hold bound still needs this much over Stripe's 30-minute minimum. */
const STRIPE_MINIMUM_MARGIN_MS = 10 * 1000;
/** A session about to expire is not handed out again: the client would not have time to pay. */
const REUSE_MIN_REMAINING_MS = 60 * 1000;
/** A pending booking nobody started paying for is released after this long. */
export const UNPAID_HOLD_MS = CHECKOUT_LIFETIME_MS;
/**
 * The longest an unpaid booking holds its slot: no checkout session of a
 * booking ever expires later than this after the booking was created, however
 * often checkout is re-opened (the cron job then frees the slot within its
 * 5-minute period if Stripe's expiry event is lost).
 */
export const MAX_UNPAID_HOLD_MS = 60 * 60 * 1000;

// ---------------------------------------------------------------------------
// The payment object
// ---------------------------------------------------------------------------

export function paymentView(payment: Payment): PaymentWire {
  const amount = Number(payment.amount);
  const fee = Number(payment.platformFee ?? 0);
  return {
    id: payment.id,
    booking_id: payment.bookingId,
    amount,
    currency: payment.currency,
    status: payment.status,
    stripe_session_id: payment.stripeSessionId,
    stripe_payment_intent_id: payment.stripePaymentIntentId,
    created_at: requireIso(payment.createdAt),
    updated_at: requireIso(payment.updatedAt),
    paid_at: payment.paidAt ? requireIso(payment.paidAt) : null,
    refunded_at: payment.refundedAt ? requireIso(payment.refundedAt) : null,
    flag_reason: payment.flagReason,
    platform_fee: fee,
    coach_amount: payment.coachAmount === null ? amount - fee : Number(payment.coachAmount),
    destination_account: payment.destinationAccount,
  };
}

export async function getPaymentFor(db: Database, paymentId: string, caller: AuthUser): Promise<PaymentWire> {
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

function checkoutUrls(env: ServiceEnv, bookingId: string): { success: string; cancel: string } {
  const join = (url: string, query: string) => `${url}${url.includes("?") ? "&" : "?"}${query}`;
  return {
    // {CHECKOUT_SESSION_ID} is filled in by Stripe.
    success: join(env.config.checkoutSuccessUrl, `booking_id=${bookingId}&session_id={CHECKOUT_SESSION_ID}`),
    cancel: join(env.config.checkoutCancelUrl, `booking_id=${bookingId}`),
  };
}

interface CheckoutState {
  booking: Booking;
  version: string;
  hourlyRate: string | null;
  currency: string | null;
  stripeAccountId: string | null;
  chargesEnabled: boolean;
  clientEmail: string | null;
  attempts: Payment[];
}

/** Read 1: everything checkout decides on, in one statement. */
async function readCheckoutState(db: Database, bookingId: string): Promise<CheckoutState | undefined> {
  const [row] = await db
    .select({
      booking: bookings,
      version: sql<string>`bookings.xmin::text`,
      hourlyRate: coachProfiles.hourlyRate,
      currency: coachProfiles.currency,
      stripeAccountId: coachProfiles.stripeAccountId,
      chargesEnabled: coachProfiles.stripeChargesEnabled,
      clientEmail: users.email,
      attempts: jsonRows(sql`select * from payments where booking_id = ${bookings.id}`, sql`r.created_at desc`),
    })
    .from(bookings)
    .leftJoin(coachProfiles, eq(coachProfiles.userId, bookings.coachId))
    .leftJoin(users, eq(users.id, bookings.clientId))
    .where(eq(bookings.id, bookingId))
    .limit(1);
  if (!row) return undefined;
  return {
    booking: row.booking,
    version: row.version,
    hourlyRate: row.hourlyRate,
    currency: row.currency,
    stripeAccountId: row.stripeAccountId,
    chargesEnabled: row.chargesEnabled === true,
    clientEmail: row.clientEmail,
    attempts: rowsFromJson(payments, row.attempts),
  };
}

/** The Stripe request of an intent: everything from the stored row and the booking, so a replay is identical. */
function checkoutRequest(env: ServiceEnv, state: CheckoutState, intent: Payment): CheckoutRequest {
  const urls = checkoutUrls(env, state.booking.id);
  const email = state.clientEmail && !state.clientEmail.endsWith("@invalid") ? state.clientEmail : null;
  const feeMinor = toMinorUnits(intent.platformFee ?? "0", intent.currency);
  return {
    paymentId: intent.id,
    bookingId: state.booking.id,
    currency: intent.currency,
    amountMinor: toMinorUnits(intent.amount, intent.currency),
    destination: intent.destinationAccount ? { account: intent.destinationAccount, feeMinor } : null,
    expiresAt: intent.expiresAt as Date,
    productName: `CultureBridge coaching session (${state.booking.durationMinutes} min)`,
    customerEmail: email,
    successUrl: urls.success,
    cancelUrl: urls.cancel,
  };
}

type CheckoutDecision =
  | { kind: "open"; session: CheckoutSession }
  | { kind: "replay"; intent: Payment }
  | { kind: "create"; intent: Payment };

function decideCheckout(env: ServiceEnv, state: CheckoutState, caller: AuthUser, now: Date): CheckoutDecision {
  const { booking, attempts } = state;
  if (booking.clientId !== caller.id) throw forbidden("Only the booking's client can pay for it");
  if (booking.status !== "pending") {
    throw badRequest(`The booking is ${booking.status}, only a pending booking can be paid`, { status: booking.status });
  }
  if (booking.sessionDatetime.getTime() <= now.getTime())
    throw badRequest("The session has already started", { status: booking.status });
  // Money already received (e.g. an amount under review) must not be asked for twice.
  if (attempts.some((payment) => payment.status === "succeeded" || payment.receivedAmount !== null)) {
    throw conflict("A payment for this booking has already been received and is being processed", {
      reason: "payment_received",
    });
  }
  const usable = (payment: Payment) =>
    payment.status === "pending" &&
    payment.expiresAt !== null &&
    payment.expiresAt.getTime() - now.getTime() > REUSE_MIN_REMAINING_MS;
  const open = attempts.find((payment) => usable(payment) && payment.stripeSessionId && payment.checkoutUrl);
  if (open) {
    return {
      kind: "open",
      session: {
        session_id: open.stripeSessionId as string,
        checkout_url: open.checkoutUrl as string,
        expires_at: requireIso(open.expiresAt as Date),
      },
    };
  }
  // An intent whose Stripe answer was lost (or is still on its way): the same request again.
  const inFlight = attempts.find((payment) => usable(payment) && !payment.stripeSessionId);
  if (inFlight) return { kind: "replay", intent: inFlight };

  if (!stripeClient(env)) throw new AppError("SERVICE_UNAVAILABLE", "Payments are not configured (STRIPE_SECRET_KEY)");
  if (state.hourlyRate === null || state.currency === null)
    throw conflict("The coach has no hourly rate; the session cannot be paid", { reason: "coach_has_no_rate" });
  const currency = state.currency.toUpperCase();
  if (!isStripeCurrency(currency))
    throw conflict(`The coach's currency ${currency} cannot be charged`, { reason: "unsupported_currency", currency });
  // A session lives 30 minutes, but never past the hold bound; Stripe needs >= 30 minutes ahead.
  const holdEnds = booking.createdAt.getTime() + MAX_UNPAID_HOLD_MS;
  const expiresAt = new Date(
    Math.floor(Math.min(now.getTime() + CHECKOUT_LIFETIME_MS + EXPIRY_MARGIN_MS, holdEnds) / 1000) * 1000,
  );
  if (expiresAt.getTime() < now.getTime() + CHECKOUT_LIFETIME_MS + STRIPE_MINIMUM_MARGIN_MS) {
    throw conflict("The time to pay for this booking is over; book the session again", {
      reason: "payment_window_closed",
      hold_ends_at: requireIso(new Date(holdEnds)),
    });
  }
  const amountMinor = sessionPriceMinor(state.hourlyRate, booking.durationMinutes, currency);
  const feeMinor = platformFeeMinor(amountMinor, env.config.payouts.feePercent, currency);
  const destination = state.chargesEnabled && state.stripeAccountId ? state.stripeAccountId : null;
  return {
    kind: "create",
    intent: {
      id: crypto.randomUUID(),
      bookingId: booking.id,
      amount: minorToDecimalString(amountMinor, currency),
      currency,
      status: "pending",
      stripeSessionId: null,
      stripePaymentIntentId: null,
      createdAt: now,
      updatedAt: now,
      checkoutUrl: null,
      expiresAt,
      paidAt: null,
      refundedAt: null,
      receivedAmount: null,
      receivedCurrency: null,
      flagReason: null,
      platformFee: minorToDecimalString(feeMinor, currency),
      coachAmount: minorToDecimalString(amountMinor - feeMinor, currency),
      destinationAccount: destination,
      refundRequestedAt: null,
    },
  };
}

/**
 * Write 2: the intent, only if the booking is still the version read (a
 * concurrent checkout, cancellation or payment changes it): one statement.
 */
async function recordIntent(db: Database, state: CheckoutState, intent: Payment, now: Date): Promise<boolean> {
  const result = await db.execute<{ inserted: number }>(sql`
    with b as (
      select id from bookings
       where id = ${state.booking.id} and xmin::text = ${state.version} and status = 'pending'
       for update),
    ins as (
      insert into payments (id, booking_id, amount, currency, status, platform_fee, coach_amount, destination_account,
                            expires_at, created_at, updated_at)
      select ${intent.id}, b.id, ${intent.amount}, ${intent.currency}, 'pending', ${intent.platformFee}, ${intent.coachAmount},
             ${intent.destinationAccount}, ${(intent.expiresAt as Date).toISOString()}, ${now.toISOString()}, ${now.toISOString()}
        from b
      returning id),
    upd as (
      update bookings set payment_id = ${intent.id}, updated_at = ${now.toISOString()}
       where id = ${state.booking.id} and exists (select 1 from ins)
      returning id)
    select (select count(*) from ins)::int as inserted, (select count(*) from upd)::int as pointed`);
  return Number(result.rows[0]?.inserted ?? 0) === 1;
}

/**
 * Step 4, after the response (on a session of its own): the user does not wait
 * for it, so a new checkout costs 2 round trips (read, intent). Until it lands
 * (milliseconds) the intent has no session id: a repeated checkout replays the
 * Stripe call with the same idempotency key and gets the same session back, and
 * the webhook finds the payment by the id in the session's metadata. A
 * cancellation that committed while Stripe answered could not expire a session
 * it did not know: the session is expired here instead, so it cannot be paid
 * (the client's URL then shows Stripe's "expired" page; a payment that still
 * got through is refunded by the webhook's cancelled-booking rule).
 */
function recordSessionAfterResponse(
  env: ServiceEnv,
  paymentId: string,
  session: { id: string; url: string; expiresAt: Date },
  now: Date,
): void {
  afterResponse(env, "checkout session record", async (db) => {
    const [recorded] = await db()
      .update(payments)
      .set({ stripeSessionId: session.id, checkoutUrl: session.url, expiresAt: session.expiresAt, updatedAt: now })
      .where(and(eq(payments.id, paymentId), or(isNull(payments.stripeSessionId), eq(payments.stripeSessionId, session.id))))
      .returning({ status: payments.status });
    if (recorded?.status !== "pending") {
      env.log.info("checkout session expired: its booking was cancelled while Stripe answered", {
        payment_id: paymentId,
        session_id: session.id,
      });
      await expireCheckoutSession(env, session.id);
    }
  });
}

/**
 * The Checkout Session of the caller's pending booking (see the file comment).
 * Round trips: 1 when a session is open, 2 for a new one (read,
 * intent; the session is recorded after the response).
 */
export async function createCheckout(
  db: Database,
  env: ServiceEnv,
  input: { bookingId: string; caller: AuthUser; now: Date },
): Promise<CheckoutSession> {
  const { caller, now } = input;
  for (let attempt = 1; ; attempt++) {
    const state = await readCheckoutState(db, input.bookingId);
    if (!state) throw notFound("Booking");
    const decision = decideCheckout(env, state, caller, now);
    if (decision.kind === "open") return decision.session;
    if (decision.kind === "create" && !(await recordIntent(db, state, decision.intent, now))) {
      if (attempt >= WRITE_ATTEMPTS) throw conflict("Concurrent update of the booking, please retry", { reason: "concurrent" });
      continue; // the booking changed since it was read: decide again on fresh data
    }
    const intent = decision.intent;
    let session: Awaited<ReturnType<typeof createCheckoutSession>>;
    try {
      session = await createCheckoutSession(env, checkoutRequest(env, state, intent));
    } catch (error) {
      // A replay Stripe refuses (the key was used with other parameters, or the first call never
      // arrived and the stored expiry is now too close): retire the intent, the next call starts afresh.
      if (error instanceof StaleIntentError || (decision.kind === "replay" && !(error instanceof AppError))) {
        await db
          .update(payments)
          .set({ status: "failed", flagReason: "checkout intent retired: Stripe refused its replay", updatedAt: now })
          .where(and(eq(payments.id, intent.id), eq(payments.status, "pending"), isNull(payments.stripeSessionId)));
        env.log.error("checkout intent retired", { payment_id: intent.id, error: String(error) });
        throw new AppError("SERVICE_UNAVAILABLE", "The payment provider refused the request, please retry");
      }
      throw error;
    }
    recordSessionAfterResponse(env, intent.id, session, now);
    return { session_id: session.id, checkout_url: session.url, expires_at: requireIso(session.expiresAt) };
  }
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
 * same moment wins or loses cleanly. (No external call is made in it.)
 */
export async function releaseStalePendingBookings(
  db: Database,
  env: ServiceEnv,
  now: Date,
  /** narrows the sweep to one coach's bookings (tests and manual runs; the cron sweeps all) */
  scope: { coachId?: string } = {},
): Promise<number> {
  const holdCutoff = new Date(now.getTime() - UNPAID_HOLD_MS);
  const liveOrPaid = (bookingId: typeof bookings.id | string) =>
    and(
      eq(payments.bookingId, bookingId),
      or(
        and(eq(payments.status, "pending"), or(isNull(payments.expiresAt), gt(payments.expiresAt, now))),
        eq(payments.status, "succeeded"),
        sql`${payments.receivedAmount} is not null`,
      ),
    );
  const stale = await db
    .select({ id: bookings.id })
    .from(bookings)
    .where(
      and(
        eq(bookings.status, "pending"),
        or(lte(bookings.createdAt, holdCutoff), lte(bookings.sessionDatetime, now)),
        notExists(db.select({ id: payments.id }).from(payments).where(liveOrPaid(bookings.id))),
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
      const [blocking] = await tx.select({ id: payments.id }).from(payments).where(liveOrPaid(id)).limit(1);
      if (blocking) return false;
      await tx
        .update(payments)
        .set({ status: "failed", updatedAt: now })
        .where(and(eq(payments.bookingId, id), inArray(payments.status, ["pending"])));
      const [cancelled] = await tx
        .update(bookings)
        .set({ status: "cancelled", sequence: sql`${bookings.sequence} + 1`, updatedAt: now })
        .where(eq(bookings.id, id))
        .returning();
      const parties = await loadParties(tx, cancelled as Booking);
      emails.push(
        ...(await recordEmails(
          tx,
          bookingEmails(cancelled as Booking, parties, { kind: "cancelled", refund: "not_paid", cancelledBy: "system" }),
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
