/**
 * Issue 19: the login throttle's per-(email, client) counters expire. Every
 * write schedules the object's alarm a window ahead; the alarm drops what left
 * the window and deletes the keys when nothing is left. Inside workerd, with
 * the real Durable Object and its alarm.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RateLimiter } from "../../src/durable/rate-limiter.ts";
import type { Bindings } from "../../src/env.ts";
import { LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS, loginThrottleKey } from "../../src/platform/throttle.ts";

const namespace = (env as unknown as Bindings).RATE_LIMITER;
const WINDOW_MS = LOGIN_FAILURE_WINDOW_SECONDS * 1000;

function stubFor(key: string): DurableObjectStub<RateLimiter> {
  return namespace.get(namespace.idFromName(key));
}

async function stored(stub: DurableObjectStub<RateLimiter>): Promise<{ keys: string[]; alarm: number | null }> {
  return runInDurableObject(stub, async (_instance, state) => ({
    keys: [...(await state.storage.list()).keys()],
    alarm: await state.storage.getAlarm(),
  }));
}

describe("throttle counters expire", () => {
  it("a failure schedules an alarm a window ahead; once the failures are older than the window, the alarm deletes them", async () => {
    const stub = stubFor(loginThrottleKey(`expiry-${crypto.randomUUID()}@example.test`, "2001:db8:1:2::1"));
    const before = Date.now();
    // Failures stamped just over a window ago: expired by the time the alarm runs.
    await stub.failures(LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS, before - WINDOW_MS - 1_000, 1);
    const written = await stored(stub);
    expect(written.keys).toContain("failures");
    expect(written.alarm).toBeGreaterThanOrEqual(before + WINDOW_MS);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await stored(stub);
    expect(after.keys).toEqual([]);
    expect(after.alarm).toBeNull();
  });

  it("failures still inside the window survive the alarm, which comes back for them", async () => {
    const stub = stubFor(loginThrottleKey(`expiry-${crypto.randomUUID()}@example.test`, "192.0.2.7"));
    const now = Date.now();
    await stub.failures(LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS, now - WINDOW_MS - 1_000, 1);
    await stub.failures(LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS, now, 1);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await stored(stub);
    expect(after.keys).toContain("failures");
    expect(after.alarm).toBeGreaterThanOrEqual(now + WINDOW_MS - 1_000);
    const state = await stub.failures(LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS, Date.now(), 0);
    expect(state.remaining).toBe(LOGIN_FAILURE_LIMIT - 1);
  });

  it("quotas (reset emails, resends) expire the same way", async () => {
    const stub = stubFor(`quota:reset-email:expiry-${crypto.randomUUID()}@example.test`);
    const result = await stub.take(5, 3600, Date.now() - 3_601_000);
    expect(result.allowed).toBe(true);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stored(stub)).keys).toEqual([]);
  });
});
