/**
 * What the payment paths do AFTER their write committed (house rule: no
 * Stripe call inside an open transaction), and the pieces their one-statement
 * writes share.
 *
 * The pattern everywhere: the committed write records the intent (a payment
 * row before its Checkout Session exists, `refund_requested_at` before a
 * refund is made), Stripe is called afterwards with an idempotency key derived
 * from that intent, and the result is written back. When the call fails or the
 * Worker dies in between, the intent is still there: a client's retry (same
 * key, same session), the webhook (reconciles by session / intent id) or the
 * cron job (`completePendingRefunds`) finishes it.
 */
import { and, eq, getTableColumns, isNotNull, lte, type SQL, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { payments } from "../../drizzle/schema.ts";
import { createDatabase, type Database } from "../db/client.ts";
import type { ServiceEnv } from "../env.ts";
import { expireCheckoutSession, refundPaymentIntent } from "../platform/stripe.ts";

/**
 * `col = value, ...` for the columns in `patch` (property names of the drizzle
 * table), so that a guarded UPDATE writes exactly what a decision changed.
 */
export function setClause<T extends PgTable>(table: T, patch: Record<string, unknown>): SQL {
  const columns = getTableColumns(table) as Record<string, { name: string }>;
  const parts = Object.entries(patch)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      const column = columns[key];
      if (!column) throw new Error(`unknown column ${key}`);
      const param = value instanceof Date ? value.toISOString() : value;
      return sql`${sql.identifier(column.name)} = ${param}`;
    });
  return sql.join(parts, sql`, `);
}

/** A SQLSTATE 40001 raised by cb_write_conflict (migration 0005): the guarded write lost a race; read again. */
export function isWriteConflict(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    if ((current as { code?: unknown }).code === "40001") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Attempts of a read-decide-write whose guard found the rows changed (contention on one booking is rare). */
export const WRITE_ATTEMPTS = 4;

/**
 * Runs `work` after the response (waitUntil) on a database session of its
 * own: the request's pool is ended when the response is sent, and the work
 * may wait on Stripe far longer than the request did.
 */
export function afterResponse(env: ServiceEnv, label: string, work: (db: () => Database) => Promise<void>): void {
  let session: ReturnType<typeof createDatabase> | undefined;
  const db = () => {
    session ??= createDatabase({ DATABASE_URL: env.config.database.url, WS_PROXY: env.config.database.wsProxy }, (error) =>
      env.log.error("follow-up database error", { label, error: error.message }),
    );
    return session.db;
  };
  env.defer(
    work(db)
      .catch((error: unknown) => env.log.error("payment follow-up failed", { label, error: String(error) }))
      .finally(() => session?.end()),
  );
}

export interface RefundIntent {
  paymentId: string;
  bookingId: string;
  paymentIntentId: string;
  destinationCharge: boolean;
}

/**
 * Makes a recorded refund at Stripe and, when Stripe says it is done, marks
 * the payment refunded (still only if it is `succeeded`, so a charge.refunded
 * that got there first is not written twice). A refund Stripe settles later is
 * marked by its charge.refunded event. Returns whether Stripe took the refund.
 */
export async function makeRefund(db: Database, env: ServiceEnv, refund: RefundIntent, now: Date): Promise<boolean> {
  const outcome = await refundPaymentIntent(env, refund);
  if (outcome.status === "succeeded") {
    await db
      .update(payments)
      .set({ status: "refunded", refundedAt: now, updatedAt: now })
      .where(and(eq(payments.id, refund.paymentId), eq(payments.status, "succeeded")));
  }
  env.log.info("refund made", { payment_id: refund.paymentId, refund_id: outcome.refundId, status: outcome.status });
  return true;
}

/** After a commit: refunds and session expiries, on their own connection, not delaying the response. */
export function runStripeFollowUps(
  env: ServiceEnv,
  work: { refunds?: RefundIntent[]; expireSessions?: string[] },
  now: Date,
): void {
  const refunds = work.refunds ?? [];
  const sessions = work.expireSessions ?? [];
  if (refunds.length === 0 && sessions.length === 0) return;
  afterResponse(env, "stripe follow-ups", async (db) => {
    await Promise.all(sessions.map((sessionId) => expireCheckoutSession(env, sessionId)));
    for (const refund of refunds) {
      // A failure leaves refund_requested_at set: the cron job retries with the same key.
      await makeRefund(db(), env, refund, now).catch((error: unknown) =>
        env.log.error("refund failed; the cron job retries it", { payment_id: refund.paymentId, error: String(error) }),
      );
    }
  });
}

/** Refunds recorded this long ago and still not confirmed are made again by the cron job (same idempotency key). */
export const REFUND_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Cron: every refund that was decided (refund_requested_at) but whose payment
 * is still `succeeded` after REFUND_RETRY_AFTER_MS is requested again from
 * Stripe. The key is the payment's, so a refund that did go through is not
 * repeated; Stripe's answer (or its charge.refunded event) marks the payment.
 */
export async function completePendingRefunds(db: Database, env: ServiceEnv, now: Date): Promise<number> {
  const due = await db
    .select({
      id: payments.id,
      bookingId: payments.bookingId,
      intentId: payments.stripePaymentIntentId,
      destination: payments.destinationAccount,
    })
    .from(payments)
    .where(
      and(
        eq(payments.status, "succeeded"),
        isNotNull(payments.refundRequestedAt),
        isNotNull(payments.stripePaymentIntentId),
        lte(payments.refundRequestedAt, new Date(now.getTime() - REFUND_RETRY_AFTER_MS)),
      ),
    )
    .limit(100);
  let made = 0;
  for (const payment of due) {
    try {
      await makeRefund(
        db,
        env,
        {
          paymentId: payment.id,
          bookingId: payment.bookingId,
          paymentIntentId: payment.intentId as string,
          destinationCharge: payment.destination !== null,
        },
        now,
      );
      made++;
    } catch (error) {
      env.log.error("refund retry failed", { payment_id: payment.id, error: String(error) });
    }
  }
  return made;
}

/** The parties of a booking as JSON (coach profile name first, then client profile), for one-statement reads. */
export function partyJson(userId: SQL): SQL {
  return sql`(select json_build_object(
      'id', u.id, 'email', u.email,
      'firstName', coalesce(kp.first_name, cp.first_name),
      'lastName', coalesce(kp.last_name, cp.last_name),
      'photoUrl', coalesce(kp.photo_url, cp.photo_url))
    from users u
    left join coach_profiles kp on kp.user_id = u.id
    left join client_profiles cp on cp.user_id = u.id
    where u.id = ${userId})`;
}
