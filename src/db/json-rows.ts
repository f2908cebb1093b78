/**
 * Whole rows of several tables in ONE statement: a read that needs a user
 * and their bookings, payments, posts ... selects each set as a JSON array in
 * a subquery (`jsonRows`) instead of one statement per table, and turns the
 * JSON back into the very row objects drizzle returns (`rowFromJson`), so
 * the existing serializers apply unchanged.
 *
 * Why: every statement is a round trip to the database, and statements sent
 * "in parallel" from a per-request Pool each open a connection of their own.
 */
import { getTableColumns, type InferSelectModel, type SQL, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";

/**
 * JSON (from `to_jsonb(row)`, keys = column names) -> the row drizzle would
 * have returned for `select()` of that table: property names, Dates for
 * timestamps, strings for numerics, arrays, parsed JSON. Each column's own
 * driver mapping is applied, so types stay exactly as in a direct select.
 */
export function rowFromJson<T extends PgTable>(table: T, json: Record<string, unknown>): InferSelectModel<T> {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = json[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as InferSelectModel<T>;
}

/** rowFromJson over a JSON array (null or absent -> []). */
export function rowsFromJson<T extends PgTable>(table: T, json: unknown): InferSelectModel<T>[] {
  if (!Array.isArray(json)) return [];
  return json.map((item) => rowFromJson(table, item as Record<string, unknown>));
}

/**
 * SQL of a JSON array of whole rows: `subquery` must select `*`-like rows
 * under the alias `r` in the wanted order (`order by` applies to the array).
 */
export function jsonRows(subquery: SQL, orderBy: SQL): SQL<unknown[]> {
  return sql<unknown[]>`(select coalesce(jsonb_agg(to_jsonb(r) order by ${orderBy}), '[]'::jsonb) from (${subquery}) as r)`;
}
