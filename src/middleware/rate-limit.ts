import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { AppError, unauthorized } from "../lib/errors.ts";
import type { TokenClaims } from "../services/tokens.ts";

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 100;

/** Routes that are not counted: Stripe's deliveries come in bursts from few IPs. */
const EXEMPT_PATHS = new Set(["/payment/webhook"]);

export function rateLimitPerMinute(value: string | undefined): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : DEFAULT_RATE_LIMIT_PER_MINUTE;
}

export function clientIp(header: (name: string) => string | undefined): string {
  return header("cf-connecting-ip") ?? header("x-real-ip") ?? "unknown";
}

/**
 * 100 requests/minute per user (per client IP when anonymous), counted exactly
 * in a Durable Object. The same call tells whether the user's tokens were
 * revoked; a revoked token is treated as no token.
 */
export const rateLimit = createMiddleware<AppEnv & { Variables: { claims?: TokenClaims; authError?: AppError } }>(
  async (c, next) => {
    const claims = c.var.claims;
    const namespace = c.env.RATE_LIMITER;
    if (!namespace || EXEMPT_PATHS.has(c.req.path)) {
      if (claims) c.set("user", { id: claims.sub, role: claims.role });
      await next();
      return;
    }
    const key = claims ? `user:${claims.sub}` : `ip:${clientIp((name) => c.req.header(name))}`;
    const limit = rateLimitPerMinute(c.env.RATE_LIMIT_PER_MINUTE);
    const stub = namespace.get(namespace.idFromName(key));
    const result = await stub.hit(limit, 60, c.var.now.getTime());
    const headers = {
      "X-RateLimit-Limit": String(result.limit),
      "X-RateLimit-Remaining": String(result.remaining),
      "X-RateLimit-Reset": String(result.resetAt),
    };
    if (claims) {
      if (claims.iat < result.revokedBefore) c.set("authError", unauthorized("Token revoked"));
      else c.set("user", { id: claims.sub, role: claims.role });
    }
    if (!result.allowed) {
      const retryAfter = Math.max(1, result.resetAt - Math.floor(c.var.now.getTime() / 1000));
      throw new AppError("RATE_LIMIT_EXCEEDED", "Too many requests, slow down", { retry_after_seconds: retryAfter }, {
        ...headers,
        "Retry-After": String(retryAfter),
      });
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  },
);

/** Marks every access token of the user issued until now as revoked (deactivation, deletion, role change). */
export async function revokeUserTokens(env: AppEnv["Bindings"], userId: string, now: Date): Promise<void> {
  const namespace = env.RATE_LIMITER;
  if (!namespace) return;
  const stub = namespace.get(namespace.idFromName(`user:${userId}`));
  // +1: iat has one-second resolution; a token minted in this very second is revoked too.
  await stub.revokeTokensBefore(Math.floor(now.getTime() / 1000) + 1);
}
