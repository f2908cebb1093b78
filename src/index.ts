/**
 * Worker entry: fetch (the Hono app), scheduled (cron: expiry jobs) and queue
 * (notification delivery). Never export the bare app.
 */
import { createApp } from "./app.ts";
import { createDatabase } from "./db/client.ts";
import type { Bindings } from "./env.ts";
import { runMaintenance } from "./services/maintenance.ts";
import { deliverEmail, type EmailMessage, retryDelaySeconds } from "./services/notifications.ts";

export { RateLimiter } from "./durable/rate-limiter.ts";

const app = createApp();

function logPoolError(error: Error) {
  console.error(JSON.stringify({ level: "error", msg: "database pool error", error: error.message }));
}

export default {
  fetch: app.fetch,

  async scheduled(controller: ScheduledController, env: Bindings, ctx: ExecutionContext): Promise<void> {
    const session = createDatabase(env, logPoolError);
    try {
      const report = await runMaintenance(session.db, env, new Date(controller.scheduledTime));
      console.log(JSON.stringify({ level: "info", msg: "maintenance", cron: controller.cron, ...report }));
    } finally {
      ctx.waitUntil(session.end());
    }
  },

  async queue(batch: MessageBatch<EmailMessage>, env: Bindings, ctx: ExecutionContext): Promise<void> {
    const session = createDatabase(env, logPoolError);
    try {
      for (const message of batch.messages) {
        try {
          await deliverEmail(session.db, env, message.body.outboxId, message.attempts);
          message.ack();
        } catch {
          message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
        }
      }
    } finally {
      ctx.waitUntil(session.end());
    }
  },
} satisfies ExportedHandler<Bindings, EmailMessage>;
