import { createMiddleware } from "hono/factory";
import { createDatabase } from "../db/client.ts";
import type { AppEnv } from "../env.ts";

/** Paths that never touch the database: no pool is made for them. */
const NO_DATABASE = new Set(["/openapi.json", "/docs", "/favicon.ico"]);

/** A Pool per request (workerd forbids sharing I/O objects across requests), ended after the response. */
export const database = createMiddleware<AppEnv>(async (c, next) => {
  if (NO_DATABASE.has(c.req.path)) return next();
  const session = createDatabase(c.env, (error) =>
    console.error(
      JSON.stringify({ level: "error", msg: "database pool error", request_id: c.var.requestId, error: error.message }),
    ),
  );
  c.set("db", session.db);
  try {
    await next();
  } finally {
    // Round-trip count, for the tests and benchmarks that pin it; not exposed in production.
    if (c.env.ENVIRONMENT === "development" || c.env.ENVIRONMENT === "test") {
      c.header("X-DB-Queries", String(session.queryCount()));
    }
    const ending = session.end();
    try {
      c.executionCtx.waitUntil(ending);
    } catch {
      // No execution context (plain app.request in Node): end inline.
      await ending;
    }
  }
});
