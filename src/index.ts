/**
 * Worker entry: fetch (the Hono app), scheduled (cron: expiry jobs) and queue
 * (notification delivery). Never export the bare app.
 */
import { createApp } from "./app.ts";
import { createDatabase } from "./db/client.ts";
import { type Bindings, serviceEnvOf } from "./env.ts";
import { createLog } from "./lib/log.ts";
import { bumpDataVersions, sectionsWritten } from "./platform/edge-versions.ts";
import { runMaintenance } from "./services/maintenance.ts";
import { deliverEmail, type EmailMessage, retryDelaySeconds } from "./services/notifications.ts";

export { RateLimiter } from "./durable/rate-limiter.ts";

const app = createApp();

const log = createLog();

function logPoolError(error: Error) {
  log.error("database pool error", { error: error.message });
}

export default {
  fetch: app.fetch,

  async scheduled(controller: ScheduledController, env: Bindings, ctx: ExecutionContext): Promise<void> {
    const services = serviceEnvOf(env, (work) => ctx.waitUntil(work), log);
    const session = createDatabase(
      {
        DATABASE_URL: services.config.database.url,
        WS_PROXY: services.config.database.wsProxy,
        HYPERDRIVE_URL: env.HYPERDRIVE?.connectionString,
      },
      logPoolError,
    );
    try {
      const report = await runMaintenance(session.db, services, new Date(controller.scheduledTime));
      log.info("maintenance", { cron: controller.cron, ...report });
    } finally {
      // The job's writes (released holds free slots, completed sessions raise a coach's count)
      // invalidate the edge caches as a request's writes do (middleware/database.ts); without
      // this a cached free-slot list would hide a released slot until the entry's TTL.
      const sections = sectionsWritten(session.writtenTables());
      if (sections.length > 0 && env.MATCH_CACHE) {
        ctx.waitUntil(
          bumpDataVersions(env.MATCH_CACHE, sections).catch((error: unknown) =>
            log.error("edge cache invalidation failed", { error: String(error) }),
          ),
        );
      }
      ctx.waitUntil(session.end());
    }
  },

  async queue(batch: MessageBatch<EmailMessage>, env: Bindings, ctx: ExecutionContext): Promise<void> {
    const services = serviceEnvOf(env, (work) => ctx.waitUntil(work), log);
    const session = createDatabase(
      {
        DATABASE_URL: services.config.database.url,
        WS_PROXY: services.config.database.wsProxy,
        HYPERDRIVE_URL: env.HYPERDRIVE?.connectionString,
      },
      logPoolError,
    );
    try {
      for (const message of batch.messages) {
        try {
          await deliverEmail(session.db, services, message.body.outboxId, message.attempts);
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
