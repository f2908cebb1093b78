/**
 * The one notification service. Every email is written to `email_outbox`
 * and its id sent through the NOTIFICATIONS queue; the queue consumer delivers
 * it with retries (at most 5 attempts, exponential backoff).
 *
 * In development nothing is sent: the consumer marks the row `kept` and
 * GET /dev/emails serves it. Elsewhere an HTTP email API is configured by
 * EMAIL_API_URL / EMAIL_API_KEY / EMAIL_FROM; without one, delivery fails
 * loudly in the log (and the message ends `failed`), never silently.
 */
import { eq } from "drizzle-orm";
import { emailOutbox } from "../../drizzle/schema.ts";
import type { Database, Executor } from "../db/client.ts";
import type { ServiceEnv } from "../env.ts";
import type { EmailMessage } from "../platform/notifications-queue.ts";

export type { EmailMessage };

export interface Email {
  to: string;
  subject: string;
  text: string;
}

export const MAX_DELIVERY_ATTEMPTS = 5;

/** Records the emails (in the caller's transaction when given one). Returns the outbox ids to dispatch. */
export async function recordEmails(db: Executor, emails: Email[]): Promise<string[]> {
  if (emails.length === 0) return [];
  const rows = await db
    .insert(emailOutbox)
    .values(emails.map((email) => ({ toAddress: email.to.toLowerCase(), subject: email.subject, body: email.text })))
    .returning({ id: emailOutbox.id });
  return rows.map((row) => row.id);
}

/**
 * Hands recorded emails to the queue. A queue failure never fails the request
 * that caused the email: it is logged, and the row stays `queued` for the
 * cron job to re-dispatch.
 */
export async function dispatchEmails(env: ServiceEnv, outboxIds: string[]): Promise<void> {
  const queue = env.platform.queue;
  if (outboxIds.length === 0 || !queue) return;
  try {
    await queue.sendBatch(outboxIds.map((outboxId) => ({ body: { outboxId } })));
  } catch (error) {
    env.log.error("notification queue send failed", { count: outboxIds.length, error: String(error) });
  }
}

/** Record and dispatch in one call, for callers outside a transaction. */
export async function sendEmails(db: Executor, env: ServiceEnv, emails: Email[]): Promise<void> {
  await dispatchEmails(env, await recordEmails(db, emails));
}

/** Delivers one outbox message; throws to ask the queue for a retry. */
export async function deliverEmail(db: Database, env: ServiceEnv, outboxId: string, attempt: number): Promise<void> {
  const [message] = await db.select().from(emailOutbox).where(eq(emailOutbox.id, outboxId)).limit(1);
  if (!message || message.status === "sent" || message.status === "kept") return;
  if (env.config.isLocal) {
    await db.update(emailOutbox).set({ status: "kept", attempts: attempt }).where(eq(emailOutbox.id, outboxId));
    return;
  }
  try {
    const { apiUrl, apiKey, from } = env.config.email;
    if (!apiUrl) throw new Error("no email provider configured (EMAIL_API_URL)");
    const response = await fetch(apiUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      },
      body: JSON.stringify({
        from,
        to: message.toAddress,
        subject: message.subject,
        text: message.body,
      }),
    });
    if (!response.ok) throw new Error(`email API answered ${response.status}`);
    await db
      .update(emailOutbox)
      .set({ status: "sent", attempts: attempt, sentAt: new Date(), lastError: null })
      .where(eq(emailOutbox.id, outboxId));
  } catch (error) {
    const finalAttempt = attempt >= MAX_DELIVERY_ATTEMPTS;
    await db
      .update(emailOutbox)
      .set({ status: finalAttempt ? "failed" : "queued", attempts: attempt, lastError: String(error) })
      .where(eq(emailOutbox.id, outboxId));
    env.log.error("email delivery failed", { outbox_id: outboxId, attempt, final: finalAttempt, error: String(error) });
    if (!finalAttempt) throw error;
  }
}

/** Backoff before the next attempt: 10 s, 20 s, 40 s, 80 s. */
export function retryDelaySeconds(attempt: number): number {
  return 10 * 2 ** Math.max(0, attempt - 1);
}
