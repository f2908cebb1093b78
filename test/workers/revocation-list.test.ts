/**
 * The revocation list (platform/revocation-list.ts): one KV value for every
 * user's mark, published by one Durable Object so that simultaneous
 * revocations cannot overwrite each other, and read by an isolate once per
 * memo period for all users. Inside workerd, with the real object and KV.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { Bindings } from "../../src/env.ts";
import { revokedBefore, revokeUserTokens } from "../../src/platform/rate-limiter.ts";
import {
  forgetRevocationList,
  MARK_TTL_SECONDS,
  REVOCATION_LIST_KEY,
  REVOCATION_LIST_OBJECT,
  REVOCATION_MEMO_MS,
} from "../../src/platform/revocation-list.ts";

const bindings = env as unknown as Bindings;
const namespace = bindings.RATE_LIMITER;
const kv = bindings.MATCH_CACHE as KVNamespace;
const listObject = () => namespace.get(namespace.idFromName(REVOCATION_LIST_OBJECT));

async function published(): Promise<Record<string, number>> {
  return JSON.parse((await kv.get(REVOCATION_LIST_KEY, { type: "text" })) ?? "{}") as Record<string, number>;
}

beforeEach(forgetRevocationList);

describe("revocation list", () => {
  it("simultaneous revocations of different users all reach the published value", async () => {
    const users = Array.from({ length: 12 }, () => crypto.randomUUID());
    const now = new Date();
    await Promise.all(users.map((user) => revokeUserTokens({ rateLimiter: namespace }, user, now)));
    const list = await published();
    const expected = Math.floor(now.getTime() / 1000) + 1;
    for (const user of users) expect(list[user]).toBe(expected);
  });

  it("a mark older than a token's lifetime is dropped at the next publication; a later mark replaces an earlier one", async () => {
    const old = crypto.randomUUID();
    const user = crypto.randomUUID();
    const nowSeconds = Math.floor(Date.now() / 1000);
    await listObject().publishRevocation(old, nowSeconds - MARK_TTL_SECONDS - 60);
    await listObject().publishRevocation(user, nowSeconds - 100);
    await listObject().publishRevocation(user, nowSeconds);
    const list = await published();
    expect(list[old]).toBeUndefined();
    expect(list[user]).toBe(nowSeconds);
  });

  it("another isolate learns a mark from the list after its memo period, with one read for all users", async () => {
    const user = crypto.randomUUID();
    const other = crypto.randomUUID();
    const start = Date.now();
    // This "isolate" read the list before the revocation (nothing for either user).
    expect(await revokedBefore(kv, user, start)).toBe(0);
    const mark = Math.floor(start / 1000) + 1;
    // Published by the object, as a revocation made in another location would be.
    await listObject().publishRevocation(user, mark);
    let reads = 0;
    const counting = {
      get: (key: string, options: { type: "text"; cacheTtl?: number }) => {
        reads++;
        return kv.get(key, options);
      },
    };
    // Within the memo period the isolate's copy is used: no read, no mark yet.
    expect(await revokedBefore(counting, user, start + 1_000)).toBe(0);
    expect(reads).toBe(0);
    // After it, one read serves every user.
    const later = start + REVOCATION_MEMO_MS + 1;
    expect(await revokedBefore(counting, user, later)).toBe(mark);
    expect(await revokedBefore(counting, other, later)).toBe(0);
    expect(reads).toBe(1);
  });
});
