/**
 * POST /payment/webhook: each verified event applied exactly once, in at most
 * two database round trips, with no transaction held open by this code.
 *
 *  1. one read: was the event seen; the payment the event is about (by the
 *     Stripe session id, the payment intent id, or the payment id our
 *     metadata carries -- never by the booking alone, so an event of another
 *     session of the same booking cannot touch this one), its booking, the
 *     booking's parties and whether another attempt keeps the booking alive;
 *  2. the decision is made here (plain code, below), then written by one
 *     statement that inserts the event id, locks the booking and payment rows
 *     only if they are still the versions read (xmin), applies the changes and
 *     records the emails. A duplicate finds the event id taken (a concurrent
 *     duplicate waits on it) and changes nothing; if a row changed since the
 *     read, the statement aborts itself (cb_write_conflict, SQLSTATE 40001)
 *     and the event is read and decided again.
 *
 * Monotonic states, whatever order Stripe delivers in:
 * - payment: pending/failed -> succeeded -> refunded; `refunded` is final,
 *   `failed` may still become `succeeded` (a retried card), never the reverse.
 * - a payment for a booking already cancelled, or confirmed by another
 *   payment, never revives or double-confirms it: it is recorded as succeeded,
 *   flagged, and refunded through Stripe after the commit.
 * - an amount or currency different from the payment row (compared in the
 *   currency's Stripe minor units) is stored and flagged, not confirmed.
 * - account.updated applies only if it is not older than the flags stored.
 */
import { sql } from "drizzle-orm";
import { type Booking, bookings, type Payment, payments } from "../../drizzle/schema.ts";
import type { Database } from "../db/client.ts";
import { rowFromJson } from "../db/json-rows.ts";
import type { ServiceEnv } from "../env.ts";
import { fromMinorUnits, minorToDecimalString, toMinorUnits } from "../lib/currencies.ts";
import { AppError, badRequest } from "../lib/errors.ts";
import { constructStripeEvent, type StripeEvent } from "../platform/stripe.ts";
import { type BookingNotice, type BookingParties, bookingEmails } from "./bookings.ts";
import { generateMeetingLink } from "./meeting-links.ts";
import type { Email } from "./notifications.ts";
import { dispatchEmails } from "./notifications.ts";
import {
  isWriteConflict,
  partyJson,
  type RefundIntent,
  runStripeFollowUps,
  setClause,
  WRITE_ATTEMPTS,
} from "./payment-followups.ts";
import { applyAccountUpdated } from "./payouts.ts";

const WEBHOOK_TOLERANCE_SECONDS = 300;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Verifies the signature of the raw body; any failure is a 400 (contract). */
export async function verifyStripeEvent(
  env: ServiceEnv,
  rawBody: string,
  signature: string | undefined,
  now: Date,
): Promise<StripeEvent> {
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
    return await constructStripeEvent(rawBody, signature, secret, WEBHOOK_TOLERANCE_SECONDS, now);
  } catch (error) {
    const message =
      error instanceof Error && /tolerance/i.test(error.message)
        ? "Webhook timestamp outside the tolerance"
        : "Invalid Stripe signature";
    throw badRequest(message, { header: "stripe-signature" });
  }
}

export type WebhookOutcome = { duplicate: boolean; effect: string };

/** What an event says about one of our payments. */
interface Signal {
  kind: "succeeded" | "failed" | "refunded" | "expired";
  sessionId: string | null;
  intentId: string | null;
  /** our payment id from the Stripe object's metadata */
  paymentId: string | null;
  amountMinor?: number | null;
  currency?: string | null;
  /** charge.refunded: the whole amount (else a partial refund) */
  fully?: boolean;
  refundedMinor?: number | null;
}

const idOf = (value: string | { id: string } | null | undefined): string | null =>
  typeof value === "string" ? value : value && typeof value === "object" ? value.id : null;

const metaPaymentId = (metadata: Record<string, string> | null | undefined): string | null => {
  const value = metadata?.payment_id;
  return value && UUID.test(value) ? value.toLowerCase() : null;
};

/** The signal of a payment event, or a reason to ignore the event. */
function signalOf(event: StripeEvent): Signal | string {
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded": {
      const session = event.data.object;
      if (session.payment_status !== "paid") return `ignored: payment_status ${session.payment_status}`;
      return {
        kind: "succeeded",
        sessionId: session.id,
        intentId: idOf(session.payment_intent),
        paymentId: metaPaymentId(session.metadata),
        amountMinor: session.amount_total,
        currency: session.currency,
      };
    }
    case "payment_intent.succeeded": {
      const intent = event.data.object;
      return {
        kind: "succeeded",
        sessionId: null,
        intentId: intent.id,
        paymentId: metaPaymentId(intent.metadata),
        amountMinor: intent.amount_received ?? intent.amount,
        currency: intent.currency,
      };
    }
    case "payment_intent.payment_failed": {
      const intent = event.data.object;
      return { kind: "failed", sessionId: null, intentId: intent.id, paymentId: metaPaymentId(intent.metadata) };
    }
    case "checkout.session.async_payment_failed": {
      const session = event.data.object;
      return {
        kind: "failed",
        sessionId: session.id,
        intentId: idOf(session.payment_intent),
        paymentId: metaPaymentId(session.metadata),
      };
    }
    case "charge.refunded": {
      const charge = event.data.object;
      return {
        kind: "refunded",
        sessionId: null,
        intentId: idOf(charge.payment_intent),
        paymentId: metaPaymentId(charge.metadata),
        fully: charge.refunded === true || (charge.amount_refunded ?? 0) >= charge.amount,
        refundedMinor: charge.amount_refunded ?? null,
      };
    }
    case "checkout.session.expired": {
      const session = event.data.object;
      return { kind: "expired", sessionId: session.id, intentId: null, paymentId: metaPaymentId(session.metadata) };
    }
    default:
      return "ignored: unhandled type";
  }
}

interface EventState {
  seen: boolean;
  payment?: Payment;
  paymentVersion?: string;
  booking?: Booking;
  bookingVersion?: string;
  parties?: BookingParties;
  otherLive: boolean;
}

/**
 * Read 1. The payment is the one whose session (or intent) id is the event's;
 * a row found through the metadata payment id must not already belong to
 * ANOTHER session or intent (a lost session's late events stay its own).
 */
async function readEventState(db: Database, eventId: string, signal: Signal, now: Date): Promise<EventState> {
  const { sessionId, intentId, paymentId } = signal;
  const result = await db.execute<Record<string, unknown>>(sql`
    select exists (select 1 from stripe_events where id = ${eventId}) as seen,
           to_jsonb(p) as payment, p.version as payment_version,
           to_jsonb(b) as booking, b.xmin::text as booking_version,
           ${partyJson(sql`b.client_id`)} as client, ${partyJson(sql`b.coach_id`)} as coach,
           exists (select 1 from payments o
                    where o.booking_id = b.id and o.id <> p.id
                      and ((o.status = 'pending' and o.expires_at > ${now.toISOString()})
                           or o.status = 'succeeded' or o.received_amount is not null)) as other_live
      from (select 1) as one
      left join lateral (
        select x.*, x.xmin::text as version from payments x
         where (${sessionId}::text is not null and x.stripe_session_id = ${sessionId})
            or (${intentId}::text is not null and x.stripe_payment_intent_id = ${intentId})
            or (${paymentId}::uuid is not null and x.id = ${paymentId}::uuid
                and (x.stripe_session_id is null or ${sessionId}::text is null or x.stripe_session_id = ${sessionId})
                and (x.stripe_payment_intent_id is null or ${intentId}::text is null or x.stripe_payment_intent_id = ${intentId}))
         order by (x.stripe_session_id is not distinct from ${sessionId}) desc
         limit 1) p on true
      left join bookings b on b.id = p.booking_id`);
  const row = result.rows[0] ?? {};
  const state: EventState = { seen: row.seen === true, otherLive: row.other_live === true };
  if (row.payment && row.booking) {
    state.payment = rowFromJson(payments, row.payment as Record<string, unknown>);
    state.paymentVersion = String(row.payment_version);
    state.booking = rowFromJson(bookings, row.booking as Record<string, unknown>);
    state.bookingVersion = String(row.booking_version);
    state.parties = { client: row.client as BookingParties["client"], coach: row.coach as BookingParties["coach"] };
  }
  return state;
}

/** A decision: what to write (changed columns only), whom to tell, what to ask Stripe after the commit. */
interface Plan {
  effect: string;
  payment: Partial<Payment>;
  booking: Partial<Pick<Booking, "status" | "paymentId" | "meetingLink">> & { bumpSequence?: boolean };
  notice?: BookingNotice;
  refund?: RefundIntent;
}

function money(minor: number, currency: string): string {
  return `${fromMinorUnits(minor, currency)} ${currency}`;
}

/** The pure decision for one event on the state read. */
function decide(
  signal: Signal,
  state: Required<Pick<EventState, "payment" | "booking">> & EventState,
  now: Date,
  newMeetingLink: () => string,
): Plan {
  const { payment, booking } = state;
  const adopt: Partial<Payment> = {};
  if (signal.sessionId && !payment.stripeSessionId) adopt.stripeSessionId = signal.sessionId;
  if (signal.intentId && !payment.stripePaymentIntentId) adopt.stripePaymentIntentId = signal.intentId;
  const touched = Object.keys(adopt).length > 0 ? { ...adopt, updatedAt: now } : {};
  const intentId = signal.intentId ?? payment.stripePaymentIntentId;

  switch (signal.kind) {
    case "succeeded": {
      if (payment.status === "refunded") {
        // The refund came first (out of order): it stays refunded.
        return {
          effect: "kept refunded",
          payment: { ...touched, ...(payment.paidAt ? {} : { paidAt: now, updatedAt: now }) },
          booking: {},
        };
      }
      if (payment.status === "succeeded") return { effect: "already succeeded", payment: touched, booking: {} };
      // Amount and currency must be what we asked for, in the currency's Stripe minor units.
      const expectedMinor = toMinorUnits(payment.amount, payment.currency);
      const receivedCurrency = (signal.currency ?? payment.currency).toUpperCase();
      const receivedMinor = signal.amountMinor ?? expectedMinor;
      if (receivedMinor !== expectedMinor || receivedCurrency !== payment.currency.toUpperCase()) {
        return {
          effect: "flagged: amount mismatch",
          payment: {
            ...adopt,
            updatedAt: now,
            receivedAmount: minorToDecimalString(receivedMinor, receivedCurrency),
            receivedCurrency,
            flagReason: `amount mismatch: expected ${money(expectedMinor, payment.currency)}, received ${money(receivedMinor, receivedCurrency)}`,
          },
          booking: {},
        };
      }
      const taken =
        booking.status === "cancelled" ||
        ((booking.status === "confirmed" || booking.status === "completed") && booking.paymentId !== payment.id);
      if (taken) {
        // Never revive or double-charge: record the money, give it back after the commit.
        const reason =
          booking.status === "cancelled"
            ? "paid after the booking was cancelled"
            : "second payment for an already confirmed booking";
        return {
          effect: `refunding: ${reason}`,
          payment: {
            ...adopt,
            status: "succeeded",
            paidAt: now,
            updatedAt: now,
            flagReason: intentId ? `${reason}; refund issued` : `${reason}; no payment intent id to refund`,
            ...(intentId ? { refundRequestedAt: now } : {}),
          },
          booking: {},
          ...(intentId
            ? {
                refund: {
                  paymentId: payment.id,
                  bookingId: booking.id,
                  paymentIntentId: intentId,
                  destinationCharge: payment.destinationAccount !== null,
                },
              }
            : {}),
        };
      }
      const paid: Partial<Payment> = { ...adopt, status: "succeeded", paidAt: now, updatedAt: now, flagReason: null };
      if (booking.status !== "pending") return { effect: "succeeded", payment: paid, booking: {} };
      return {
        effect: "confirmed",
        payment: paid,
        // Contract v2 Meeting links: a booking confirmed by payment gets a generated link unless it has one
        // (the same generator as the coach's confirmation, booking-status.ts).
        booking: {
          status: "confirmed",
          paymentId: payment.id,
          bumpSequence: true,
          ...(booking.meetingLink ? {} : { meetingLink: newMeetingLink() }),
        },
        notice: { kind: "confirmed" },
      };
    }
    case "failed": {
      if (payment.status !== "pending") return { effect: `kept ${payment.status}`, payment: touched, booking: {} };
      return { effect: "failed", payment: { ...adopt, status: "failed", updatedAt: now }, booking: {} };
    }
    case "refunded": {
      if (payment.status === "refunded") return { effect: "already refunded", payment: touched, booking: {} };
      if (!signal.fully) {
        // A partial refund (made in the dashboard): keep the record, do not cancel.
        return {
          effect: "flagged: partial refund",
          payment: { ...adopt, updatedAt: now, flagReason: `partially refunded (${signal.refundedMinor ?? "?"} minor units)` },
          booking: {},
        };
      }
      const refunded: Partial<Payment> = {
        ...adopt,
        status: "refunded",
        refundedAt: now,
        paidAt: payment.paidAt ?? now,
        updatedAt: now,
      };
      if (booking.status === "pending" || booking.status === "confirmed") {
        return {
          effect: "refunded, booking cancelled",
          payment: refunded,
          booking: { status: "cancelled", bumpSequence: true },
          notice: { kind: "cancelled", refund: "full", cancelledBy: "system" },
        };
      }
      // Cancelled already (our own refund) or completed: tell both that the money went back.
      return { effect: "refunded", payment: refunded, booking: {}, notice: { kind: "refunded" } };
    }
    case "expired": {
      const failed: Partial<Payment> = payment.status === "pending" ? { ...adopt, status: "failed", updatedAt: now } : touched;
      if (booking.status !== "pending") return { effect: `booking kept ${booking.status}`, payment: failed, booking: {} };
      // Another attempt still open, paid or under review keeps the booking.
      if (state.otherLive || payment.receivedAmount !== null || payment.status === "succeeded")
        return { effect: "payment failed; booking kept (another attempt)", payment: failed, booking: {} };
      return {
        effect: "payment failed; booking cancelled",
        payment: failed,
        booking: { status: "cancelled", bumpSequence: true },
        notice: { kind: "cancelled", refund: "not_paid", cancelledBy: "system" },
      };
    }
  }
}

/**
 * Write 2: the event id, the guarded changes and the emails in one statement.
 * Returns null for a duplicate, else the outbox ids to dispatch.
 */
async function writePlan(
  db: Database,
  event: StripeEvent,
  state: EventState & { payment: Payment; booking: Booking },
  plan: Plan,
  emails: Email[],
  now: Date,
): Promise<string[] | null> {
  const paymentSet = Object.keys(plan.payment).length > 0 ? setClause(payments, plan.payment) : undefined;
  const { bumpSequence, ...bookingPatch } = plan.booking;
  const bookingChanges = Object.keys(bookingPatch).length > 0 || bumpSequence;
  const bookingSet = bookingChanges
    ? sql.join(
        [setClause(bookings, { ...bookingPatch, updatedAt: now }), ...(bumpSequence ? [sql`sequence = sequence + 1`] : [])],
        sql`, `,
      )
    : undefined;
  const mail = emails.map((email) => ({ to_address: email.to.toLowerCase(), subject: email.subject, body: email.text }));
  const result = await db.execute<{ inserted: number; email_ids: string[] }>(sql`
    with ev as (
      insert into stripe_events (id, type, received_at) values (${event.id}, ${event.type}, ${now.toISOString()})
      on conflict do nothing returning id),
    bl as (
      select id from bookings
       where id = ${state.booking.id} and xmin::text = ${state.bookingVersion} and exists (select 1 from ev)
       for update),
    pl as (
      select id from payments
       where id = ${state.payment.id} and xmin::text = ${state.paymentVersion} and exists (select 1 from bl)
       for update),
    pu as (
      ${paymentSet ? sql`update payments set ${paymentSet} where id = ${state.payment.id} and exists (select 1 from pl) returning id` : sql`select 1 as id where false`}),
    bu as (
      ${bookingSet ? sql`update bookings set ${bookingSet} where id = ${state.booking.id} and exists (select 1 from pl) returning id` : sql`select 1 as id where false`}),
    mail as (
      insert into email_outbox (to_address, subject, body)
      select m.to_address, m.subject, m.body
        from jsonb_to_recordset(${JSON.stringify(mail)}::jsonb) as m(to_address text, subject text, body text)
       where exists (select 1 from pl)
      returning id)
    select (select count(*) from ev)::int as inserted,
           (select coalesce(jsonb_agg(id), '[]'::jsonb) from mail) as email_ids,
           (select count(*) from pu)::int as payment_rows, (select count(*) from bu)::int as booking_rows,
           case when exists (select 1 from ev) and not exists (select 1 from pl)
                then cb_write_conflict('stripe event: the payment or booking changed since it was read') end as conflict`);
  const row = result.rows[0];
  if (!row || Number(row.inserted) === 0) return null;
  return (row.email_ids ?? []) as string[];
}

/** Records an event that changes nothing of ours, so that it counts as seen (one statement). */
async function recordOnly(db: Database, event: StripeEvent, now: Date): Promise<boolean> {
  const result = await db.execute<{ inserted: number }>(sql`
    with ev as (insert into stripe_events (id, type, received_at) values (${event.id}, ${event.type}, ${now.toISOString()})
                on conflict do nothing returning id)
    select count(*)::int as inserted from ev`);
  return Number(result.rows[0]?.inserted ?? 0) === 1;
}

/** Applies one verified event exactly once (see the file comment). */
export async function handleStripeEvent(db: Database, env: ServiceEnv, event: StripeEvent, now: Date): Promise<WebhookOutcome> {
  const outcome = await applyEvent(db, env, event, now);
  env.log.info("stripe event", { event_id: event.id, type: event.type, ...outcome });
  return outcome;
}

async function applyEvent(db: Database, env: ServiceEnv, event: StripeEvent, now: Date): Promise<WebhookOutcome> {
  if (event.type === "account.updated") return applyAccountUpdated(db, event, now);
  const signal = signalOf(event);
  if (typeof signal === "string") return { duplicate: false, effect: signal };

  for (let attempt = 1; ; attempt++) {
    const state = await readEventState(db, event.id, signal, now);
    if (state.seen) return { duplicate: true, effect: "duplicate" };
    if (!state.payment || !state.booking) {
      // Not one of our sessions (or not yet known): nothing to change, so nothing to make exactly-once.
      return { duplicate: false, effect: "ignored: no matching payment" };
    }
    const full = state as EventState & { payment: Payment; booking: Booking };
    const plan = decide(signal, full, now, () => generateMeetingLink(env.config));
    const emails =
      plan.notice && full.parties ? bookingEmails({ ...full.booking, ...plan.booking }, full.parties, plan.notice) : [];
    try {
      const written =
        Object.keys(plan.payment).length === 0 && Object.keys(plan.booking).length === 0 && emails.length === 0
          ? (await recordOnly(db, event, now))
            ? []
            : null
          : await writePlan(db, event, full, plan, emails, now);
      if (written === null) return { duplicate: true, effect: "duplicate" };
      await dispatchEmails(env, written);
      if (plan.refund) runStripeFollowUps(env, { refunds: [plan.refund] }, now);
      return { duplicate: false, effect: plan.effect };
    } catch (error) {
      if (!isWriteConflict(error) || attempt >= WRITE_ATTEMPTS) throw error;
      env.log.info("stripe event: rows changed since read, deciding again", { event_id: event.id, attempt });
    }
  }
}
