import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Requests slower than this are logged even when they succeed. */
const SLOW_MS = 1000;

/**
 * Request id (echo a sane incoming one), the request clock, and a JSON log
 * line for every failed (>= 400) or slow request. Successful fast requests are
 * not logged by the app: Workers Logs (observability, wrangler.toml) already
 * records every invocation with its method, URL, status and duration, and a
 * console line per request was measurable on the hot path (BENCHMARKS.md,
 * "The chain").
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : `req_${crypto.randomUUID().replace(/-/g, "")}`;
  c.set("requestId", requestId);
  c.set("user", undefined);
  c.set("now", new Date());
  const started = Date.now();
  try {
    await next();
  } catch (error) {
    // Hono hands only Error instances to onError; a library rejecting with
    // something else (a string, a WebSocket ErrorEvent) would escape the
    // envelope. Re-thrown as an Error, onError answers it like any other.
    if (error instanceof Error) throw error;
    throw new Error(`Non-Error thrown: ${describeThrown(error)}`, { cause: error });
  } finally {
    c.header("X-Request-Id", requestId);
    const duration = Date.now() - started;
    if (c.res.status >= 400 || duration >= SLOW_MS)
      console.log(
        JSON.stringify({
          level: "info",
          msg: "request",
          request_id: requestId,
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          duration_ms: duration,
          user_id: c.var.user?.id ?? null,
        }),
      );
  }
});

function describeThrown(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && "message" in value) return String((value as { message: unknown }).message);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
