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
 *   marks come from KV (read with cacheTtl, memoised in the isolate), written
 *   by revokeUserTokens together with the Durable Object's mark.
 *
 * The login throttle (middleware/login-throttle.ts) stays exact in every mode.
 */
import type { RateLimiter } from "../durable/rate-limiter.ts";

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

/** The slice of KV the marks use (KVNamespace satisfies it). */
export interface RevocationKv {
  get(key: string, options: { type: "text"; cacheTtl?: number }): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
}

/** How long this isolate trusts a mark it read; with KV's 30 s cacheTtl a revocation reaches every location within 60 s. */
export const REVOCATION_MEMO_MS = 25_000;
const KV_CACHE_TTL_SECONDS = 30;
/** Access tokens live 24 h: a mark older than that revokes nothing that could still be valid. */
const MARK_TTL_SECONDS = 25 * 3600;

const marks = new Map<string, { revokedBefore: number; until: number }>();

const markKey = (userId: string) => `rev:${userId}`;

/** Unix seconds; the user's access tokens with iat below it are revoked (0 = none). */
export async function revokedBefore(kv: RevocationKv | undefined, userId: string, nowMs = Date.now()): Promise<number> {
  const cached = marks.get(userId);
  if (cached && cached.until > nowMs) return cached.revokedBefore;
  const text = kv ? await kv.get(markKey(userId), { type: "text", cacheTtl: KV_CACHE_TTL_SECONDS }) : null;
  const value = Number(text ?? 0) || 0;
  if (marks.size >= MAX_KEYS) marks.clear();
  // A local mark set by revokeUserTokens in this isolate is never lowered by an older KV replica.
  marks.set(userId, { revokedBefore: Math.max(value, cached?.revokedBefore ?? 0), until: nowMs + REVOCATION_MEMO_MS });
  return marks.get(userId)?.revokedBefore ?? value;
}

/** Where revokeUserTokens writes: the request's or the cron's `platform` (env.ts Platform) has both. */
export interface RevocationTarget {
  rateLimiter?: DurableObjectNamespace<RateLimiter> | undefined;
  matchCache?: RevocationKv | undefined;
}

/**
 * THE way to revoke a user's access tokens (deactivation, deletion, role
 * change, password reset or change): every access token issued until now
 * stops working — in this isolate at once, in every location within 60 s
 * (KV mark), and at once everywhere in "exact" mode (Durable Object mark).
 * Pass `deps.platform` (or `env.platform`); a bare Durable Object namespace is
 * still accepted and then only the Durable Object and this isolate learn it.
 */
export async function revokeUserTokens(
  target: RevocationTarget | DurableObjectNamespace<RateLimiter> | undefined,
  userId: string,
  now: Date,
): Promise<void> {
  // +1: iat has one-second resolution; a token minted in this very second is revoked too.
  const before = Math.floor(now.getTime() / 1000) + 1;
  const platform: RevocationTarget | undefined =
    target && "idFromName" in target ? { rateLimiter: target as DurableObjectNamespace<RateLimiter> } : target;
  const current = marks.get(userId)?.revokedBefore ?? 0;
  // The mark is held beyond the KV memo: a replica may serve the old (absent) mark for up to cacheTtl.
  marks.set(userId, { revokedBefore: Math.max(before, current), until: Date.now() + 24 * 3600_000 });
  const writes: Promise<unknown>[] = [];
  if (platform?.matchCache) {
    writes.push(platform.matchCache.put(markKey(userId), String(before), { expirationTtl: MARK_TTL_SECONDS }));
  }
  const namespace = platform?.rateLimiter;
  if (namespace) writes.push(namespace.get(namespace.idFromName(`user:${userId}`)).revokeTokensBefore(before));
  await Promise.all(writes);
}
