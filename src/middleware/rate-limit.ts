import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { AppError, unauthorized } from "../lib/errors.ts";
import type { TokenClaims } from "../lib/tokens.ts";
import { hitLocal, type RateLimitResult, revokedBefore } from "../platform/rate-limiter.ts";

const WINDOW_SECONDS = 60;

/**
 * Routes that are not counted (their answers still carry the headers, read
 * without counting): Stripe's webhook deliveries come in bursts from few IPs,
 * and a dropped delivery would be retried for days.
 */
const EXEMPT_PATHS = new Set(["/payment/webhook"]);

export { rateLimitPerMinute } from "../env.ts";

/**
 * The caller's IP as Cloudflare's edge states it. Only `CF-Connecting-IP`:
 * the edge always sets it (and overwrites a client's), whereas
 * X-Forwarded-For / X-Real-IP are whatever the client sent — keying on them
 * would let anyone pick a fresh bucket per request. `wrangler dev` keeps an
 * incoming CF-Connecting-IP and sets it to the socket address otherwise,
 * which is how the tests act as several clients from one machine.
 */
export function clientIp(header: (name: string) => string | undefined): string {
  const ip = header("cf-connecting-ip")?.trim();
  // Bounded: it becomes part of a Durable Object name.
  return ip && ip.length <= 64 ? ip : "unknown";
}

export function rateLimitHeaders(result: Pick<RateLimitResult, "limit" | "remaining" | "resetAt">): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(result.limit),
    "X-RateLimit-Remaining": String(result.remaining),
    "X-RateLimit-Reset": String(result.resetAt),
  };
}

/** Seconds until `resetAt` (unix seconds), at least 1: the Retry-After of a 429. */
export function retryAfterSeconds(resetAt: number, now: Date): number {
  return Math.max(1, resetAt - Math.floor(now.getTime() / 1000));
}

/**
 * 100 requests/minute per user (per client IP when anonymous), counted per
 * edge location (default) or exactly in a Durable Object (RATE_LIMIT_MODE=exact);
 * see platform/rate-limiter.ts for both. A revoked token is treated as no token.
 *
 * Runs before the body limit and everything that can fail on request content,
 * so that every answer (413, 400, 404, 5xx ...) is counted and carries the
 * X-RateLimit-* headers.
 */
export const rateLimit = createMiddleware<AppEnv & { Variables: { claims?: TokenClaims; authError?: AppError } }>(
  async (c, next) => {
    const claims = c.var.claims;
    const key = claims ? `user:${claims.sub}` : `ip:${clientIp((name) => c.req.header(name))}`;
    const limit = c.var.config.rateLimitPerMinute;
    const cost = EXEMPT_PATHS.has(c.req.path) ? 0 : 1;
    const nowMs = c.var.now.getTime();
    let result: RateLimitResult;
    let revoked = 0;
    if (c.var.config.rateLimitMode === "exact" && c.env.RATE_LIMITER) {
      const namespace = c.env.RATE_LIMITER;
      try {
        const exact = await namespace.get(namespace.idFromName(key)).hit(limit, WINDOW_SECONDS, nowMs, cost);
        result = exact;
        revoked = exact.revokedBefore;
      } catch (error) {
        // Fail closed, as a dependency failure (503), not a 500: the same call
        // carries token revocation, which must not be skipped.
        console.error(
          JSON.stringify({ level: "error", msg: "rate limiter unavailable", request_id: c.var.requestId, error: String(error) }),
        );
        throw new AppError("SERVICE_UNAVAILABLE", "The service is temporarily unavailable, please retry");
      }
    } else {
      result = hitLocal(key, limit, WINDOW_SECONDS, nowMs, cost);
      const [shared, mark] = await Promise.all([
        // The location's shared count, when the binding is configured (all isolates of the location).
        // Not in development/test: its limit is fixed in wrangler.toml, not RATE_LIMIT_PER_MINUTE.
        result.allowed && cost === 1 && c.env.RATE_LIMITS && !c.var.config.isLocal ? c.env.RATE_LIMITS.limit({ key }) : undefined,
        claims ? revokedBefore(c.env.MATCH_CACHE, claims.sub, Date.now()) : 0,
      ]);
      if (shared && !shared.success) result = { ...result, allowed: false, remaining: 0 };
      revoked = mark;
    }
    const headers = rateLimitHeaders(result);
    if (claims) {
      if (claims.iat < revoked) c.set("authError", unauthorized("Token revoked"));
      else c.set("user", { id: claims.sub, role: claims.role });
    }
    if (!result.allowed && cost === 1) {
      const retryAfter = retryAfterSeconds(result.resetAt, c.var.now);
      throw new AppError(
        "RATE_LIMIT_EXCEEDED",
        "Too many requests, slow down",
        { limit, retry_after_seconds: retryAfter },
        {
          ...headers,
          "Retry-After": String(retryAfter),
        },
      );
    }
    await next();
    // After next() the response exists: errors thrown further in were already
    // turned into their envelope by onError at the level where they were thrown.
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  },
);
