/**
 * GET /admin/revenue: revenue per coach and per day over a date range, in
 * one statement, and its CSV rendering.
 *
 * Revenue counts succeeded payments, minus refunded ones, by payment date:
 * only payments whose status is `succeeded` count (a refund turns the status
 * into `refunded`, which takes the payment out again), each on the UTC date of
 * its `paid_at` (`created_at` for rows without one). Amounts in different
 * currencies are never added together: the report is for one currency (USD
 * unless asked otherwise).
 *
 * Payouts (v2): each payment is split into `platform_fee` and `coach_amount`.
 * `platform_fees` adds the fees; `coach_payouts` the coaches' shares that went
 * to their connected accounts (destination charges); `owed` the shares the
 * platform collected alone and still has to pay out.
 */

import { sql } from "drizzle-orm";
import { revenuePeriodProblem } from "../../contract/admin.ts";
import type { Executor } from "../../db/client.ts";
import { csvText } from "../../lib/csv.ts";
import { currencyExponent } from "../../lib/currencies.ts";
import { badRequest, fieldError } from "../../lib/errors.ts";
import { DAY_MS } from "../../lib/time.ts";

const DEFAULT_REVENUE_DAYS = 30;
const dayOf = (date: Date) => date.toISOString().slice(0, 10);
const addDays = (day: string, days: number) => dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));

/**
 * The period of a report: both dates as given; a missing end is today (or
 * the start, when that lies in the future); a missing start is 30 days
 * before the end. The same limits as the query's refinement (at most 10
 * years, start not after end) then hold for the defaulted period too.
 */
export function resolveRevenuePeriod(
  startDate: string | undefined,
  endDate: string | undefined,
  now: Date,
): { start: string; end: string } {
  const today = dayOf(now);
  const end = endDate ?? (startDate && startDate > today ? startDate : today);
  const start = startDate ?? addDays(end, -(DEFAULT_REVENUE_DAYS - 1));
  const problem = revenuePeriodProblem(start, end);
  if (problem) {
    throw badRequest(problem.message, fieldError(problem.path.join("."), "query", problem.message));
  }
  return { start, end };
}

export interface RevenueReport {
  period: { start_date: string; end_date: string; days: number };
  currency: string;
  total_revenue: number;
  total_bookings: number;
  average_booking_value: number;
  platform_fees: number;
  coach_payouts: number;
  owed: number;
  by_coach: (PayoutSplit & { coach_id: string; coach_name: string; bookings: number; revenue: number })[];
  daily_breakdown: { date: string; bookings: number; revenue: number }[];
}

export interface PayoutSplit {
  platform_fees: number;
  coach_payouts: number;
  owed: number;
}

type SplitText = Record<keyof PayoutSplit, number | string | null>;

const split = (row: SplitText): PayoutSplit => ({
  platform_fees: Number(row.platform_fees ?? 0),
  coach_payouts: Number(row.coach_payouts ?? 0),
  owed: Number(row.owed ?? 0),
});

interface RevenueRow extends Record<string, unknown> {
  total_revenue: string;
  total_bookings: string | number;
  totals_split: SplitText;
  by_coach: (SplitText & { coach_id: string; coach_name: string; bookings: number; revenue: number | string })[];
  daily: { date: string; bookings: number; revenue: number | string }[];
}

/** Dates are `YYYY-MM-DD` (UTC days), `end` inclusive. */
export async function getRevenueReport(db: Executor, start: string, end: string, currency = "USD"): Promise<RevenueReport> {
  const result = await db.execute<RevenueRow>(sql`
    WITH paid AS (
      SELECT p.amount, p.booking_id, b.coach_id,
             coalesce(p.platform_fee, 0) AS fee,
             CASE WHEN p.destination_account IS NOT NULL THEN coalesce(p.coach_amount, p.amount - coalesce(p.platform_fee, 0)) ELSE 0 END AS transferred,
             CASE WHEN p.destination_account IS NULL THEN coalesce(p.coach_amount, p.amount - coalesce(p.platform_fee, 0)) ELSE 0 END AS owed,
             (coalesce(p.paid_at, p.created_at) AT TIME ZONE 'UTC')::date AS day
        FROM payments p
        JOIN bookings b ON b.id = p.booking_id
       WHERE p.status = 'succeeded'
         AND p.currency = ${currency}
         AND coalesce(p.paid_at, p.created_at) >= (${start}::date)::timestamp AT TIME ZONE 'UTC'
         AND coalesce(p.paid_at, p.created_at) < (${end}::date + 1)::timestamp AT TIME ZONE 'UTC'
    ),
    per_coach AS (
      SELECT paid.coach_id,
             coalesce(nullif(trim(concat_ws(' ', cp.first_name, cp.last_name)), ''), u.email) AS coach_name,
             count(DISTINCT paid.booking_id) AS bookings,
             sum(paid.amount) AS revenue,
             sum(paid.fee) AS platform_fees, sum(paid.transferred) AS coach_payouts, sum(paid.owed) AS owed
        FROM paid
        JOIN users u ON u.id = paid.coach_id
        LEFT JOIN coach_profiles cp ON cp.user_id = paid.coach_id
       GROUP BY paid.coach_id, cp.first_name, cp.last_name, u.email
    ),
    per_day AS (
      SELECT day, count(DISTINCT booking_id) AS bookings, sum(amount) AS revenue FROM paid GROUP BY day
    )
    SELECT
      (SELECT coalesce(sum(amount), 0)::text FROM paid) AS total_revenue,
      (SELECT count(DISTINCT booking_id) FROM paid) AS total_bookings,
      (SELECT json_build_object('platform_fees', coalesce(sum(fee), 0), 'coach_payouts', coalesce(sum(transferred), 0),
                                'owed', coalesce(sum(owed), 0)) FROM paid) AS totals_split,
      (SELECT coalesce(json_agg(json_build_object(
                 'coach_id', coach_id, 'coach_name', coach_name, 'bookings', bookings, 'revenue', revenue,
                 'platform_fees', platform_fees, 'coach_payouts', coach_payouts, 'owed', owed)
               ORDER BY revenue DESC, coach_id), '[]'::json)
         FROM per_coach) AS by_coach,
      -- Only days with activity (contract v2): a 10-year period is not 3,653 mostly empty rows.
      (SELECT coalesce(json_agg(json_build_object(
                 'date', to_char(per_day.day, 'YYYY-MM-DD'), 'bookings', per_day.bookings, 'revenue', per_day.revenue)
               ORDER BY per_day.day), '[]'::json)
         FROM per_day) AS daily
  `);
  const row = result.rows[0] as RevenueRow;
  const totalRevenue = Number(row.total_revenue);
  const totalBookings = Number(row.total_bookings);
  const daily = row.daily ?? [];
  return {
    period: { start_date: start, end_date: end, days: Math.round((Date.parse(end) - Date.parse(start)) / DAY_MS) + 1 },
    currency,
    total_revenue: totalRevenue,
    total_bookings: totalBookings,
    average_booking_value: totalBookings > 0 ? Math.round((totalRevenue / totalBookings) * 100) / 100 : 0,
    ...split(row.totals_split),
    by_coach: row.by_coach.map((coach) => ({
      coach_id: coach.coach_id,
      coach_name: coach.coach_name,
      bookings: Number(coach.bookings),
      revenue: Number(coach.revenue),
      ...split(coach),
    })),
    daily_breakdown: daily.map((day) => ({ date: day.date, bookings: Number(day.bookings), revenue: Number(day.revenue) })),
  };
}

export const REVENUE_CSV_COLUMNS = [
  "coach_id",
  "coach_name",
  "bookings",
  "revenue",
  "currency",
  "platform_fees",
  "coach_payouts",
  "owed",
] as const;

/**
 * The CSV form: one row per coach (the table an accountant pays out from),
 * with a header row, through lib/csv.ts like every CSV the API writes:
 * RFC 4180 quoting (names such as `Smith, "Jo"` survive a spreadsheet round
 * trip) and the formula-injection rule (a name starting with `=`, `+`, `-`,
 * `@`, tab or CR gets a leading `'`). The JSON report keeps names untouched.
 */
export function revenueCsv(report: RevenueReport): string {
  // Amounts with the currency's own minor-unit digits (0 for JPY, 3 for KWD, 2 otherwise).
  const digits = currencyExponent(report.currency);
  const money = (amount: number) => amount.toFixed(digits);
  return csvText(
    REVENUE_CSV_COLUMNS,
    report.by_coach.map((coach) => [
      coach.coach_id,
      coach.coach_name,
      coach.bookings,
      money(coach.revenue),
      report.currency,
      money(coach.platform_fees),
      money(coach.coach_payouts),
      money(coach.owed),
    ]),
  );
}
