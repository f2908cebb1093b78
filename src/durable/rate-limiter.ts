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
 * - `take`: a sliding-log quota that only records what it allows (reset emails
 *   per address, verification resends per user: "at most N an hour").
 *
 * Throttle and quota logs expire: every write schedules an alarm one window
 * ahead, and the alarm drops what has left the window (and the keys when
 * nothing is left), so an object per (email, IP) pair does not keep storage
 * forever after a burst of failed logins.
 *
 * The same object for `user:<id>` also holds that user's token revocation
 * time: a deactivated, deleted or re-roled user's access tokens issued before
 * it stop working on their next request, without a database read per request
 * (the rate-limit call is made anyway, and a Durable Object is consistent).
 *
 * One object, named REVOCATION_LIST_OBJECT, keeps the revocation LIST: every
 * user's latest mark of the last MARK_TTL_SECONDS, published to KV as one
 * value (REVOCATION_LIST_KEY) that the per-location mode reads once per memo
 * period for all users (platform/rate-limiter.ts). Writes of that value go
 * through this one object, so two simultaneous revocations cannot overwrite
 * each other's entry (KV has no compare-and-set).
 */
import { DurableObject } from "cloudflare:workers";
import { MARK_TTL_SECONDS, REVOCATION_LIST_KEY } from "../platform/revocation-list.ts";

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

export interface QuotaResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds at which the oldest counted use leaves the window (now when allowed). */
  resetAt: number;
}

/** Timestamps inside (now - window, now + window]: older ones have expired, far-future ones are bogus. */
function inWindow(log: number[], nowMs: number, windowMs: number): number[] {
  return log.filter((at) => at > nowMs - windowMs && at <= nowMs + windowMs);
}

/** What this class uses of the Worker's bindings (typed here: durable/ does not import env.ts). */
interface RateLimiterBindings {
  MATCH_CACHE?: KVNamespace;
}

/** After a failed publication (KV refuses more than one write per second per key), try again this much later. */
const PUBLISH_RETRY_MS = 1_000;

export class RateLimiter extends DurableObject<RateLimiterBindings> {
  private window: Window | undefined;
  private failureLog: number[] | undefined;
  private quotaLog: number[] | undefined;
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
    let log = inWindow(stored, nowMs, windowMs);
    if (cost === 1) log = [...log, nowMs].sort((a, b) => a - b).slice(-limit);
    if (log.length !== stored.length || cost === 1) {
      this.failureLog = log;
      await this.ctx.storage.put({ failures: log, failuresWindowMs: windowMs });
      await this.expireLater(windowMs);
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

  /**
   * A quota of `limit` uses per sliding `windowSeconds`: records a use at
   * `nowMs` only when allowed (a refused attempt does not push the window on).
   * Serial per object, so concurrent callers cannot both take the last use.
   */
  async take(limit: number, windowSeconds: number, nowMs: number): Promise<QuotaResult> {
    const windowMs = windowSeconds * 1000;
    if (this.quotaLog === undefined) this.quotaLog = (await this.ctx.storage.get<number[]>("quota")) ?? [];
    let log = inWindow(this.quotaLog, nowMs, windowMs).sort((a, b) => a - b);
    const allowed = log.length < limit;
    if (allowed) log = [...log, nowMs].sort((a, b) => a - b);
    this.quotaLog = log;
    await this.ctx.storage.put({ quota: log, quotaWindowMs: windowMs });
    await this.expireLater(windowMs);
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
    await this.ctx.storage.delete(["window", "failures", "failuresWindowMs"]);
  }

  /** One alarm a window ahead (real time: the alarm clock is the runtime's, not a test clock). */
  private async expireLater(windowMs: number): Promise<void> {
    const at = Date.now() + windowMs;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current < at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Expiry of the throttle and quota logs: drops timestamps that left their
   * window, deletes the keys when nothing is left, and comes back later while
   * something is (timestamps from a test clock ahead of real time).
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    let again = 0;
    if (await this.ctx.storage.get<boolean>("revocationsUnpublished")) {
      if (!(await this.publishRevocations())) again = now + PUBLISH_RETRY_MS;
    }
    for (const [key, windowKey] of [
      ["failures", "failuresWindowMs"],
      ["quota", "quotaWindowMs"],
    ] as const) {
      const stored = await this.ctx.storage.get<number[]>(key);
      if (stored === undefined) continue;
      const windowMs = (await this.ctx.storage.get<number>(windowKey)) ?? 0;
      const left = stored.filter((at) => at > now - windowMs);
      if (left.length === 0) {
        await this.ctx.storage.delete([key, windowKey]);
      } else {
        if (left.length !== stored.length) await this.ctx.storage.put(key, left);
        again = Math.max(again, Math.min(...left) + windowMs);
      }
      if (key === "failures") this.failureLog = left;
      else this.quotaLog = left;
    }
    if (again > 0) await this.ctx.storage.setAlarm(Math.max(again, now + 1000));
  }

  /**
   * The revocation list object only: records `userId`'s mark and publishes the
   * whole list (entries older than MARK_TTL_SECONDS dropped) to KV. Merged with
   * what KV already holds, so that the value never loses an entry even where
   * two objects publish (local development runs one per `wrangler dev`).
   * A refused KV write is retried by the alarm; the mark is in storage first.
   */
  async publishRevocation(userId: string, revokedBefore: number): Promise<void> {
    const list = (await this.ctx.storage.get<Record<string, number>>("revocations")) ?? {};
    list[userId] = Math.max(list[userId] ?? 0, revokedBefore);
    await this.ctx.storage.put({ revocations: list, revocationsUnpublished: true });
    if (!(await this.publishRevocations())) await this.ctx.storage.setAlarm(Date.now() + PUBLISH_RETRY_MS);
  }

  private async publishRevocations(): Promise<boolean> {
    const kv = this.env.MATCH_CACHE;
    if (!kv) return true;
    const oldest = Math.floor(Date.now() / 1000) - MARK_TTL_SECONDS;
    const own = (await this.ctx.storage.get<Record<string, number>>("revocations")) ?? {};
    try {
      const published = JSON.parse((await kv.get(REVOCATION_LIST_KEY, { type: "text" })) ?? "{}") as Record<string, number>;
      const merged: Record<string, number> = {};
      for (const source of [published, own]) {
        for (const [user, before] of Object.entries(source)) {
          if (typeof before === "number" && before > oldest) merged[user] = Math.max(merged[user] ?? 0, before);
        }
      }
      await kv.put(REVOCATION_LIST_KEY, JSON.stringify(merged));
      const kept = Object.fromEntries(Object.entries(own).filter(([, before]) => before > oldest));
      await this.ctx.storage.put({ revocations: kept, revocationsUnpublished: false });
      return true;
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "revocation list not published, retrying", error: String(error) }));
      return false;
    }
  }

  async revokeTokensBefore(unixSeconds: number): Promise<void> {
    const current = await this.loadRevokedBefore();
    if (unixSeconds > current) {
      this.revokedBefore = unixSeconds;
      await this.ctx.storage.put("revokedBefore", unixSeconds);
    }
  }
}
