/**
 * Exact per-key counters for rate limiting (KV is eventually consistent and
 * must not hold counters). One object per key (`idFromName(key)`), so the load
 * spreads across objects and each count is strictly serial: a Durable Object
 * delivers no other call while one awaits its storage (input gate), so a
 * read-modify-write here cannot interleave with another.
 *
 * Two kinds of counting live here:
 * - `hit`: a fixed window (the general 100 requests/minute per user or IP);
 * - `failures`: a sliding log of timestamps (the login throttle's
 *   "10 failed attempts in any 15 minutes", where a fixed window would let an
 *   attacker place 2 x 10 guesses around a window boundary).
 *
 * The same object for `user:<id>` also holds that user's token revocation
 * time: a deactivated, deleted or re-roled user's access tokens issued before
 * it stop working on their next request, without a database read per request
 * (the rate-limit call is made anyway, and a Durable Object is consistent).
 */
import { DurableObject } from "cloudflare:workers";

export interface HitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds at which the current window ends. */
  resetAt: number;
  /** Unix seconds; access tokens with iat below this are revoked (0 = none). */
  revokedBefore: number;
}

export interface FailureResult {
  /** False once `limit` failures lie inside the sliding window. */
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds at which the oldest counted failure leaves the window (now when none). */
  resetAt: number;
}

interface Window {
  start: number;
  count: number;
}

export class RateLimiter extends DurableObject {
  private window: Window | undefined;
  private failureLog: number[] | undefined;
  private revokedBefore: number | undefined;

  private async loadRevokedBefore(): Promise<number> {
    if (this.revokedBefore === undefined) {
      this.revokedBefore = (await this.ctx.storage.get<number>("revokedBefore")) ?? 0;
    }
    return this.revokedBefore;
  }

  private async loadWindow(): Promise<Window | undefined> {
    if (this.window === undefined) this.window = await this.ctx.storage.get<Window>("window");
    return this.window;
  }

  private async loadFailures(): Promise<number[]> {
    if (this.failureLog === undefined) this.failureLog = (await this.ctx.storage.get<number[]>("failures")) ?? [];
    return this.failureLog;
  }

  /**
   * Counts one request in a fixed window. `cost` 0 only reads the state
   * (headers for uncounted routes).
   *
   * The window only moves forward: a request stamped with an earlier time
   * (another Worker's clock a little behind, or a test clock) is counted in
   * the current window instead of resetting it.
   */
  async hit(limit: number, windowSeconds: number, nowMs: number, cost: 0 | 1 = 1): Promise<HitResult> {
    const windowMs = windowSeconds * 1000;
    const start = Math.floor(nowMs / windowMs) * windowMs;
    let window = await this.loadWindow();
    if (!window || start > window.start) window = { start, count: 0 };
    const allowed = window.count < limit;
    if (allowed && cost === 1) {
      window = { start: window.start, count: window.count + 1 };
    }
    if (window !== this.window) {
      this.window = window;
      // Persisted so that an evicted object does not forget its counts.
      await this.ctx.storage.put("window", window);
    }
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - window.count),
      resetAt: Math.ceil((window.start + windowMs) / 1000),
      revokedBefore: await this.loadRevokedBefore(),
    };
  }

  /**
   * Failures inside the last `windowSeconds` (sliding). `cost` 1 records one
   * failure at `nowMs`; 0 only reads. At most `limit` timestamps are kept.
   */
  async failures(limit: number, windowSeconds: number, nowMs: number, cost: 0 | 1): Promise<FailureResult> {
    const windowMs = windowSeconds * 1000;
    const stored = await this.loadFailures();
    let log = stored.filter((at) => at > nowMs - windowMs && at <= nowMs + windowMs);
    if (cost === 1) log = [...log, nowMs].sort((a, b) => a - b).slice(-limit);
    if (log.length !== stored.length || cost === 1) {
      this.failureLog = log;
      await this.ctx.storage.put("failures", log);
    }
    const allowed = log.length < limit;
    const oldest = log[0];
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - log.length),
      resetAt: Math.ceil((allowed || oldest === undefined ? nowMs : oldest + windowMs) / 1000),
    };
  }

  /** Clears the counts (a successful login resets the failure count). Revocation marks stay. */
  async reset(): Promise<void> {
    this.window = undefined;
    this.failureLog = [];
    await this.ctx.storage.delete(["window", "failures"]);
  }

  async revokeTokensBefore(unixSeconds: number): Promise<void> {
    const current = await this.loadRevokedBefore();
    if (unixSeconds > current) {
      this.revokedBefore = unixSeconds;
      await this.ctx.storage.put("revokedBefore", unixSeconds);
    }
  }
}
