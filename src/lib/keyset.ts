/**
 * Keyset pagination for exports: the cursor is the last row's sort key. The
 * timestamp travels as text with microseconds, because a JS Date (milliseconds)
 * would skip or repeat rows whose stored instants differ below a millisecond.
 */
import { type AnyColumn, type SQL, sql } from "drizzle-orm";

export interface ExportCursor {
  /** The sort timestamp, ISO-8601 UTC with microseconds. */
  at: string;
  id: string;
}

export function exactInstant(column: AnyColumn): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
