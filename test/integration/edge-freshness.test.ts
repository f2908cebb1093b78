/**
 * Freshness of the edge data path (contract v2 "Edge data path", "Conditional
 * GETs", the matching cache lines and the revocation line): what a cache may
 * serve, and how soon a change shows.
 *
 * - at once where the change was made: the default test Worker;
 * - everywhere within 60 s: two more Workers that share one local KV storage
 *   directory and nothing else (no memory, no Cache API entries), standing in
 *   for two edge locations: a change made through one must reach the other
 *   within the documented bound.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { WranglerDev } from "../../scripts/lib/wrangler.ts";
import { type CallResult, call, get, patch, post, put } from "../helpers/api.ts";
import { closeTestPool } from "../helpers/db.ts";
import { completeQuiz, createClient, createCoach, createUser } from "../helpers/fixtures.ts";
import { startTestWorker } from "../helpers/stack.ts";

/** The documented bound for "everywhere" (README, docs/EDGE.md). */
const EVERYWHERE_MS = 60_000;

let east: WranglerDev;
let west: WranglerDev;

beforeAll(async () => {
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), "culturebridge-edge-shared-"));
  const stack = { databaseUrl: inject("databaseUrl"), proxyUrl: inject("proxyUrl"), stripeUrl: inject("stripeUrl") };
  // One after the other: two workerd processes opening the same new storage directory at the same
  // moment race on creating its SQLite files, and one of them can die with SQLITE_BUSY before it is
  // ready (seen 2 times in 9 runs of this file). Once both are up they share it fine.
  east = await startTestWorker(stack, {}, shared);
  west = await startTestWorker(stack, {}, shared);
}, 180_000);

afterAll(async () => {
  await Promise.all([east?.stop(), west?.stop()]);
  await closeTestPool();
});

const queries = (result: CallResult) => Number(result.headers.get("x-db-queries"));

/** Polls `check` until it holds or `limitMs` passes; returns the time it took. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`not within ${limitMs} ms`);
}

describe("conditional GETs", () => {
  it("a JSON GET carries an ETag; If-None-Match with it answers 304 without a body, with the request id and rate-limit headers", async () => {
    const client = await createClient();
    const first = await get("/profile", { token: client.token });
    expect(first.status).toBe(200);
    const tag = first.headers.get("etag");
    expect(tag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await get("/profile", { token: client.token, headers: { "if-none-match": tag! } });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    expect(again.headers.get("etag")).toBe(tag);
    expect(again.headers.get("x-request-id")).toBeTruthy();
    expect(again.headers.get("x-ratelimit-remaining")).toBeTruthy();
    // weak form and lists match too (RFC 9110 weak comparison)
    const weak = await get("/profile", { token: client.token, headers: { "if-none-match": `"nope", W/${tag}` } });
    expect(weak.status).toBe(304);
    const stale = await get("/profile", { token: client.token, headers: { "if-none-match": '"something-else"' } });
    expect(stale.status).toBe(200);
    expect(stale.body.user_id).toBe(client.id);
  });

  it("errors and non-GETs carry no ETag", async () => {
    const missing = await get(`/coaches/${crypto.randomUUID()}`, { token: (await createClient()).token });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("etag")).toBeNull();
    const match = await post("/match", {}, { token: (await createClient()).token });
    expect(match.status).toBe(200);
    expect(match.headers.get("etag")).toBeNull();
  });

  it("/openapi.json documents 304 on every JSON GET operation, and on no other method", async () => {
    const document = (await get("/openapi.json")).body;
    const gets: string[] = [];
    for (const [route, operations] of Object.entries(document.paths as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        const responses = operation.responses as Record<string, { content?: Record<string, unknown> }>;
        const json200 = !!responses["200"]?.content?.["application/json"];
        if (method === "get" && json200) gets.push(route);
        if (method === "get" && json200) expect(responses["304"], `${method} ${route}`).toBeTruthy();
        if (method !== "get") expect(responses["304"], `${method} ${route}`).toBeUndefined();
      }
    }
    expect(gets).toEqual(expect.arrayContaining(["/coaches", "/coaches/{id}", "/profile", "/community/resources"]));
  });

  it("public read-mostly answers carry Cache-Control; private ones do not", async () => {
    const client = await createClient();
    const coach = await createCoach();
    const one = await get(`/coaches/${coach.profileId}`, { token: client.token });
    expect(one.headers.get("cache-control")).toMatch(/private/);
    expect(one.headers.get("cache-control")).toMatch(/max-age=\d+/);
    const list = await get("/coaches?limit=1", { token: client.token });
    expect(list.headers.get("cache-control")).toMatch(/max-age/);
    const profile = await get("/profile", { token: client.token });
    expect(profile.headers.get("cache-control") ?? "").not.toMatch(/max-age/);
  });
});

describe("freshness at once where the change was made", () => {
  it("a coach's edit shows in /coaches/{id} at once, for the coach and for others, with a new ETag", async () => {
    const coach = await createCoach();
    const client = await createClient();
    const url = `/coaches/${coach.profileId}`;
    await get(url, { token: client.token });
    const cached = await get(url, { token: client.token });
    expect(cached.headers.get("x-edge-cache")).toBe("hit");
    const oldTag = cached.headers.get("etag")!;

    const bio = `Edited ${crypto.randomUUID()}`;
    expect((await put("/profile", { bio }, { token: coach.token })).status).toBe(200);

    const own = await get(url, { token: coach.token });
    expect(own.body.bio).toBe(bio);
    const other = await get(url, { token: client.token, headers: { "if-none-match": oldTag } });
    expect(other.status).toBe(200); // not 304: the old tag is stale
    expect(other.body.bio).toBe(bio);
    expect(other.headers.get("etag")).not.toBe(oldTag);
    // and the new answer is cached again
    const again = await get(url, { token: client.token });
    expect(again.headers.get("x-edge-cache")).toBe("hit");
    expect(again.body.bio).toBe(bio);
  });

  it("the coach list reflects a coach's rate change at once", async () => {
    const country = `Freshland ${crypto.randomUUID().slice(0, 8)}`;
    const coach = await createCoach({ countries: [country], hourlyRate: 80 });
    const client = await createClient();
    const url = `/coaches?country=${encodeURIComponent(country)}`;
    expect((await get(url, { token: client.token })).body.items[0].hourly_rate).toBe(80);
    expect((await get(url, { token: client.token })).headers.get("x-edge-cache")).toBe("hit");
    expect((await put("/profile", { hourly_rate: 95 }, { token: coach.token })).status).toBe(200);
    expect((await get(url, { token: client.token })).body.items[0].hourly_rate).toBe(95);
  });

  it("a client's quiz change is never answered from the old cached matches", async () => {
    const client = await createClient({ quiz: completeQuiz({ preferred_languages: ["English"] }) });
    const cold = await post("/match", {}, { token: client.token });
    expect(cold.body.cached).toBe(false);
    const hit = await post("/match", {}, { token: client.token });
    expect(hit.body.cached).toBe(true);
    expect(queries(hit)).toBe(0);

    const quiz = completeQuiz({ preferred_languages: ["Spanish"], timeline_urgency: 5 });
    expect((await put("/profile", { quiz_data: quiz }, { token: client.token })).status).toBe(200);
    const after = await post("/match", {}, { token: client.token });
    expect(after.status).toBe(200);
    expect(after.body.cached).toBe(false);
    expect(after.body.generated_at >= cold.body.generated_at).toBe(true);
    // the new result is the new edge entry
    expect((await post("/match", {}, { token: client.token })).body.cached).toBe(true);
  });

  it("DELETE /match/cache empties the edge entry too", async () => {
    const client = await createClient();
    await post("/match", {}, { token: client.token });
    expect((await call("DELETE", "/match/cache", { token: client.token })).status).toBe(204);
    expect((await post("/match", {}, { token: client.token })).body.cached).toBe(false);
  });

  it("a deactivated user's token stops working on the next request", async () => {
    const admin = await createUser("admin");
    const client = await createClient();
    expect((await get("/profile", { token: client.token })).status).toBe(200);
    expect((await patch(`/admin/users/${client.id}`, { is_active: false }, { token: admin.token })).status).toBe(200);
    expect([401, 403]).toContain((await get("/profile", { token: client.token })).status);
    // also on a route an edge-cache hit could answer
    expect([401, 403]).toContain((await get("/coaches?limit=1", { token: client.token })).status);
  });
});

describe("freshness everywhere within 60 s (two Workers sharing only KV)", () => {
  it("a deactivation made through one location revokes the token in the other", async () => {
    const admin = await createUser("admin");
    const client = await createClient();
    // The other location has already seen (and remembered) the token as valid.
    expect((await call("GET", "/profile", { token: client.token }, west.url)).status).toBe(200);
    const revoked = await call(
      "PATCH",
      `/admin/users/${client.id}`,
      { token: admin.token, body: { is_active: false } },
      east.url,
    );
    expect(revoked.status).toBe(200);
    expect([401, 403]).toContain((await call("GET", "/profile", { token: client.token }, east.url)).status);
    // /coaches: no database read that would notice the inactive account; only the mark can refuse it.
    const took = await within(EVERYWHERE_MS, async () => {
      const result = await call("GET", "/coaches?limit=1", { token: client.token }, west.url);
      return result.status === 401;
    });
    expect(took).toBeLessThan(EVERYWHERE_MS);
  }, 90_000);

  it("a coach edit made through one location shows in the other's edge cache", async () => {
    const coach = await createCoach();
    const client = await createClient();
    const url = `/coaches/${coach.profileId}`;
    await call("GET", url, { token: client.token }, west.url);
    expect((await call("GET", url, { token: client.token }, west.url)).headers.get("x-edge-cache")).toBe("hit");
    const bio = `Far edit ${crypto.randomUUID()}`;
    expect((await call("PUT", "/profile", { token: coach.token, body: { bio } }, east.url)).status).toBe(200);
    const took = await within(
      EVERYWHERE_MS,
      async () => (await call("GET", url, { token: client.token }, west.url)).body.bio === bio,
    );
    expect(took).toBeLessThan(EVERYWHERE_MS);
  }, 90_000);
});

describe("EDGE_CACHE=off (the operator's switch)", () => {
  it("answers every public read from its route: no lookup, no store, still an ETag and 304s", async () => {
    const stack = { databaseUrl: inject("databaseUrl"), proxyUrl: inject("proxyUrl"), stripeUrl: inject("stripeUrl") };
    const uncached = await startTestWorker(stack, { EDGE_CACHE: "off" });
    try {
      const country = `Switchland ${crypto.randomUUID().slice(0, 8)}`;
      await createCoach({ countries: [country] });
      const client = await createClient();
      const url = `/coaches?country=${encodeURIComponent(country)}`;
      const first = await call("GET", url, { token: client.token }, uncached.url);
      const second = await call("GET", url, { token: client.token }, uncached.url);
      for (const answer of [first, second]) {
        expect(answer.status).toBe(200);
        expect(answer.body.total).toBe(1);
        expect(answer.headers.get("x-edge-cache")).toBeNull();
        expect(queries(answer)).toBe(1);
      }
      expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
      const conditional = await call(
        "GET",
        url,
        { token: client.token, headers: { "if-none-match": first.headers.get("etag")! } },
        uncached.url,
      );
      expect(conditional.status).toBe(304);
      // The same Worker with the cache on (the default test Worker) stores and serves it.
      await get(url, { token: client.token });
      expect((await get(url, { token: client.token })).headers.get("x-edge-cache")).toBe("hit");
    } finally {
      await uncached.stop();
    }
  }, 120_000);
});
