import { createMiddleware } from "hono/factory";
import { createDatabase } from "../db/client.ts";
import { type AppEnv, platformOf } from "../env.ts";
import { createLog } from "../lib/log.ts";

/** Paths that never touch the database: no pool is made for them. */
const NO_DATABASE = new Set(["/openapi.json", "/docs", "/favicon.ico"]);

/**
 * A Pool per request (workerd forbids sharing I/O objects across requests),
 * ended after the response; and the request's `deps` for services, the only
 * place besides index.ts (scheduled, queue) where they are built.
 */
export const database = createMiddleware<AppEnv>(async (c, next) => {
  if (NO_DATABASE.has(c.req.path)) return next();
  const config = c.var.config;
  const log = createLog({ request_id: c.var.requestId });
  const session = createDatabase({ DATABASE_URL: config.database.url, WS_PROXY: config.database.wsProxy }, (error) =>
    log.error("database pool error", { error: error.message }),
  );
  const defer = (work: Promise<unknown>) => {
    try {
      c.executionCtx.waitUntil(work);
    } catch {
      // No execution context (plain app.request in Node): let it run.
      void work;
    }
  };
  c.set("db", session.db);
  c.set("deps", { db: session.db, config, now: c.var.now, log, defer, platform: platformOf(c.env) });
  try {
    await next();
  } finally {
    // Round-trip count, for the tests and benchmarks that pin it; not exposed in production.
    if (config.isLocal) c.header("X-DB-Queries", String(session.queryCount()));
    const ending = session.end();
    try {
      c.executionCtx.waitUntil(ending);
    } catch {
      await ending;
    }
  }
});
