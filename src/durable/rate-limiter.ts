/**
 * Exact per-key counters for rate limiting (KV is eventually consistent and
 * must not hold counters). One object per key (`idFromName(key)`), so the load
 * spreads across objects and each count is strictly serial.
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

interface Window {
  start: number;
  count: number;
}

export class RateLimiter extends DurableObject {
  private window: Window | undefined;
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

  /**
   * Counts one request in a fixed window. `cost` 0 only reads the state
   * (the login throttle checks before it counts a failure).
   */
  async hit(limit: number, windowSeconds: number, nowMs: number, cost: 0 | 1 = 1): Promise<HitResult> {
    const windowMs = windowSeconds * 1000;
    const start = Math.floor(nowMs / windowMs) * windowMs;
    let window = await this.loadWindow();
    if (!window || window.start !== start) window = { start, count: 0 };
    const allowed = window.count < limit;
    if (allowed && cost === 1) {
      window = { start, count: window.count + 1 };
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
      resetAt: Math.ceil((start + windowMs) / 1000),
      revokedBefore: await this.loadRevokedBefore(),
    };
  }

  /** Clears the current window (a successful login resets the failure count). */
  async reset(): Promise<void> {
    this.window = undefined;
    await this.ctx.storage.delete("window");
  }

  async revokeTokensBefore(unixSeconds: number): Promise<void> {
    const current = await this.loadRevokedBefore();
    if (unixSeconds > current) {
      this.revokedBefore = unixSeconds;
      await this.ctx.storage.put("revokedBefore", unixSeconds);
    }
  }
}
