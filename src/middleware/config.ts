import { createMiddleware } from "hono/factory";
import { type AppEnv, ConfigError, configFor } from "../env.ts";
import { AppError } from "../lib/errors.ts";

let reportedProblem: string | undefined;

/**
 * readConfig once per isolate (configFor caches per env object). Outside
 * development a missing or malformed required value makes every route answer
 * 503 with one clear log line (per isolate), instead of serving with local
 * fallbacks. Also sets the request clock: X-Test-Now only where the config allows it.
 */
export const config = createMiddleware<AppEnv>(async (c, next) => {
  try {
    c.set("config", configFor(c.env));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (reportedProblem !== error.message) {
      reportedProblem = error.message;
      console.error(JSON.stringify({ level: "error", msg: "refusing to serve: configuration", problems: error.problems }));
    }
    throw new AppError("SERVICE_UNAVAILABLE", "The service is not configured");
  }
  c.set("now", requestClock(c.var.config.allowTestClock, c.req.header("x-test-now")));
  await next();
});

/** Tests move time (token expiry, refund windows) with an `X-Test-Now` header, only where allowed. */
function requestClock(allowed: boolean, header: string | undefined): Date {
  if (allowed && header) {
    const parsed = new Date(header);
    if (!Number.isNaN(parsed.getTime())) return parsed;
  }
  return new Date();
}
