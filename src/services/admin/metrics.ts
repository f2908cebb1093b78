/**
 * GET /admin/metrics: platform figures computed by the database in one
 * statement (one round trip): every figure is a scalar sub-select, so
 * Postgres does the counting and summing and nothing is loaded row by row.
 */
import { sql } from "drizzle-orm";
import { bookingStatus, userRole } from "../../../drizzle/schema.ts";
import type { Executor } from "../../db/client.ts";
import { DAY_MS, requireIso } from "../../lib/time.ts";

/**
 * Deleted accounts that had to stay as anonymised tombstones (see "Account
 * deletion" in the contract) are records, not users: they are left out of the
 * user counts. The email pattern is the one the deletion service writes.
 */
export const NOT_TOMBSTONE = sql`NOT (u.is_active = false AND u.email LIKE 'deleted-%@invalid')`;

export interface Metrics {
  period: { start_date: string; end_date: string; days: number };
  users: { total: number; new_this_period: number; active_this_period: number; by_role: Record<string, number> };
  bookings: { total: number; this_period: number; by_status: Record<string, number> };
  revenue: { total: number; this_period: number; currency: string; average_booking_value: number };
  community: { total_posts: number; total_comments: number; total_resources: number };
}

interface MetricsRow extends Record<string, unknown> {
  users_total: string | number;
  users_new: string | number;
  users_active: string | number;
  users_by_role: Record<string, string | number> | null;
  bookings_total: string | number;
  bookings_period: string | number;
  bookings_by_status: Record<string, string | number> | null;
  revenue_total: string;
  revenue_period: string;
  paid_period: string | number;
  posts_total: string | number;
  comments_total: string | number;
  resources_total: string | number;
}

/** Every enum value present, 0 when the database has none of it. */
function fillEnum(values: readonly string[], counts: Record<string, string | number> | null): Record<string, number> {
  return Object.fromEntries(values.map((value) => [value, Number(counts?.[value] ?? 0)]));
}

/**
 * The period is the rolling window (now - days, now], in UTC.
 *
 * Definitions:
 * - users.active_this_period: users whose `last_seen_at` falls in the period.
 *   `last_seen_at` is written by the accounts service at login and at token
 *   refresh (a cheap, throttled write instead of one per request), so "active"
 *   means "signed in or refreshed a session during the period".
 * - bookings.this_period: bookings created in the period (by_status: all bookings).
 * - revenue: succeeded payments only, net of refunds (a refunded payment has
 *   the status `refunded` and so no longer counts), dated by `paid_at`
 *   (`created_at` for rows without one), in one currency. Amounts in different
 *   currencies cannot be added up, so the figures are for `currency` (the
 *   platform currency USD unless asked otherwise); `average_booking_value` is
 *   this period's revenue divided by this period's paid bookings.
 */
export async function getMetrics(db: Executor, days: number, now: Date, currency = "USD"): Promise<Metrics> {
  const end = now;
  const start = new Date(now.getTime() - days * DAY_MS);
  const startIso = start.toISOString();
  const endIso = end.toISOString();
  const inPeriod = (column: ReturnType<typeof sql>) =>
    sql`${column} > ${startIso}::timestamptz AND ${column} <= ${endIso}::timestamptz`;
  const paidAt = sql`coalesce(p.paid_at, p.created_at)`;

  const result = await db.execute<MetricsRow>(sql`
    SELECT
      (SELECT count(*) FROM users u WHERE ${NOT_TOMBSTONE}) AS users_total,
      (SELECT count(*) FROM users u WHERE ${NOT_TOMBSTONE} AND ${inPeriod(sql`u.created_at`)}) AS users_new,
      (SELECT count(*) FROM users u WHERE ${NOT_TOMBSTONE} AND ${inPeriod(sql`u.last_seen_at`)}) AS users_active,
      (SELECT json_object_agg(role, n) FROM (
         SELECT u.role::text AS role, count(*) AS n FROM users u WHERE ${NOT_TOMBSTONE} GROUP BY u.role) r) AS users_by_role,
      (SELECT count(*) FROM bookings) AS bookings_total,
      (SELECT count(*) FROM bookings b WHERE ${inPeriod(sql`b.created_at`)}) AS bookings_period,
      (SELECT json_object_agg(status, n) FROM (
         SELECT status::text AS status, count(*) AS n FROM bookings GROUP BY status) s) AS bookings_by_status,
      (SELECT coalesce(sum(p.amount), 0)::text FROM payments p
         WHERE p.status = 'succeeded' AND p.currency = ${currency}) AS revenue_total,
      (SELECT coalesce(sum(p.amount), 0)::text FROM payments p
         WHERE p.status = 'succeeded' AND p.currency = ${currency} AND ${inPeriod(paidAt)}) AS revenue_period,
      (SELECT count(DISTINCT p.booking_id) FROM payments p
         WHERE p.status = 'succeeded' AND p.currency = ${currency} AND ${inPeriod(paidAt)}) AS paid_period,
      (SELECT count(*) FROM posts) AS posts_total,
      (SELECT count(*) FROM comments) AS comments_total,
      (SELECT count(*) FROM resources) AS resources_total
  `);
  const row = result.rows[0] as MetricsRow;
  const revenuePeriod = Number(row.revenue_period);
  const paidPeriod = Number(row.paid_period);
  return {
    period: { start_date: requireIso(start), end_date: requireIso(end), days },
    users: {
      total: Number(row.users_total),
      new_this_period: Number(row.users_new),
      active_this_period: Number(row.users_active),
      by_role: fillEnum(userRole.enumValues, row.users_by_role),
    },
    bookings: {
      total: Number(row.bookings_total),
      this_period: Number(row.bookings_period),
      by_status: fillEnum(bookingStatus.enumValues, row.bookings_by_status),
    },
    revenue: {
      total: Number(row.revenue_total),
      this_period: revenuePeriod,
      currency,
      average_booking_value: paidPeriod > 0 ? Math.round((revenuePeriod / paidPeriod) * 100) / 100 : 0,
    },
    community: {
      total_posts: Number(row.posts_total),
      total_comments: Number(row.comments_total),
      total_resources: Number(row.resources_total),
    },
  };
}
