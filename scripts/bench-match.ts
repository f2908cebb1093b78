/**
 * Benchmark of POST /match on a local Postgres (npm run bench:match).
 *
 * Runs the service functions the Worker runs (src/services/matching), with an
 * in-memory KV, over two connection modes, each reported in its own rows:
 * - `neon-ws, pool per request`: the Neon serverless driver through a
 *   WebSocket-to-TCP proxy (scripts/lib/ws-proxy.ts), one Pool per request as
 *   the Worker's Neon path does (connection set-up in every request);
 * - `pg, persistent pool`: node-postgres over TCP on a pool kept open across
 *   requests (max 5), the steady state of the Worker's Hyperdrive path, whose
 *   binding keeps warm pooled connections next to the Worker (src/db/client.ts):
 *   what is left is the statements themselves.
 * For 1,000, 10,000 and 100,000 coaches (--sizes) it reports, per mode:
 * - cold match (force_refresh): p50 / p95 ms, candidate-set size, DB round trips;
 * - the candidate statement alone: p50 / p95 ms;
 * - the engine alone on the candidate set: p50 ms;
 * - cached match (KV hit): p50 / p95 ms, DB round trips.
 *
 * Database: BENCH_MATCH_DATABASE_URL, else a database `culturebridge_bench_match`
 * of its own on the server of BENCH_DATABASE_URL / TEST_DATABASE_URL /
 * DATABASE_URL / the local default (postgresql://postgres@127.0.0.1:55432):
 * created if missing, migrated, seeded to exactly each size in turn.
 * Usage: npm run bench:match [-- --iterations 40 --sizes 1000,10000,100000 --compare ../main]
 */
import os from "node:os";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../drizzle/schema.ts";
import { createDatabase, type Database } from "../src/db/client.ts";
import { loadCandidates } from "../src/services/matching/candidates.ts";
import { rankCoaches } from "../src/services/matching/engine.ts";
import { type MatchKv, matchForClient } from "../src/services/matching/service.ts";
import { benchQuiz, BENCH_COUNTRIES as COUNTRY_POOL, BENCH_ZONES as ZONE_POOL } from "./lib/bench-match-quiz.ts";
import { migrateUrl } from "./lib/database.ts";
import { startWsProxy } from "./lib/ws-proxy.ts";

const ITERATIONS = (() => {
  const index = process.argv.indexOf("--iterations");
  return index >= 0 ? Number(process.argv[index + 1]) : 40;
})();
const SIZES = (() => {
  const index = process.argv.indexOf("--sizes");
  return index >= 0 ? process.argv[index + 1]!.split(",").map(Number) : [1_000, 10_000, 100_000];
})();
const CLIENTS = 40;
/**
 * --compare <checkout>: also time the cold match of another checkout's service (e.g. a
 * worktree of main), interleaved with this one's on the same data, so that both see the same
 * machine load (a shared machine's load swings the absolute figures by several times).
 */
const COMPARE = (() => {
  const index = process.argv.indexOf("--compare");
  return index >= 0 ? process.argv[index + 1] : undefined;
})();
type MatchFn = typeof matchForClient;

/** Its own database, so that neither the tests nor the API benchmark (culturebridge_bench) see these rows. */
function benchUrl(): string {
  if (process.env.BENCH_MATCH_DATABASE_URL) return process.env.BENCH_MATCH_DATABASE_URL;
  const server =
    process.env.BENCH_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    process.env.DATABASE_URL ??
    "postgresql://postgres@127.0.0.1:55432/culturebridge";
  const url = new URL(server);
  url.pathname = "/culturebridge_bench_match";
  return url.toString();
}

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  await migrateUrl(url);
}

class MemoryKv implements MatchKv {
  private readonly entries = new Map<string, string>();
  get(key: string, type: "text"): Promise<string | null>;
  get(keys: string[], type: "text"): Promise<Map<string, string | null>>;
  async get(key: string | string[]): Promise<string | null | Map<string, string | null>> {
    if (Array.isArray(key)) return new Map(key.map((k) => [k, this.entries.get(k) ?? null]));
    return this.entries.get(key) ?? null;
  }
  async put(key: string, value: string): Promise<void> {
    this.entries.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

// ---------------------------------------------------------------------------
// seeding (in SQL: 100,000 coaches in seconds; deterministic through setseed)
// ---------------------------------------------------------------------------

const LANGUAGE_POOL = [
  "English",
  "English",
  "English",
  "English",
  "English",
  "English",
  "English",
  "English",
  "English",
  "Spanish",
  "Spanish",
  "Spanish",
  "French",
  "French",
  "German",
  "Mandarin Chinese",
  "Arabic",
  "Portuguese",
  "Japanese",
  "Italian",
];
const EXPERTISE_POOL = [
  "Cultural integration",
  "Cross-cultural adaptation",
  "Culture shock recovery",
  "Homesickness and adjustment",
  "Career transition",
  "Job search abroad",
  "Global leadership",
  "Leading multicultural teams",
  "Family relocation",
  "Expat families and schooling",
  "Repatriation coaching",
  "Reverse culture shock",
  "Language learning strategies",
  "Intercultural communication",
  "Resilience and wellbeing",
  "Building a social network",
  "Business culture and etiquette",
  "Cross-cultural negotiation",
];

const sqlArray = (values: string[]) => `ARRAY[${values.map((value) => `'${value.replace(/'/g, "''")}'`).join(",")}]`;

/** Exactly `total` bench coaches: extra ones from a larger earlier run are removed, missing ones added. */
async function seedCoaches(client: pg.Client, total: number): Promise<void> {
  const removed = await client.query(
    `DELETE FROM users WHERE email LIKE 'bench-coach-%' AND substring(email from 'bench-coach-([0-9]+)@')::int > $1`,
    [total],
  );
  if (removed.rowCount) {
    console.log(`removed ${removed.rowCount} coaches above ${total}`);
    // VACUUM, not only ANALYZE: the dead rows would otherwise stay in every scan of the smaller market.
    await client.query(`VACUUM ANALYZE users`);
    await client.query(`VACUUM ANALYZE coach_profiles`);
    await settleMatchKeys(client);
  }
  const [{ count }] = (await client.query<{ count: string }>(`SELECT count(*) FROM users WHERE email LIKE 'bench-coach-%'`))
    .rows as [{ count: string }];
  const have = Number(count);
  if (have >= total) return;
  console.log(`seeding coaches ${have + 1}..${total}`);
  await client.query(`SELECT setseed(${(have % 1000) / 1000})`);
  await client.query(
    `INSERT INTO users (email, role, is_active, email_verified)
     SELECT 'bench-coach-' || g || '@bench.test', 'coach', (g % 50 <> 0), true FROM generate_series($1::int, $2::int) g`,
    [have + 1, total],
  );
  const pickOne = (pool: string[]) => `(${sqlArray(pool)})[1 + floor(random() * ${pool.length})::int]`;
  // Random picks in a derived table, lists built without subqueries: a subquery over
  // unnest(ARRAY[random()...]) is evaluated once and would give every coach the same lists.
  await client.query(`
    INSERT INTO coach_profiles (user_id, first_name, last_name, bio, expertise, languages, countries, hourly_rate, currency, availability, rating, total_sessions, is_verified)
    SELECT r.id, 'Bench', 'Coach',
           'I offer a structured, collaborative approach with candid, direct feedback.',
           array_remove(ARRAY[r.e1, CASE WHEN r.e2 <> r.e1 THEN r.e2 END, CASE WHEN r.e3 <> r.e1 AND r.e3 <> r.e2 THEN r.e3 END], NULL),
           array_remove(ARRAY[r.l1, CASE WHEN r.l2 <> r.l1 AND r.two THEN r.l2 END], NULL),
           array_remove(ARRAY[r.c1, CASE WHEN r.c2 <> r.c1 THEN r.c2 END], NULL),
           round((25 + random() * 275)::numeric, 2), 'USD',
           jsonb_build_object('timezone', r.zone,
                              'monday', jsonb_build_array('09:00-12:00'), 'wednesday', jsonb_build_array('14:00-18:00'),
                              'saturday', jsonb_build_array('10:00-13:00')),
           round((3 + random() * 2)::numeric, 2), floor(random() * 400)::int, random() < 0.3
      FROM (SELECT u.id,
                   ${pickOne(EXPERTISE_POOL)} AS e1, ${pickOne(EXPERTISE_POOL)} AS e2, ${pickOne(EXPERTISE_POOL)} AS e3,
                   ${pickOne(LANGUAGE_POOL)} AS l1, ${pickOne(LANGUAGE_POOL)} AS l2, random() < 0.5 AS two,
                   ${pickOne(COUNTRY_POOL)} AS c1, ${pickOne(COUNTRY_POOL)} AS c2, ${pickOne(ZONE_POOL)} AS zone
              FROM users u
             WHERE u.email LIKE 'bench-coach-%' AND NOT EXISTS (SELECT 1 FROM coach_profiles cp WHERE cp.user_id = u.id)) r`);
  const variety = await client.query<{ n: string }>(`SELECT count(DISTINCT languages) AS n FROM coach_profiles`);
  if (Number(variety.rows[0]!.n) < 10) throw new Error("seeding produced identical coaches");
  await client.query(`ANALYZE users`);
  await client.query(`ANALYZE coach_profiles`);
  await settleMatchKeys(client);
}

/**
 * VACUUM, not only ANALYZE: the pre-rank's index-only scan of coach_match_keys needs the visibility
 * map of freshly written rows (autovacuum sets it in a running database). A VACUUM right after the
 * bulk insert may not mark them all-visible yet (an auto-ANALYZE started during the insert holds
 * back the horizon): repeat until it has, as autovacuum would, for at most ~20 s.
 */
async function settleMatchKeys(client: pg.Client): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await client.query(`VACUUM ANALYZE coach_match_keys`);
    const [row] = (
      await client.query<{ visible: number; pages: number }>(
        `SELECT relallvisible AS visible, relpages AS pages FROM pg_class WHERE relname = 'coach_match_keys'`,
      )
    ).rows;
    if (!row || row.visible >= row.pages * 0.99) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  console.log("coach_match_keys: the visibility map is still incomplete (heap fetches in the index-only scan)");
}

async function seedClients(client: pg.Client): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const email = `bench-client-${i}@bench.test`;
    const user = await client.query<{ id: string }>(
      `INSERT INTO users (email, role, email_verified) VALUES ($1, 'client', true) ON CONFLICT (email) DO ` +
        `UPDATE SET role = 'client' RETURNING id`,
      [email],
    );
    const id = user.rows[0]!.id;
    await client.query(
      `INSERT INTO client_profiles (user_id, quiz_data) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET quiz_data = EXCLUDED.quiz_data`,
      [id, JSON.stringify(benchQuiz(i))],
    );
    ids.push(id);
  }
  return ids;
}

// ---------------------------------------------------------------------------

/** What a request gets from a connection mode: a handle, its statement count, and the end of the request. */
interface BenchSession {
  db: Database;
  queryCount(): number;
  end(): Promise<void>;
}

/**
 * A node-postgres pool kept open across requests (the Hyperdrive path's steady state: warm pooled
 * connections near the Worker), counting statements as createDatabase's sessions do.
 */
function persistentPool(url: string): { session(): BenchSession; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  let queries = 0;
  pool.on("connect", (client) => {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    // pg's query() is overloaded; the wrapper passes every form through unchanged.
    client.query = ((...args: unknown[]) => {
      queries++;
      return original(...args);
    }) as typeof client.query;
  });
  // Same cast as src/db/client.ts's Hyperdrive path: node-postgres and Neon share drizzle's pg-core session.
  const db = drizzlePg({ client: pool, schema }) as unknown as Database;
  return {
    session() {
      const start = queries;
      return { db, queryCount: () => queries - start, end: async () => {} };
    },
    close: () => pool.end(),
  };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const ms = (value: number) => value.toFixed(1);

async function main() {
  const url = benchUrl();
  console.log(`database: ${url.replace(/\/\/[^@]*@/, "//")}`);
  await ensureDatabase(url);
  const proxy = await startWsProxy({ target: url });
  const persistent = persistentPool(url);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const rows: string[] = [];
  const compareRows: string[] = [];
  const previous: MatchFn | undefined = COMPARE
    ? (
        (await import(
          `${new URL(`file://${COMPARE.startsWith("/") ? "" : `${process.cwd()}/`}${COMPARE}/`).href}src/services/matching/service.ts`
        )) as { matchForClient: MatchFn }
      ).matchForClient
    : undefined;
  try {
    const clientIds = await seedClients(admin);
    for (const size of SIZES) {
      await seedCoaches(admin, size);
      const active = (
        await admin.query<{ n: string }>(
          `SELECT count(*) AS n FROM coach_profiles cp JOIN users u ON u.id = cp.user_id WHERE u.is_active AND ` +
            `u.role = 'coach' AND cp.hourly_rate IS NOT NULL`,
        )
      ).rows[0]!.n;
      await admin.query(`DELETE FROM match_cache WHERE client_id = ANY($1::uuid[])`, [clientIds]);
      const kv = new MemoryKv();
      const config = { DATABASE_URL: url, WS_PROXY: proxy.url };
      const modes: Array<{ label: string; open(): BenchSession }> = [
        { label: "neon-ws, pool per request", open: () => createDatabase(config) },
        { label: "pg, persistent pool", open: () => persistent.session() },
      ];

      // warm-up: driver, JIT, Postgres caches, the persistent pool's connections
      for (let i = 0; i < 5; i++) {
        for (const mode of modes) {
          const session = mode.open();
          await matchForClient({ db: session.db, kv, now: new Date() }, clientIds[i % clientIds.length]!, {
            forceRefresh: true,
            limit: 10,
          });
          await session.end();
        }
      }

      const figures = modes.map(() => ({
        cold: [] as number[],
        coldTrips: [] as number[],
        candidateMs: [] as number[],
        candidateSizes: [] as number[],
        engineMs: [] as number[],
        cached: [] as number[],
        cachedTrips: [] as number[],
        previousCold: [] as number[],
        interleavedCold: [] as number[],
      }));
      for (let i = 0; i < ITERATIONS; i++) {
        const clientId = clientIds[i % clientIds.length]!;
        const quiz = benchQuiz(i % clientIds.length);
        for (const [m, mode] of modes.entries()) {
          const f = figures[m]!;
          // cold: a new session per request (for neon-ws: a new Pool, connection set-up included)
          let session = mode.open();
          let started = performance.now();
          await matchForClient({ db: session.db, kv, now: new Date() }, clientId, { forceRefresh: true, limit: 10 });
          f.cold.push(performance.now() - started);
          f.coldTrips.push(session.queryCount());
          await session.end();

          if (previous) {
            // the other checkout and this one again, alternating which goes first
            const runs: Array<[MatchFn, number[]]> = [
              [previous, f.previousCold],
              [matchForClient, f.interleavedCold],
            ];
            if (i % 2 === 1) runs.reverse();
            for (const [run, into] of runs) {
              const other = mode.open();
              const at = performance.now();
              await run({ db: other.db, kv, now: new Date() }, clientId, { forceRefresh: true, limit: 10 });
              into.push(performance.now() - at);
              await other.end();
            }
          }

          // the parts: the candidate statement and the engine on its result
          session = mode.open();
          await session.db.execute("select 1"); // connection set up outside the timing
          started = performance.now();
          const candidates = await loadCandidates(session.db, quiz);
          f.candidateMs.push(performance.now() - started);
          f.candidateSizes.push(candidates.length);
          started = performance.now();
          rankCoaches(quiz, candidates, { now: new Date(), explainTop: 50 });
          f.engineMs.push(performance.now() - started);
          await session.end();

          // cached: KV hit
          session = mode.open();
          started = performance.now();
          const hit = await matchForClient({ db: session.db, kv, now: new Date() }, clientId, {
            forceRefresh: false,
            limit: 10,
          });
          f.cached.push(performance.now() - started);
          f.cachedTrips.push(session.queryCount());
          if (!hit.cached) throw new Error("expected a cache hit");
          await session.end();
        }
      }
      for (const [m, mode] of modes.entries()) {
        const f = figures[m]!;
        rows.push(
          `| ${size.toLocaleString("en-US")} (${Number(active).toLocaleString("en-US")} active with a rate) | ${mode.label} | ` +
            `${ms(percentile(f.cold, 50))} / ${ms(percentile(f.cold, 95))} | ` +
            `${Math.min(...f.candidateSizes)}-${Math.max(...f.candidateSizes)} | ${Math.max(...f.coldTrips)} | ` +
            `${ms(percentile(f.candidateMs, 50))} / ${ms(percentile(f.candidateMs, 95))} | ` +
            `${ms(percentile(f.engineMs, 50))} | ${ms(percentile(f.cached, 50))} / ${ms(percentile(f.cached, 95))} | ` +
            `${Math.max(...f.cachedTrips)} |`,
        );
        console.log(rows[rows.length - 1]);
        if (previous) {
          compareRows.push(
            `| ${size.toLocaleString("en-US")} | ${mode.label} | ${ms(percentile(f.previousCold, 50))} / ` +
              `${ms(percentile(f.previousCold, 95))} | ${ms(percentile(f.interleavedCold, 50))} / ` +
              `${ms(percentile(f.interleavedCold, 95))} |`,
          );
          console.log(compareRows[compareRows.length - 1]);
        }
      }
    }
  } finally {
    await admin.end();
    await persistent.close();
    await proxy.close();
  }
  const cpus = os.cpus();
  console.log(
    `\nPOST /match service path, ${ITERATIONS} iterations per size; modes: neon-ws = Neon driver over the local WebSocket ` +
      "proxy, one Pool per request; pg = node-postgres on a persistent pool (the Hyperdrive path's warm connections)",
  );
  console.log(
    `(${cpus.length} x ${cpus[0]?.model ?? "cpu"}, load average ${os
      .loadavg()
      .map((value) => value.toFixed(1))
      .join(" ")}):\n`,
  );
  console.log(
    "| coaches | connection | cold p50 / p95 ms | candidates | cold DB round trips | candidate SQL p50 / p95 ms | " +
      "engine p50 ms | cached p50 / p95 ms | cached DB round trips |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);
  if (previous) {
    console.log(`\ncold match, interleaved on the same data: ${COMPARE} vs this checkout\n`);
    console.log("| coaches | connection | compared cold p50 / p95 ms | this cold p50 / p95 ms |");
    console.log("|---|---|---|---|");
    for (const row of compareRows) console.log(row);
  }
}

await main();
