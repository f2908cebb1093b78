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

import { stringify } from "csv-stringify/sync";
import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";

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
      (SELECT json_agg(json_build_object(
                 'date', to_char(d.day, 'YYYY-MM-DD'),
                 'bookings', coalesce(per_day.bookings, 0),
                 'revenue', coalesce(per_day.revenue, 0))
               ORDER BY d.day)
         FROM generate_series(${start}::date, ${end}::date, interval '1 day') AS d(day)
         LEFT JOIN per_day ON per_day.day = d.day::date) AS daily
  `);
  const row = result.rows[0] as RevenueRow;
  const totalRevenue = Number(row.total_revenue);
  const totalBookings = Number(row.total_bookings);
  const daily = row.daily ?? [];
  return {
    period: { start_date: start, end_date: end, days: daily.length },
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
 * A cell that starts like a formula (`=`, `+`, `-`, `@`, tab, carriage
 * return) would be run by a spreadsheet opening the file (CSV injection,
 * OWASP): such free text gets a leading apostrophe, which spreadsheets show
 * as text. The JSON report keeps names untouched.
 */
export function neutralizeFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/**
 * The CSV form: one row per coach (the table an accountant pays out from),
 * with a header row. csv-stringify quotes every field that holds the
 * delimiter, a quote or a line break (and doubles inner quotes), so names
 * such as `Smith, "Jo"` survive a spreadsheet round trip.
 */
export function revenueCsv(report: RevenueReport): string {
  return stringify(
    report.by_coach.map((coach) => [
      coach.coach_id,
      neutralizeFormula(coach.coach_name),
      coach.bookings,
      coach.revenue.toFixed(2),
      report.currency,
      coach.platform_fees.toFixed(2),
      coach.coach_payouts.toFixed(2),
      coach.owed.toFixed(2),
    ]),
    { header: true, columns: [...REVENUE_CSV_COLUMNS], record_delimiter: "\r\n" },
  );
}
