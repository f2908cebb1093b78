/**
 * `npm run bench:search`: GET /coaches at 100,000 coaches, statement against a one-query floor.
 *
 *  1. the bench market (scripts/bench/seed.ts: 100,000 coaches ...) in SEARCH_BENCH_DATABASE_URL
 *     (default postgresql://postgres@127.0.0.1:55432/culturebridge_search_bench; created, migrated
 *     and seeded when missing, then VACUUM ANALYZE);
 *  2. the route's own statement (coachListSql, the SQL the Worker sends) for the 12 most common
 *     language + country pairs, and for `q` and `verified` filters, against the floor `SELECT 1`
 *     and a primary-key lookup, each measured the same way right after its floor:
 *     C concurrent loops for D seconds, either a NEW connection per request (what a Worker without
 *     a pooler pays: connection, cold catalog caches, one statement) or persistent connections
 *     (a pooler / Hyperdrive: the statement alone);
 *  3. the previous statement (before this change: exact count + page sorted by a `desc` that
 *     did not match ix_coach_profiles_rank) in the same run, for before/after;
 *  4. EXPLAIN (ANALYZE, BUFFERS) of the statements, printed for docs/SEARCH.md.
 *
 * Bounded: SEARCH_BENCH_SECONDS (default 4) per measurement, SEARCH_BENCH_CONNECTIONS (default 4).
 */
import { PgDialect } from "drizzle-orm/pg-core";
import pg from "pg";
import { type CoachFilters, coachListSql, coachPageRowsSql, filterKey, listKey } from "../src/services/coaches.ts";
import { isSeeded, MARKET, seedMarket } from "./bench/seed.ts";
import { migrateUrl } from "./lib/database.ts";

const URL_ = process.env.SEARCH_BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:55432/culturebridge_search_bench";
const SECONDS = Number(process.env.SEARCH_BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.SEARCH_BENCH_CONNECTIONS ?? 4);
const dialect = new PgDialect();
const started = Date.now();
const log = (line: string) =>
  process.stdout.write(`[search ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

async function ensureDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query(`select 1 from pg_database where datname = $1`, [name]);
    if (exists.rowCount === 0) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

interface Statement {
  text: string;
  params: unknown[];
}

/**
 * The statement the route sends for these filters on this kind of connection: a pure
 * language/country filter is coach_list_page() on a persistent connection and the inlined page
 * rows on a new one (services/coaches.ts, BackendKind); other filters are one statement either way.
 */
const routeStatement = async (filters: CoachFilters, mode: Mode, key?: string): Promise<Statement> => {
  const pagination = { skip: 0, limit: 20 };
  const query = dialect.sqlToQuery(
    listKey(filters).pure && mode === "fresh"
      ? coachPageRowsSql(filters, pagination)
      : coachListSql(filters, pagination, key ?? (await filterKey(filters))),
  );
  return { text: query.sql, params: query.params };
};

/** The statement GET /coaches sent before this change (41e8973): exact count + page, plain `desc` order. */
function previousStatement(filters: CoachFilters): Statement {
  const params: unknown[] = [];
  const conditions = [`u.is_active and u.role = 'coach' and cp.hourly_rate is not null`];
  if (filters.languages?.length) conditions.push(`cp.languages @> $${params.push(filters.languages)}`);
  if (filters.countries?.length) conditions.push(`cp.countries @> $${params.push(filters.countries)}`);
  const where = conditions.join(" and ");
  const from = `from coach_profiles cp inner join users u on u.id = cp.user_id where ${where}`;
  return {
    text: `select * from (select count(*) as total ${from}) counted
      left join (select cp.id, cp.user_id, cp.first_name, cp.last_name, cp.photo_url, cp.bio, cp.expertise, cp.languages,
                        cp.countries, cp.hourly_rate, cp.currency, cp.rating, cp.total_sessions, cp.is_verified
                 ${from} order by cp.rating desc, cp.total_sessions desc, cp.id limit 20 offset 0) page_rows on true
      order by page_rows.rating desc, page_rows.total_sessions desc, page_rows.id`,
    params,
  };
}

type Mode = "fresh" | "pooled";

/** Requests per second of `next()` statements over C loops for SECONDS; p50 latency in ms. */
async function measure(mode: Mode, next: (mode: Mode) => Promise<Statement> | Statement): Promise<{ rps: number; p50: number }> {
  const deadline = Date.now() + SECONDS * 1000;
  const latencies: number[] = [];
  const loop = async () => {
    const persistent = mode === "pooled" ? new pg.Client({ connectionString: URL_ }) : undefined;
    await persistent?.connect();
    try {
      while (Date.now() < deadline) {
        const statement = await next(mode);
        const t0 = performance.now();
        if (persistent) {
          await persistent.query(statement.text, statement.params);
        } else {
          const client = new pg.Client({ connectionString: URL_ });
          await client.connect();
          await client.query(statement.text, statement.params);
          await client.end();
        }
        latencies.push(performance.now() - t0);
      }
    } finally {
      await persistent?.end();
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / ((Date.now() - t0) / 1000), p50: latencies[Math.floor(latencies.length / 2)] ?? 0 };
}

async function main(): Promise<void> {
  await ensureDatabase(URL_);
  await migrateUrl(URL_);
  const db = new pg.Client({ connectionString: URL_ });
  await db.connect();
  try {
    if (!(await isSeeded(db))) {
      log("seeding the market (100,000 coaches)");
      await seedMarket(db, MARKET, log);
    }
    await db.query("vacuum analyze coach_profiles");
    await db.query("vacuum analyze users");
    const pairs = (
      await db.query<{ language: string; country: string; n: string }>(
        `select l as language, c as country, count(*) as n
           from coach_profiles, unnest(languages) l, unnest(countries) c group by 1, 2 order by n desc limit 12`,
      )
    ).rows;
    const [{ pk } = { pk: "" }] = (await db.query<{ pk: string }>(`select id as pk from coach_profiles limit 1`)).rows;
    log(`${pairs.length} language+country pairs, ${pairs[0]?.n}..${pairs.at(-1)?.n} coaches each`);

    let cursor = 0;
    const pairFilters = (): CoachFilters => {
      const pair = pairs[cursor++ % pairs.length]!;
      return { languages: [pair.language], countries: [pair.country] };
    };
    const floor: Statement = { text: "select 1", params: [] };
    const byKey: Statement = { text: "select id, rating from coach_profiles where id = $1", params: [pk] };
    const scenarios: Array<{ name: string; next: (mode: Mode) => Promise<Statement> | Statement }> = [
      {
        name: "GET /coaches language+country (before: exact count, unindexed order)",
        next: () => previousStatement(pairFilters()),
      },
      {
        name: "GET /coaches language+country (total from coach_list_totals)",
        next: (mode) => routeStatement(pairFilters(), mode),
      },
      {
        name: "GET /coaches language+country+min_rating (first after a coach change: count + store)",
        // A key never seen: the statement takes the miss path every time.
        next: (mode) =>
          routeStatement({ ...pairFilters(), minRating: 1 }, mode, crypto.randomUUID().replace(/-/g, "").padEnd(64, "0")),
      },
      {
        name: "GET /coaches q=relocation language=English",
        next: (mode) => routeStatement({ words: ["relocation"], languages: ["English"] }, mode),
      },
      { name: "GET /coaches q=Garcia career (narrow)", next: (mode) => routeStatement({ words: ["Garcia", "career"] }, mode) },
      {
        name: "GET /coaches verified=true country",
        next: (mode) => routeStatement({ verified: true, countries: [pairs[0]!.country] }, mode),
      },
    ];

    const rows: string[] = [];
    for (const mode of ["fresh", "pooled"] as const) {
      for (const scenario of scenarios) {
        const limitSelect1 = await measure(mode, () => floor);
        const limitKey = await measure(mode, () => byKey);
        const route = await measure(mode, scenario.next);
        const line =
          `| ${mode} | ${scenario.name} | ${route.rps.toFixed(0)} | ${route.p50.toFixed(2)} | ` +
          `${limitSelect1.rps.toFixed(0)} | ${limitKey.rps.toFixed(0)} | ` +
          `${(route.rps / limitSelect1.rps).toFixed(2)} | ${(route.rps / limitKey.rps).toFixed(2)} |`;
        log(line);
        rows.push(line);
      }
    }
    await db.query(`delete from coach_list_counts where filter_key like '%00000000000000000000000000000000'`);

    const explain = async (label: string, statement: Statement) => {
      const result = await db.query<{ "QUERY PLAN": string }>(
        `explain (analyze, buffers, costs off) ${statement.text}`,
        statement.params,
      );
      process.stdout.write(`\n#### ${label}\n\n\`\`\`\n${result.rows.map((row) => row["QUERY PLAN"]).join("\n")}\n\`\`\`\n`);
    };
    const top = { languages: [pairs[0]!.language], countries: [pairs[0]!.country] };
    await explain("before (41e8973)", previousStatement(top));
    await explain(
      "after: the page statement (a fresh backend sends it; coach_list_page runs it inside plpgsql)",
      await routeStatement(top, "fresh"),
    );
    await explain(
      "after, min_rating, first request after a coach change",
      await routeStatement({ ...top, minRating: 1 }, "pooled", "f".repeat(64)),
    );
    await db.query(`delete from coach_list_counts where filter_key = $1`, ["f".repeat(64)]);
    await explain(
      "after, q=relocation language=English",
      await routeStatement({ words: ["relocation"], languages: ["English"] }, "pooled"),
    );

    process.stdout.write(
      `\n| connection | scenario | req/s | p50 ms | SELECT 1 req/s | pk lookup req/s | ratio vs SELECT 1 | ` +
        `ratio vs pk lookup |\n|---|---|--:|--:|--:|--:|--:|--:|\n${rows.join("\n")}\n`,
    );
  } finally {
    await db.end();
  }
}

await main();
