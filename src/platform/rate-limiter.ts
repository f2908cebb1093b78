/**
 * Rate-limit counting and token revocation, behind one adapter.
 *
 * Two modes (RATE_LIMIT_MODE, README "Rate limits"):
 * - "exact": one counter per user/IP in the RateLimiter Durable Object; the
 *   same call returns the user's revocation mark (strongly consistent, but a
 *   hop to the object's location on every request);
 * - "location" (deployed): counted where the request is served, with no call
 *   out of the isolate: an in-isolate fixed window gives the X-RateLimit-*
 *   figures, and when the Rate Limiting binding RATE_LIMITS is bound it is
 *   asked too, so that all isolates of a location share the limit. Revocation
 *   marks come from the revocation list in KV (revocation-list.ts: one value
 *   for all users, read with cacheTtl, memoised in the isolate), published by
 *   its Durable Object when revokeUserTokens records a mark.
 *
 * The login throttle (middleware/login-throttle.ts) stays exact in every mode.
 */
import type { RateLimiter } from "../durable/rate-limiter.ts";
import { REVOCATION_LIST_OBJECT, type RevocationKv, revocationList } from "./revocation-list.ts";

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds at which the current window ends. */
  resetAt: number;
}

/** Cloudflare's Rate Limiting binding (`[[ratelimits]]`); its limit and period are set in wrangler.toml. */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

// ---------------------------------------------------------------------------
// per-location counting
// ---------------------------------------------------------------------------

const MAX_KEYS = 20_000;
const windows = new Map<string, { start: number; count: number }>();

/** One request in the isolate's fixed window for `key`; `cost` 0 only reads. */
export function hitLocal(key: string, limit: number, windowSeconds: number, nowMs: number, cost: 0 | 1): RateLimitResult {
  const windowMs = windowSeconds * 1000;
  const start = Math.floor(nowMs / windowMs) * windowMs;
  let window = windows.get(key);
  if (!window || start > window.start) {
    if (windows.size >= MAX_KEYS) {
      // Bounded memory: drop the windows that already ended.
      for (const [name, entry] of windows) if (entry.start < start) windows.delete(name);
      if (windows.size >= MAX_KEYS) windows.clear();
    }
    window = { start, count: 0 };
    windows.set(key, window);
  }
  const allowed = window.count < limit;
  if (allowed && cost === 1) window.count++;
  return {
    allowed,
    limit,
    remaining: Math.max(0, limit - window.count),
    resetAt: Math.ceil((window.start + windowMs) / 1000),
  };
}

// ---------------------------------------------------------------------------
// revocation marks
// ---------------------------------------------------------------------------

/** Marks this isolate made itself (revokeUserTokens): effective here at once, before KV has them. */
const ownMarks = new Map<string, number>();

/**
 * Unix seconds; the user's access tokens with iat below it are revoked (0 =
 * none): the isolate's own marks and the published list (revocation-list.ts:
 * one KV read per memo period for all users, not one per user).
 */
export async function revokedBefore(kv: RevocationKv | undefined, userId: string, nowMs = Date.now()): Promise<number> {
  const list = await revocationList(kv, nowMs);
  return Math.max(ownMarks.get(userId) ?? 0, list.get(userId) ?? 0);
}

/** Where revokeUserTokens writes: the request's or the cron's `platform` (env.ts Platform). */
export interface RevocationTarget {
  rateLimiter?: DurableObjectNamespace<RateLimiter> | undefined;
}

/**
 * THE way to revoke a user's access tokens (deactivation, deletion, role
 * change, password reset or change): every access token issued until now
 * stops working — in this isolate at once, in every location within 60 s
 * (the revocation list in KV, published by its Durable Object), and at once
 * everywhere in "exact" mode (the user's Durable Object mark).
 * Pass `deps.platform` (or `env.platform`); a bare Durable Object namespace is
 * accepted too.
 */
export async function revokeUserTokens(
  target: RevocationTarget | DurableObjectNamespace<RateLimiter> | undefined,
  userId: string,
  now: Date,
): Promise<void> {
  // +1: iat has one-second resolution; a token minted in this very second is revoked too.
  const before = Math.floor(now.getTime() / 1000) + 1;
  const namespace =
    target && "idFromName" in target ? (target as DurableObjectNamespace<RateLimiter>) : (target?.rateLimiter ?? undefined);
  if (ownMarks.size >= MAX_KEYS) ownMarks.clear();
  ownMarks.set(userId, Math.max(before, ownMarks.get(userId) ?? 0));
  if (!namespace) return;
  await Promise.all([
    namespace.get(namespace.idFromName(`user:${userId}`)).revokeTokensBefore(before),
    namespace.get(namespace.idFromName(REVOCATION_LIST_OBJECT)).publishRevocation(userId, before),
  ]);
}
