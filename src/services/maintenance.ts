/**
 * The cron job: removes or closes everything that expired. Each step is a
 * plain function over the db so that tests call it directly too.
 */
import { and, eq, isNotNull, lt, lte, or } from "drizzle-orm";
import { emailOutbox, emailTokens, matchCache, refreshTokens } from "../../drizzle/schema.ts";
import type { Database } from "../db/client.ts";
import type { ServiceEnv } from "../env.ts";
import { dispatchEmails } from "./notifications.ts";
import { completePendingRefunds } from "./payment-followups.ts";
import { releaseStalePendingBookings } from "./payments.ts";
import { sendDueReminders } from "./reminders.ts";

export interface MaintenanceReport {
  [step: string]: number;
}

type Step = (db: Database, env: ServiceEnv, now: Date) => Promise<number>;

const steps: Record<string, Step> = {
  // Pending bookings whose checkout expired without an event (or never started): cancelled, slot freed.
  stale_pending_bookings: (db, env, now) => releaseStalePendingBookings(db, env, now),
  // Contract v2: "Reminder: ..." emails 24 h and 1 h before each confirmed session, each exactly once.
  session_reminders: (db, env, now) => sendDueReminders(db, env, now),
  // Refunds decided but not confirmed (the call after the commit failed): made again, same idempotency key.
  pending_refunds: (db, env, now) => completePendingRefunds(db, env, now),
  expired_match_cache: async (db, _env, now) =>
    (await db.delete(matchCache).where(lt(matchCache.expiresAt, now)).returning({ id: matchCache.id })).length,
  expired_email_tokens: async (db, _env, now) =>
    (
      await db
        .delete(emailTokens)
        .where(or(lt(emailTokens.expiresAt, now), isNotNull(emailTokens.usedAt)))
        .returning({ id: emailTokens.id })
    ).length,
  expired_refresh_tokens: async (db, _env, now) =>
    (await db.delete(refreshTokens).where(lt(refreshTokens.expiresAt, now)).returning({ id: refreshTokens.id })).length,
  // Emails whose queue send failed stay `queued`; give them another dispatch.
  redispatched_emails: async (db, env, now) => {
    const stale = await db
      .select({ id: emailOutbox.id })
      .from(emailOutbox)
      .where(
        and(
          eq(emailOutbox.status, "queued"),
          eq(emailOutbox.attempts, 0),
          lte(emailOutbox.createdAt, new Date(now.getTime() - 10 * 60_000)),
        ),
      )
      .limit(500);
    await dispatchEmails(
      env,
      stale.map((row) => row.id),
    );
    return stale.length;
  },
};

/** Registers an extra step (feature modules add theirs, e.g. stale pending bookings). */
export function registerMaintenanceStep(name: string, step: Step): void {
  steps[name] = step;
}

export async function runMaintenance(db: Database, env: ServiceEnv, now: Date): Promise<MaintenanceReport> {
  const report: MaintenanceReport = {};
  for (const [name, step] of Object.entries(steps)) {
    try {
      report[name] = await step(db, env, now);
    } catch (error) {
      report[name] = -1;
      console.error(JSON.stringify({ level: "error", msg: "maintenance step failed", step: name, error: String(error) }));
    }
  }
  return report;
}
