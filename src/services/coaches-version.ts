/**
 * The global coaches version: bumped in the same transaction as any change
 * to a coach profile (or a coach's account), read into every match cache key,
 * so that a coach change invalidates every cached match without deleting keys.
 */
import { eq, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "../../drizzle/schema.ts";
import { appCounters } from "../../drizzle/schema.ts";
import type { Executor } from "../db/client.ts";

const COACHES_VERSION = "coaches_version";

/** Any drizzle handle (Neon pool or transaction, node-postgres in the import CLI). */
export async function bumpCoachesVersion(db: Executor | PgDatabase<PgQueryResultHKT, typeof schema>): Promise<number> {
  const [row] = await db
    .insert(appCounters)
    .values({ name: COACHES_VERSION, value: 1 })
    .onConflictDoUpdate({ target: appCounters.name, set: { value: sql`${appCounters.value} + 1` } })
    .returning({ value: appCounters.value });
  return row?.value ?? 1;
}

export async function getCoachesVersion(db: Executor): Promise<number> {
  const [row] = await db
    .select({ value: appCounters.value })
    .from(appCounters)
    .where(eq(appCounters.name, COACHES_VERSION))
    .limit(1);
  return row?.value ?? 0;
}
