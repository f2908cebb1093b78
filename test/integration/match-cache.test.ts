/**
 * The matching service below HTTP, on the test database through the same
 * Neon driver + WebSocket proxy the Worker uses, with a KV we can inspect
 * and break: the KV-miss path, a KV outage, the row as the authority, the
 * cron cleanup, and EXPLAIN proofs that the language filters use their indexes.
 */

import { PgDialect } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, type DatabaseSession } from "../../src/db/client.ts";
import { type Bindings, serviceEnvOf } from "../../src/env.ts";
import { createLog } from "../../src/lib/log.ts";
import { quizSchema } from "../../src/lib/quiz.ts";
import {
  decodeMatchPointer,
  encodeMatchPointer,
  forgetClientMatches,
  readMatchPointer,
  writeMatchPointer,
} from "../../src/platform/match-pointer.ts";
import { coachListSql, coachPageRowsSql } from "../../src/services/coaches.ts";
import { runMaintenance } from "../../src/services/maintenance.ts";
import { candidateSql } from "../../src/services/matching/candidates.ts";
import {
  clearMatchCache,
  type MatchDeps,
  type MatchKv,
  matchCacheInfo,
  matchForClient,
  matchResponseJson,
} from "../../src/services/matching/service.ts";
import { closeTestPool, isRealPostgres, query, testPool } from "../helpers/db.ts";
import { completeQuiz, createClient, createCoach } from "../helpers/fixtures.ts";

/** An in-memory KV with the methods the match cache uses; `broken` makes every call throw. */
class MemoryKv implements MatchKv {
  entries = new Map<string, { value: string; ttl?: number }>();
  broken = false;
  get(key: string, type: "text"): Promise<string | null>;
  get(keys: string[], type: "text"): Promise<Map<string, string | null>>;
  async get(key: string | string[]): Promise<string | null | Map<string, string | null>> {
    if (this.broken) throw new Error("KV unavailable");
    if (Array.isArray(key)) return new Map(key.map((k) => [k, this.entries.get(k)?.value ?? null]));
    return this.entries.get(key)?.value ?? null;
  }
  async put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void> {
    if (this.broken) throw new Error("KV unavailable");
    this.entries.set(key, { value, ttl: options?.expirationTtl });
  }
  async delete(key: string): Promise<void> {
    if (this.broken) throw new Error("KV unavailable");
    this.entries.delete(key);
  }
}

let session: DatabaseSession;

beforeAll(() => {
  session = createDatabase({ DATABASE_URL: inject("databaseUrl"), WS_PROXY: inject("proxyUrl") });
});

afterAll(async () => {
  await session.end();
  await closeTestPool();
});

function deps(kv: MemoryKv, now = new Date()): MatchDeps & { deferred: Promise<unknown>[] } {
  const deferred: Promise<unknown>[] = [];
  return { db: session.db, kv, now, defer: (promise) => deferred.push(promise), deferred };
}

/** Round trips of one call, from the session's query counter. */
async function roundTrips<T>(work: () => Promise<T>): Promise<{ result: T; queries: number }> {
  const before = session.queryCount();
  const result = await work();
  return { result, queries: session.queryCount() - before };
}

async function clientWithCoach(language: string) {
  const country = `Country-${crypto.randomUUID().slice(0, 8)}`;
  const coach = await createCoach({ languages: [language], countries: [country], hourlyRate: 70 });
  const client = await createClient({ quiz: completeQuiz({ preferred_languages: [language], target_countries: [country] }) });
  return { coach, client };
}

describe("match cache levels (service)", () => {
  it("serves from the row when the KV entry is missing, and refills KV with the remaining lifetime", async () => {
    const { client, coach } = await clientWithCoach("Burmese");
    const kv = new MemoryKv();
    const now = new Date();
    const cold = await roundTrips(() => matchForClient(deps(kv, now), client.id, { forceRefresh: false, limit: 10 }));
    expect(cold.result.cached).toBe(false);
    expect(cold.queries).toBe(3);
    expect(cold.result.matches.map((match) => match.coach.id)).toContain(coach.profileId);
    const [key] = [...kv.entries.keys()];
    expect(kv.entries.get(key!)!.ttl).toBe(86_400);

    const hit = await roundTrips(() => matchForClient(deps(kv, now), client.id, { forceRefresh: false, limit: 10 }));
    expect(hit.result.cached).toBe(true);
    expect(hit.queries).toBe(1);

    kv.entries.clear(); // evicted, or another location without the entry
    const later = new Date(now.getTime() + 3600_000);
    const context = deps(kv, later);
    const fromRow = await roundTrips(() => matchForClient(context, client.id, { forceRefresh: false, limit: 10 }));
    expect(fromRow.result.cached).toBe(true);
    expect(fromRow.result.matches).toEqual(cold.result.matches);
    expect(fromRow.queries).toBe(2);
    await Promise.all(context.deferred);
    expect(kv.entries.get(key!)!.ttl).toBe(23 * 3600);
  });

  it("keeps answering through a KV outage (the row carries the cache)", async () => {
    const { client } = await clientWithCoach("Bosnian");
    const kv = new MemoryKv();
    kv.broken = true;
    const first = await matchForClient(deps(kv), client.id, { forceRefresh: false, limit: 5 });
    expect(first.cached).toBe(false);
    const second = await matchForClient(deps(kv), client.id, { forceRefresh: false, limit: 5 });
    expect(second.cached).toBe(true);
    expect(second.matches).toEqual(first.matches);
    await clearMatchCache({ db: session.db, kv }, client.id); // the KV delete fails, the row goes
    expect((await matchCacheInfo({ db: session.db, now: new Date() }, client.id)).exists).toBe(false);
  });

  it("treats the row as the authority: a KV entry without its row is not served", async () => {
    const { client } = await clientWithCoach("Estonian");
    const kv = new MemoryKv();
    await matchForClient(deps(kv), client.id, { forceRefresh: false, limit: 5 });
    expect(kv.entries.size).toBe(1);
    // as if DELETE /match/cache ran in another location whose KV delete has not reached this one
    await query(`DELETE FROM match_cache WHERE client_id = $1`, [client.id]);
    expect((await matchForClient(deps(kv), client.id, { forceRefresh: false, limit: 5 })).cached).toBe(false);
  });

  it("still answers when the embedding service fails (lexical only)", async () => {
    const { client, coach } = await clientWithCoach("Kazakh");
    const failingAi = { run: async () => Promise.reject(new Error("model down")) };
    const logged: string[] = [];
    const result = await matchForClient(
      { ...deps(new MemoryKv()), ai: failingAi, log: (message) => logged.push(message) },
      client.id,
      { forceRefresh: true, limit: 5 },
    );
    expect(result.matches.map((match) => match.coach.id)).toContain(coach.profileId);
    expect(logged.some((message) => message.includes("semantic"))).toBe(true);
  });
});

describe("cron cleanup", () => {
  it("runMaintenance deletes expired match_cache rows and keeps live ones", async () => {
    // A clock far in the past: only rows planted for this test are "expired" relative to it,
    // so the other maintenance steps find nothing of other tests to touch.
    const cronNow = new Date("2001-01-01T00:00:00Z");
    const expired = await createClient();
    const live = await createClient();
    await query(
      `INSERT INTO match_cache (client_id, match_results, expires_at, cache_key) VALUES ($1, '{}', '2000-06-01T00:00:00Z', 'old')`,
      [expired.id],
    );
    await query(
      `INSERT INTO match_cache (client_id, match_results, expires_at, cache_key) VALUES ($1, '{}', '2001-06-01T00:00:00Z', 'live')`,
      [live.id],
    );
    const report = await runMaintenance(
      session.db,
      serviceEnvOf({ ENVIRONMENT: "test", DATABASE_URL: "postgresql://unused" } as Bindings, () => {}, createLog()),
      cronNow,
    );
    expect(report.expired_match_cache).toBeGreaterThanOrEqual(1);
    expect(await query(`SELECT 1 FROM match_cache WHERE client_id = $1`, [expired.id])).toHaveLength(0);
    expect(await query(`SELECT 1 FROM match_cache WHERE client_id = $1`, [live.id])).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------
// EXPLAIN: the language filters are served by the GIN index (real Postgres)
// ---------------------------------------------------------------------------

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

describe("EXPLAIN", () => {
  it.runIf(isRealPostgres())(
    "over 20,000 coaches the candidate statement uses the GIN index on coach_profiles.languages, GET /coaches the coach_list_keys range",
    async () => {
      const client = await testPool().connect();
      const schemaName = `explain_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;
      try {
        await client.query("BEGIN");
        // A private copy of the two tables (with their indexes), dropped by the rollback: no other test sees it.
        await client.query(`CREATE SCHEMA ${schemaName}`);
        await client.query(`CREATE TABLE ${schemaName}.users (LIKE public.users INCLUDING ALL)`);
        await client.query(`CREATE TABLE ${schemaName}.coach_profiles (LIKE public.coach_profiles INCLUDING ALL)`);
        // LIKE copies neither triggers nor foreign keys: the pre-rank keys get public's trigger function,
        // whose unqualified table names resolve to this schema through the search_path set below.
        await client.query(`CREATE TABLE ${schemaName}.coach_match_keys (LIKE public.coach_match_keys INCLUDING ALL)`);
        await client.query(
          `CREATE TRIGGER keys_insert AFTER INSERT ON ${schemaName}.coach_profiles FOR EACH ROW EXECUTE FUNCTION public.coach_match_keys_sync()`,
        );
        // GET /coaches pages through coach_list_keys (migrations coach_list_keys*), kept by its trigger the same way.
        await client.query(`CREATE TABLE ${schemaName}.coach_list_keys (LIKE public.coach_list_keys INCLUDING ALL)`);
        await client.query(
          `CREATE TRIGGER list_keys_insert AFTER INSERT ON ${schemaName}.coach_profiles REFERENCING NEW TABLE AS added_profiles FOR EACH STATEMENT EXECUTE FUNCTION public.coach_list_keys_profiles_added()`,
        );
        await client.query(`SET LOCAL search_path = ${schemaName}, public`);
        await client.query(
          `INSERT INTO users (email, role) SELECT 'explain-' || g || '@example.test', 'coach' FROM generate_series(1, 20000) g`,
        );
        // 1 % speak Maltese; everyone else one of six common languages.
        await client.query(`
          INSERT INTO coach_profiles (user_id, languages, countries, expertise, hourly_rate, rating, total_sessions)
          SELECT u.id,
                 CASE WHEN n % 100 = 0 THEN ARRAY['Maltese', 'English']
                      ELSE ARRAY[(ARRAY['English','Spanish','French','German','Arabic','Portuguese'])[1 + n % 6]] END,
                 ARRAY[(ARRAY['Spain','France','Malta','Kenya','Japan'])[1 + n % 5]],
                 ARRAY[(ARRAY['Culture shock','Career change','Leadership'])[1 + n % 3]],
                 25 + (n % 200), (n % 500) / 100.0, n % 300
            FROM (SELECT id, row_number() OVER () AS n FROM users) u`);
        await client.query("ANALYZE users");
        await client.query("ANALYZE coach_profiles");
        await client.query("ANALYZE coach_list_keys");
        const [index] = (
          await client.query<{ indexname: string }>(
            `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'coach_profiles' AND indexdef ILIKE '%USING gin (languages)%'`,
            [schemaName],
          )
        ).rows;
        expect(index).toBeDefined();

        const explain = async (text: string, params: unknown[]) => {
          const result = await client.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${text}`, params);
          return planNodes(result.rows[0]!["QUERY PLAN"][0]!.Plan);
        };
        const usesGin = (nodes: PlanNode[]) =>
          nodes.some((node) => node["Node Type"] === "Bitmap Index Scan" && node["Index Name"] === index!.indexname);

        const quiz = quizSchema.parse(
          completeQuiz({ preferred_languages: ["Maltese"], target_countries: ["Malta"], budget_range: { min: 0, max: 300 } }),
        );
        const candidates = new PgDialect().sqlToQuery(candidateSql(quiz));
        expect(usesGin(await explain(candidates.sql, candidates.params))).toBe(true);

        // A common market (English, Spain: ~700 coaches): the focus pre-rank reads the covering primary
        // key of coach_match_keys (index-only, or bitmap while the visibility map is not set yet), not
        // coach_profiles' heap.
        const common = quizSchema.parse(
          completeQuiz({ preferred_languages: ["English"], target_countries: ["Spain"], relocation_stage: "planning" }),
        );
        const focus = new PgDialect().sqlToQuery(candidateSql(common));
        const nodes = await explain(focus.sql, focus.params);
        expect(
          nodes.some(
            (node) =>
              ["Index Only Scan", "Index Scan", "Bitmap Index Scan"].includes(node["Node Type"]) &&
              node["Index Name"] === "coach_match_keys_pkey",
          ),
        ).toBe(true);

        // A language filter with another condition: a range of the list index, in the list's order, not a
        // walk of all coaches.
        const [rankIndex] = (
          await client.query<{ indexname: string }>(
            `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'coach_list_keys' AND indexdef ILIKE '%UNIQUE%'`,
            [schemaName],
          )
        ).rows;
        expect(rankIndex).toBeDefined();
        const list = new PgDialect().sqlToQuery(
          coachListSql({ languages: ["Maltese"], expertise: ["Leadership"] }, { skip: 0, limit: 20 }, "explain"),
        );
        const listNodes = await explain(list.sql, list.params);
        expect(listNodes.some((node) => node["Index Name"] === rankIndex!.indexname)).toBe(true);
        // A pure filter on a fresh backend: coach_list_page_rows is inlined (no function scan), the same
        // range, the total by primary key (coach_list_page runs this very statement inside plpgsql).
        const page = new PgDialect().sqlToQuery(coachPageRowsSql({ languages: ["Maltese"] }, { skip: 40, limit: 20 }));
        const pageNodes = await explain(page.sql, page.params);
        expect(pageNodes.some((node) => node["Node Type"] === "Function Scan")).toBe(false);
        expect(pageNodes.some((node) => node["Index Name"] === rankIndex!.indexname)).toBe(true);
        expect(pageNodes.some((node) => node["Relation Name"] === "coach_list_totals")).toBe(true);
      } finally {
        await client.query("ROLLBACK");
        client.release();
      }
    },
    120_000,
  );
});

describe("edge entry (pre-serialised matches)", () => {
  it("round-trips any match text through the stored format and cuts exactly the first n", () => {
    const matches = [
      { coach: { bio: 'line\nbreak, comma] and "quotes"' }, match_reasons: ["😀 ü €"] },
      { coach: { bio: '{"a":[1,2]}' }, match_reasons: ["x"] },
      { coach: { bio: null }, match_reasons: ["y"] },
    ];
    const meta = { v: "ver.1", at: 1, exp: 2, generated_at: "2026-01-01T00:00:00.000Z" };
    const pointer = decodeMatchPointer(encodeMatchPointer(meta, matches))!;
    expect(pointer).toMatchObject({ ...meta, count: 3 });
    for (const n of [0, 1, 2, 3, 10]) expect(JSON.parse(`[${pointer.firstMatchesJson(n)}]`)).toEqual(matches.slice(0, n));
    const empty = decodeMatchPointer(encodeMatchPointer(meta, []))!;
    expect(empty.count).toBe(0);
    expect(empty.firstMatchesJson(10)).toBe("");
    // a truncated entry is a miss
    const text = encodeMatchPointer(meta, matches);
    expect(decodeMatchPointer(text.slice(0, -1))).toBeUndefined();
  });

  it("reads only the small head entry up to its size, the full entry past it, and never a full entry of another write", async () => {
    const kv = new MemoryKv();
    const clientId = crypto.randomUUID();
    const matches = Array.from({ length: 25 }, (_, index) => ({ rank: index }));
    const meta = { v: "v1", at: Date.now(), exp: Date.now() + 3_600_000, generated_at: "2026-01-01T00:00:00.000Z" };
    await writeMatchPointer(kv, clientId, meta, matches, 3600);
    const head = (await readMatchPointer(kv, clientId, 10))!;
    expect({ count: head.count, complete: head.complete }).toEqual({ count: 10, complete: false });
    const full = (await readMatchPointer(kv, clientId, 11))!;
    expect(JSON.parse(`[${full.firstMatchesJson(50)}]`)).toEqual(matches);
    // a full entry left from an earlier write does not pair with a newer head
    const older = kv.entries.get(`mp2all:${clientId}`)!;
    await writeMatchPointer(kv, clientId, { ...meta, at: meta.at + 1 }, matches, 3600);
    kv.entries.set(`mp2all:${clientId}`, older);
    expect(await readMatchPointer(kv, clientId, 20)).toBeUndefined();
    await forgetClientMatches(kv, clientId);
    expect(kv.entries.size).toBe(0);
  });

  it("answers a hit with 0 SQL and exactly the JSON of the computed answer, for any limit", async () => {
    const { client } = await clientWithCoach("Icelandic");
    const kv = new MemoryKv();
    const edgeDeps = () => ({ ...deps(kv), edge: { coachesVersion: async () => "v-test" } });
    const cold = await matchForClient(edgeDeps(), client.id, { forceRefresh: false, limit: 50 });
    expect(cold.cached).toBe(false);
    expect([...kv.entries.keys()].some((key) => key.startsWith("mp2:"))).toBe(true);
    for (const limit of [1, 3, 10, 50]) {
      const hit = await roundTrips(() => matchResponseJson(edgeDeps(), client.id, { forceRefresh: false, limit }));
      expect(hit.queries).toBe(0);
      const matches = cold.matches.slice(0, limit);
      expect(hit.result).toBe(
        JSON.stringify({ matches, total_matches: matches.length, cached: true, generated_at: cold.generated_at }),
      );
    }
    // another coaches version: not served from the entry
    const miss = await roundTrips(() =>
      matchResponseJson({ ...deps(kv), edge: { coachesVersion: async () => "v-other" } }, client.id, {
        forceRefresh: false,
        limit: 5,
      }),
    );
    expect(miss.queries).toBeGreaterThan(0);
  });
});
