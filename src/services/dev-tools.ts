/** What the development-only routes (/dev/*) read: kept emails and the benchmark's database floor. */
import { desc, eq, sql } from "drizzle-orm";
import { emailOutbox } from "../../drizzle/schema.ts";
import type { DevEmail } from "../contract/dev.ts";
import type { Database } from "../db/client.ts";
import { isoUtc } from "../lib/time.ts";

/** Emails kept instead of sent (development), newest first, at most 100. */
export async function listKeptEmails(db: Database, to: string): Promise<DevEmail[]> {
  const rows = await db
    .select()
    .from(emailOutbox)
    .where(eq(emailOutbox.toAddress, to.trim().toLowerCase()))
    .orderBy(desc(emailOutbox.createdAt))
    .limit(100);
  return rows.map((row) => ({
    to: row.toAddress,
    subject: row.subject,
    text: row.body,
    created_at: isoUtc(row.createdAt) ?? "",
  }));
}

/**
 * `roundTrips` sequential rounds of `parallel` concurrent `SELECT 1`: the floor of any read
 * (defaults 1/1) and the price of exceeding it (npm run bench, BENCHMARKS.md).
 */
export async function probeDatabase(db: Database, roundTrips: number, parallel: number): Promise<number> {
  let result = 0;
  for (let round = 0; round < roundTrips; round++) {
    const answers = await Promise.all(Array.from({ length: parallel }, () => db.execute<{ one: number }>(sql`select 1 as one`)));
    result = Number(answers[0]?.rows[0]?.one ?? 0);
  }
  return result;
}
