/**
 * Coach payouts through Stripe Connect (contract v2): the coach's Express
 * account and its onboarding link, the account's flags as account.updated
 * reports them, the coach's earnings, and the "can receive payouts" rule that
 * PAYOUTS_REQUIRED applies to new bookings.
 *
 * Stripe is never called inside a transaction: onboarding reads the profile,
 * creates the account (idempotency key = the coach's user id, so two parallel
 * first calls get one account), stores its id only where none is stored yet,
 * and then asks for a fresh Account Link (they are single-use and expire in
 * minutes, so they are never stored).
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { coachProfiles, users } from "../../drizzle/schema.ts";
import type { Earnings, OnboardingLink, PayoutAccount } from "../contract/payouts.ts";
import type { Database, Executor } from "../db/client.ts";
import type { AuthUser, ServiceEnv } from "../env.ts";
import { AppError, conflict, notFound } from "../lib/errors.ts";
import { requireIso } from "../lib/time.ts";
import { createExpressAccount, createOnboardingLink, type StripeEvent, stripeClient } from "../platform/stripe.ts";

/** Contract: a coach "can receive payouts" when the account has charges_enabled and payouts_enabled. */
export const canReceivePayoutsSql = sql<boolean>`(${coachProfiles.stripeChargesEnabled} and ${coachProfiles.stripePayoutsEnabled})`;

/** PAYOUTS_REQUIRED=1: the 409 of POST /booking for a coach who cannot be paid. */
export function assertCoachCanBePaid(required: boolean, canReceivePayouts: boolean | null | undefined): void {
  if (!required || canReceivePayouts === true) return;
  throw conflict("This coach cannot receive payouts yet and cannot be booked", {
    reason: "coach_cannot_receive_payouts",
    requirement: "PAYOUTS_REQUIRED",
  });
}

async function coachPayoutRow(db: Executor, userId: string) {
  const [row] = await db
    .select({
      email: users.email,
      accountId: coachProfiles.stripeAccountId,
      chargesEnabled: coachProfiles.stripeChargesEnabled,
      payoutsEnabled: coachProfiles.stripePayoutsEnabled,
      detailsSubmitted: coachProfiles.stripeDetailsSubmitted,
      currency: coachProfiles.currency,
    })
    .from(coachProfiles)
    .innerJoin(users, eq(users.id, coachProfiles.userId))
    .where(eq(coachProfiles.userId, userId))
    .limit(1);
  if (!row) throw notFound("Coach profile");
  return row;
}

export async function getPayoutAccount(db: Database, coach: AuthUser): Promise<PayoutAccount> {
  const row = await coachPayoutRow(db, coach.id);
  return {
    stripe_account_id: row.accountId,
    charges_enabled: row.chargesEnabled,
    payouts_enabled: row.payoutsEnabled,
    details_submitted: row.detailsSubmitted,
  };
}

/** POST /payouts/onboarding: the account (created once, then reused) and a fresh Account Link. */
export async function startOnboarding(db: Database, env: ServiceEnv, coach: AuthUser): Promise<OnboardingLink> {
  if (!stripeClient(env)) throw new AppError("SERVICE_UNAVAILABLE", "Payments are not configured (STRIPE_SECRET_KEY)");
  const row = await coachPayoutRow(db, coach.id);
  let accountId = row.accountId;
  if (!accountId) {
    const email = row.email.endsWith("@invalid") ? null : row.email;
    const account = await createExpressAccount(env, { userId: coach.id, email });
    // Only where none is stored: a parallel first call stored the same account (same idempotency key).
    const [stored] = await db
      .update(coachProfiles)
      .set({
        stripeAccountId: account.id,
        stripeChargesEnabled: account.charges_enabled,
        stripePayoutsEnabled: account.payouts_enabled,
        stripeDetailsSubmitted: account.details_submitted,
      })
      .where(and(eq(coachProfiles.userId, coach.id), isNull(coachProfiles.stripeAccountId)))
      .returning({ accountId: coachProfiles.stripeAccountId });
    accountId = stored?.accountId ?? (await coachPayoutRow(db, coach.id)).accountId ?? account.id;
  }
  const link = await createOnboardingLink(env, {
    accountId,
    returnUrl: env.config.payouts.returnUrl,
    refreshUrl: env.config.payouts.refreshUrl,
  });
  return { url: link.url, expires_at: requireIso(link.expiresAt) };
}

/**
 * account.updated: the three flags, in one statement with the event id (exactly
 * once). Out of order: an event older than the flags stored (by Stripe's
 * event creation time) changes nothing.
 */
export async function applyAccountUpdated(
  db: Database,
  event: StripeEvent,
  now: Date,
): Promise<{ duplicate: boolean; effect: string }> {
  if (event.type !== "account.updated") return { duplicate: false, effect: "ignored" };
  const account = event.data.object;
  const created = new Date(event.created * 1000).toISOString();
  const result = await db.execute<{ inserted: number; updated: number }>(sql`
    with ev as (
      insert into stripe_events (id, type, received_at) values (${event.id}, ${event.type}, ${now.toISOString()})
      on conflict do nothing returning id),
    upd as (
      update coach_profiles
         set stripe_charges_enabled = ${account.charges_enabled === true},
             stripe_payouts_enabled = ${account.payouts_enabled === true},
             stripe_details_submitted = ${account.details_submitted === true},
             stripe_account_synced_at = ${created}::timestamptz
       where stripe_account_id = ${account.id}
         and (stripe_account_synced_at is null or stripe_account_synced_at <= ${created}::timestamptz)
         and exists (select 1 from ev)
      returning user_id)
    select (select count(*) from ev)::int as inserted, (select count(*) from upd)::int as updated`);
  const row = result.rows[0];
  if (!row || Number(row.inserted) === 0) return { duplicate: true, effect: "duplicate" };
  return {
    duplicate: false,
    effect: Number(row.updated) > 0 ? "account flags stored" : "ignored: unknown account or older event",
  };
}

// ---------------------------------------------------------------------------
// Earnings
// ---------------------------------------------------------------------------

interface EarningsRow extends Record<string, unknown> {
  currency: string;
  totals: { sessions: number; gross: string; refunded: string; platform_fee: string };
  months: { month: string; sessions: number; gross: string; refunded: string; platform_fee: string }[];
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/**
 * GET /payouts/earnings: the coach's payments by payment date (UTC days,
 * both inclusive), in the coach's currency. sessions = payments that
 * succeeded (later refunds included), gross = their amounts, refunded = the
 * refunded amounts, platform_fee = the fees kept (a refund returns the fee,
 * Stripe's refund_application_fee), net = gross - refunded - platform_fee.
 */
export async function getEarnings(db: Database, coach: AuthUser, start: string, end: string): Promise<Earnings> {
  const result = await db.execute<EarningsRow>(sql`
    with coach as (select currency from coach_profiles where user_id = ${coach.id}),
    paid as (
      select p.amount, p.status, coalesce(p.platform_fee, 0) as fee,
             to_char((p.paid_at at time zone 'UTC')::date, 'YYYY-MM') as month
        from payments p join bookings b on b.id = p.booking_id
       where b.coach_id = ${coach.id}
         and p.currency = (select currency from coach)
         and p.status in ('succeeded', 'refunded') and p.paid_at is not null
         and p.paid_at >= (${start}::date)::timestamp at time zone 'UTC'
         and p.paid_at < (${end}::date + 1)::timestamp at time zone 'UTC'),
    months as (
      select month, count(*)::int as sessions, sum(amount)::text as gross,
             coalesce(sum(amount) filter (where status = 'refunded'), 0)::text as refunded,
             coalesce(sum(fee) filter (where status = 'succeeded'), 0)::text as platform_fee
        from paid group by month)
    select (select currency from coach) as currency,
           json_build_object(
             'sessions', (select count(*) from paid),
             'gross', (select coalesce(sum(amount), 0)::text from paid),
             'refunded', (select coalesce(sum(amount) filter (where status = 'refunded'), 0)::text from paid),
             'platform_fee', (select coalesce(sum(fee) filter (where status = 'succeeded'), 0)::text from paid)) as totals,
           (select coalesce(json_agg(m order by m.month), '[]'::json) from months m) as months`);
  const row = result.rows[0];
  if (!row?.currency) throw notFound("Coach profile");
  const figures = (item: { sessions: number; gross: string; refunded: string; platform_fee: string }) => {
    const gross = Number(item.gross);
    const refunded = Number(item.refunded);
    const fee = Number(item.platform_fee);
    return { sessions: Number(item.sessions), gross, platform_fee: fee, net: round(gross - refunded - fee), refunded };
  };
  return {
    currency: row.currency,
    period: { start_date: start, end_date: end },
    ...figures(row.totals),
    by_month: row.months.map((month) => ({ month: month.month, ...figures(month) })),
  };
}
