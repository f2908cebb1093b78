/**
 * The general rate limit (contract, Conventions): N requests/minute per user
 * (token `sub`), per client IP (CF-Connecting-IP) when anonymous, counted
 * exactly in a Durable Object; X-RateLimit-* on every response; 429 envelope
 * with Retry-After. A second Worker with RATE_LIMIT_PER_MINUTE=5 makes the
 * limit reachable; every test uses its own IPs/users and its own clock
 * (X-Test-Now), so tests are order-independent and never straddle a real
 * minute boundary.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { WranglerDev } from "../../scripts/lib/wrangler.ts";
import { clientIp, rateLimitPerMinute, retryAfterSeconds } from "../../src/middleware/rate-limit.ts";
import { type CallOptions, type CallResult, call, expectEnvelope } from "../helpers/api.ts";
import { closeTestPool } from "../helpers/db.ts";
import { accessToken, createUser } from "../helpers/fixtures.ts";
import { startTestWorker } from "../helpers/stack.ts";

const LIMIT = 5;
let worker: WranglerDev;

beforeAll(async () => {
  worker = await startTestWorker(
    { databaseUrl: inject("databaseUrl"), proxyUrl: inject("proxyUrl"), stripeUrl: inject("stripeUrl") },
    { RATE_LIMIT_PER_MINUTE: String(LIMIT) },
  );
});

afterAll(async () => {
  await worker?.stop();
  await closeTestPool();
});

/** A random private IPv4 address: one fresh anonymous client per call. */
function freshIp(): string {
  const byte = () => Math.floor(Math.random() * 254) + 1;
  return `10.${byte()}.${byte()}.${byte()}`;
}

/** A fixed instant in the middle of a minute, far from the real clock: no window boundary inside a test. */
function fixedNow(offsetMinutes = 0): Date {
  const base = Math.floor(Date.now() / 60_000) * 60_000 + 30 * 60_000 + 20_000;
  return new Date(base + offsetMinutes * 60_000);
}

function limited(method: string, path: string, options: CallOptions & { ip?: string } = {}): Promise<CallResult> {
  const headers = { ...options.headers, ...(options.ip ? { "cf-connecting-ip": options.ip } : {}) };
  return call(method, path, { ...options, headers }, worker.url);
}

function rateHeaders(result: CallResult) {
  return {
    limit: Number(result.headers.get("x-ratelimit-limit")),
    remaining: Number(result.headers.get("x-ratelimit-remaining")),
    reset: Number(result.headers.get("x-ratelimit-reset")),
  };
}

function windowEnd(now: Date): number {
  return Math.ceil((Math.floor(now.getTime() / 60_000) * 60_000 + 60_000) / 1000);
}

describe("rate limit: anonymous callers, per client IP", () => {
  it("counts down X-RateLimit-Remaining, then answers 429 RATE_LIMIT_EXCEEDED with Retry-After", async () => {
    const ip = freshIp();
    const now = fixedNow();
    for (let i = 1; i <= LIMIT; i++) {
      const result = await limited("GET", "/health", { ip, now });
      expect(result.status).toBe(200);
      expect(rateHeaders(result)).toEqual({ limit: LIMIT, remaining: LIMIT - i, reset: windowEnd(now) });
    }
    const over = await limited("GET", "/health", { ip, now });
    const error = expectEnvelope(over, 429, "RATE_LIMIT_EXCEEDED");
    expect(rateHeaders(over)).toEqual({ limit: LIMIT, remaining: 0, reset: windowEnd(now) });
    const retryAfter = Number(over.headers.get("retry-after"));
    expect(retryAfter).toBe(windowEnd(now) - Math.floor(now.getTime() / 1000));
    expect(error.details.retry_after_seconds).toBe(retryAfter);
    expect(over.headers.get("x-request-id")).toBe(error.request_id);
    // The security headers are on the 429 too.
    expect(over.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("keeps one bucket per IP: another address is unaffected (the incoming CF-Connecting-IP is the key)", async () => {
    const exhausted = freshIp();
    const now = fixedNow();
    for (let i = 0; i < LIMIT; i++) expect((await limited("GET", "/health", { ip: exhausted, now })).status).toBe(200);
    expectEnvelope(await limited("GET", "/health", { ip: exhausted, now }), 429, "RATE_LIMIT_EXCEEDED");
    const other = await limited("GET", "/health", { ip: freshIp(), now });
    expect(other.status).toBe(200);
    expect(rateHeaders(other).remaining).toBe(LIMIT - 1);
  });

  it("does not key on client-chosen X-Forwarded-For / X-Real-IP (a fresh value per request must not reset the count)", async () => {
    const ip = freshIp();
    const now = fixedNow();
    for (let i = 0; i < LIMIT; i++) {
      const result = await limited("GET", "/health", {
        ip,
        now,
        headers: { "x-forwarded-for": freshIp(), "x-real-ip": freshIp() },
      });
      expect(result.status).toBe(200);
    }
    const over = await limited("GET", "/health", { ip, now, headers: { "x-forwarded-for": freshIp(), "x-real-ip": freshIp() } });
    expectEnvelope(over, 429, "RATE_LIMIT_EXCEEDED");
  });

  it("counts an invalid bearer token as anonymous (per IP), so garbage tokens cannot mint fresh buckets", async () => {
    const ip = freshIp();
    const now = fixedNow();
    for (let i = 0; i < LIMIT; i++) {
      const result = await limited("GET", "/health", { ip, now, token: `garbage.${crypto.randomUUID()}.token` });
      expect(result.status).toBe(200);
    }
    expectEnvelope(await limited("GET", "/health", { ip, now, token: "another.bad.token" }), 429, "RATE_LIMIT_EXCEEDED");
  });
});

describe("rate limit: authenticated callers, per user id", () => {
  it("limits a user across IPs, and leaves other users and the IP's anonymous bucket alone", async () => {
    const user = await createUser("client");
    const token = await accessToken(user.id, "client");
    const now = fixedNow();
    const sharedIp = freshIp();
    for (let i = 1; i <= LIMIT; i++) {
      // A different IP for every request: the user's bucket still counts them all.
      const result = await limited("GET", "/health", { token, ip: i === 1 ? sharedIp : freshIp(), now });
      expect(result.status).toBe(200);
      expect(rateHeaders(result).remaining).toBe(LIMIT - i);
    }
    const over = await limited("GET", "/health", { token, ip: freshIp(), now });
    expectEnvelope(over, 429, "RATE_LIMIT_EXCEEDED");
    expect(over.headers.get("retry-after")).not.toBeNull();

    // A second token of the same user (new jti) shares the bucket: the key is `sub`.
    const secondToken = await accessToken(user.id, "client", new Date(Date.now() - 5_000));
    expectEnvelope(await limited("GET", "/health", { token: secondToken, ip: freshIp(), now }), 429, "RATE_LIMIT_EXCEEDED");

    const otherUser = await createUser("coach");
    const other = await limited("GET", "/health", { token: otherUser.token, ip: sharedIp, now });
    expect(other.status).toBe(200);
    expect(rateHeaders(other).remaining).toBe(LIMIT - 1);

    const anonymous = await limited("GET", "/health", { ip: sharedIp, now });
    expect(anonymous.status).toBe(200);
    expect(rateHeaders(anonymous).remaining).toBe(LIMIT - 1);
  });
});

describe("rate limit: the window", () => {
  it("resets after the window with an injected clock (X-Test-Now), with Reset pointing at the window end", async () => {
    const ip = freshIp();
    const now = fixedNow();
    for (let i = 0; i < LIMIT; i++) await limited("GET", "/health", { ip, now });
    const over = await limited("GET", "/health", { ip, now: new Date(now.getTime() + 20_000) });
    expectEnvelope(over, 429, "RATE_LIMIT_EXCEEDED");
    expect(Number(over.headers.get("retry-after"))).toBe(windowEnd(now) - Math.floor(now.getTime() / 1000) - 20);

    const later = new Date(windowEnd(now) * 1000 + 1_000);
    const next = await limited("GET", "/health", { ip, now: later });
    expect(next.status).toBe(200);
    expect(rateHeaders(next)).toEqual({ limit: LIMIT, remaining: LIMIT - 1, reset: windowEnd(later) });
  });

  it("never moves the window backwards: a request stamped earlier counts in the current window", async () => {
    const ip = freshIp();
    const now = fixedNow();
    const first = await limited("GET", "/health", { ip, now: new Date(now.getTime() + 60_000) });
    expect(rateHeaders(first).remaining).toBe(LIMIT - 1);
    const earlier = await limited("GET", "/health", { ip, now });
    expect(rateHeaders(earlier)).toEqual({
      limit: LIMIT,
      remaining: LIMIT - 2,
      reset: windowEnd(new Date(now.getTime() + 60_000)),
    });
  });

  it("counts exactly under concurrency: of 3 x LIMIT simultaneous requests exactly LIMIT pass", async () => {
    const ip = freshIp();
    const now = fixedNow();
    // A path that touches no database: the count under test is the Durable Object's.
    const results = await Promise.all(Array.from({ length: 3 * LIMIT }, () => limited("GET", "/rate-limit-probe", { ip, now })));
    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status === 404)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(2 * LIMIT);
    // Every remaining value from LIMIT-1 down to 0 was handed out exactly once to the admitted requests.
    const remainings = results.filter((result) => result.status === 404).map((result) => rateHeaders(result).remaining);
    expect(remainings.sort()).toEqual(Array.from({ length: LIMIT }, (_, i) => i));
  });
});

describe("rate limit: headers on every response", () => {
  it("sends X-RateLimit-* on errors too: 404, 405, 413, malformed JSON, 401", async () => {
    const ip = freshIp();
    const now = fixedNow();
    const answers = [
      await limited("GET", "/no/such/route", { ip, now }),
      await limited("DELETE", "/health", { ip, now }),
      await limited("POST", "/auth/login", {
        ip,
        now,
        rawBody: JSON.stringify({ pad: "x".repeat(1024 * 1024 + 10) }),
        headers: { "content-type": "application/json" },
      }),
      await limited("POST", "/auth/login", { ip, now, rawBody: "{not json", headers: { "content-type": "application/json" } }),
      await limited("GET", "/profile", { ip, now }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([404, 405, 413, expect.any(Number), expect.any(Number)]);
    answers.forEach((answer, index) => {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.body?.error?.code).toEqual(expect.any(String));
      expect(rateHeaders(answer)).toEqual({ limit: LIMIT, remaining: LIMIT - 1 - index, reset: windowEnd(now) });
    });
  });

  it("exempts the Stripe webhook from counting but still reports the caller's state", async () => {
    const ip = freshIp();
    const now = fixedNow();
    await limited("GET", "/health", { ip, now });
    for (let i = 0; i < LIMIT + 2; i++) {
      const webhook = await limited("POST", "/payment/webhook", {
        ip,
        now,
        rawBody: "{}",
        headers: { "content-type": "application/json" },
      });
      expect(webhook.status).not.toBe(429);
      expect(rateHeaders(webhook)).toEqual({ limit: LIMIT, remaining: LIMIT - 1, reset: windowEnd(now) });
    }
    expect(rateHeaders(await limited("GET", "/health", { ip, now })).remaining).toBe(LIMIT - 2);
  });

  it("the default test Worker reports its own configured limit (RATE_LIMIT_PER_MINUTE is read per deployment)", async () => {
    const result = await call("GET", "/health");
    expect(result.headers.get("x-ratelimit-limit")).toBe("1000000");
  });
});

describe("rate limit: configuration and helpers", () => {
  it("reads RATE_LIMIT_PER_MINUTE as a positive integer, defaulting to 100", () => {
    expect(rateLimitPerMinute("5")).toBe(5);
    expect(rateLimitPerMinute(undefined)).toBe(100);
    expect(rateLimitPerMinute("0")).toBe(100);
    expect(rateLimitPerMinute("-3")).toBe(100);
    expect(rateLimitPerMinute("2.5")).toBe(100);
    expect(rateLimitPerMinute("lots")).toBe(100);
  });

  it("takes the client IP only from CF-Connecting-IP, bounded in length", () => {
    const headers = (values: Record<string, string>) => (name: string) => values[name];
    expect(clientIp(headers({ "cf-connecting-ip": "203.0.113.9" }))).toBe("203.0.113.9");
    expect(clientIp(headers({ "x-forwarded-for": "203.0.113.9", "x-real-ip": "203.0.113.9" }))).toBe("unknown");
    expect(clientIp(headers({ "cf-connecting-ip": "x".repeat(500) }))).toBe("unknown");
  });

  it("Retry-After is the seconds left in the window, at least 1", () => {
    expect(retryAfterSeconds(1_000_060, new Date(1_000_000_000))).toBe(60);
    expect(retryAfterSeconds(1_000_000, new Date(1_000_000_500))).toBe(1);
  });
});
