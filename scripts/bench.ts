/**
 * `npm run bench`: the API against its physical limits, on the real runtime.
 *
 *  1. a local Postgres database `culturebridge_bench` (BENCH_DATABASE_URL, else
 *     postgresql://postgres@127.0.0.1:55432/culturebridge_bench; when nothing
 *     listens there, scripts/local-postgres.sh starts a throwaway server, stopped
 *     again at the end), migrated and seeded once with a realistic market
 *     (scripts/bench/seed.ts: 100,000 coaches, 10,000 clients, set-based SQL);
 *  2. the WebSocket-to-TCP proxy (own process) and the API in `wrangler dev`
 *     (workerd), ENVIRONMENT=development, rate limit out of the way;
 *  3. autocannon over 127.0.0.1 with real signed tokens, each scenario bounded
 *     (BENCH_DURATION seconds, default 10, at 50 and 100 connections), and
 *     each scenario's ratio to its limit measured in the same run:
 *     limits GET /dev/bench/{constant,kv,db}; POST /match cache hit (vs kv),
 *     POST /match force_refresh (vs db), GET /coaches with language + country,
 *     GET /coaches/{id}, GET /community/posts, POST /booking on free slots (vs db);
 *  4. before/after: the endpoints whose round trips were cut are also driven on
 *     a second Worker built from the baseline revision (BENCH_BASELINE, a git
 *     worktree), against the same database, in the same run;
 *  5. the table on stdout and in .bench/results.json; every child stopped.
 *
 * The far-database suite (BENCH_SUITES=far, issue 14): for an added RTT of 0 and of
 * 50 ms, Postgres behind a delay proxy (scripts/bench/delay-proxy.ts), PgBouncer near
 * the Worker in front of it (standing in for Hyperdrive), the app Worker with the
 * Hyperdrive binding emulated and a local Stripe stand-in (scripts/lib/fake-stripe.ts);
 * one request in flight (p50 = latency, no CPU queueing). Reads through autocannon at
 * 1 connection; writes through the sequential journeys of scripts/bench/far-writes.ts
 * (each iteration creates what it needs; all removed at the end). The two stacks run side by
 * side and take turns (reads scenario by scenario, writes iteration by iteration). Per operation:
 * far round trips = (p50 at 50 ms - p50 at 0) / 50, printed as its own table.
 *
 * Options (environment): BENCH_DURATION (s), BENCH_CONNECTIONS ("50,100"),
 * BENCH_BASELINE (git revision, "none" to skip), BENCH_ONLY (comma-separated
 * scenario names), BENCH_DATABASE_URL, BENCH_SUITES ("edge,far,main"), BENCH_FAR_REVISION
 * (the far suite's Worker built from that git revision), BENCH_INSPECT (a Worker's label, e.g.
 * "pooled": its DevTools on port 9229, to record a CPU profile while a scenario runs).
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import pg from "pg";
import { signToken } from "../src/lib/tokens.ts";
import {
  cleanupWrites,
  driveWrites,
  ensureBenchAdmin,
  newCreated,
  newCursors,
  removeBenchAdmin,
  type WriteRow,
  writeJourneys,
} from "./bench/far-writes.ts";
import { pgbouncerBinary, startPooler } from "./bench/pooler.ts";
import { isSeeded, MARKET, seedMarket } from "./bench/seed.ts";
import { type Availability, randomSlot } from "./bench/slots.ts";
import { migrateUrl, projectRoot } from "./lib/database.ts";
import { startFakeStripe } from "./lib/fake-stripe.ts";
import { configWithHyperdrive, freePort, startWranglerDev, type WranglerDev } from "./lib/wrangler.ts";

/** The commit before the round-trip work of issue 9: the "before" of the before/after rows. */
const DEFAULT_BASELINE = "e7824d98f4f8b3471e8974db86636697b2e7408b";

const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? "50,100").split(",").map(Number);
const BASELINE = process.env.BENCH_BASELINE ?? DEFAULT_BASELINE;
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : undefined;
/** "edge" (bare floors vs cache hits, the chain), "far" (database 50 ms away), "main" (the scenarios below). */
const SUITES = new Set((process.env.BENCH_SUITES ?? "edge,far,main").split(","));
/** The revision before the edge hot path work: the "before" of the chain rows. */
// Default "none": the revision before the edge work (41e8973) no longer bundles against today's
// node_modules (the bundler cannot resolve what it imported), so its rows are those of the issue
// and of BENCHMARKS.md. BENCH_EDGE_BASELINE=<rev> drives another revision's Worker side by side.
const EDGE_BASELINE = process.env.BENCH_EDGE_BASELINE ?? "none";
const FAR_RTT_MS = 50;
/**
 * BENCH_FAR_REVISION: the far suite's app Worker built from this git revision (a worktree of this
 * clone), e.g. `main`, to measure other code with this bench (the database is migrated by this checkout).
 */
const FAR_REVISION = process.env.BENCH_FAR_REVISION;
const WARMUP_SECONDS = 1;
/** Clients of the run (tokens, rate-limit objects); the first MATCH_HIT_CLIENTS have cached matches. */
const ACTIVE_CLIENTS = 600;
const MATCH_HIT_CLIENTS = 100;
const DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:55432/postgres";
const BENCH_DB = "culturebridge_bench";

const started = Date.now();
const log = (line: string) =>
  process.stdout.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

// ---------------------------------------------------------------------------
// children, stopped whatever happens
// ---------------------------------------------------------------------------

const cleanups: Array<() => Promise<void>> = [];
let cleaning = false;
async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  for (const step of cleanups.reverse()) {
    // Bounded: one stuck child must not keep the others (and this process) alive.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log("cleanup: a step took more than 20 s, moving on");
        resolve();
      }, 20_000);
    });
    await Promise.race([step().catch((error: unknown) => log(`cleanup: ${String(error)}`)), timeout]);
    clearTimeout(timer);
  }
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    void cleanup().then(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------
// database
// ---------------------------------------------------------------------------

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** Creates the database of `url` on its server when it does not exist yet. */
async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query(`select 1 from pg_database where datname = $1`, [name]);
    if (exists.rowCount === 0) {
      log(`creating database ${name}`);
      await client.query(`create database "${name.replace(/"/g, '""')}"`);
    }
  } finally {
    await client.end();
  }
}

async function prepareDatabase(): Promise<string> {
  if (process.env.BENCH_DATABASE_URL) {
    await ensureDatabase(process.env.BENCH_DATABASE_URL).catch((error: unknown) =>
      log(`could not check/create the database: ${String(error)}`),
    );
    return process.env.BENCH_DATABASE_URL;
  }
  if (!(await reachable(DEFAULT_ADMIN_URL))) {
    const dataDir = path.join(os.tmpdir(), "culturebridge-bench-pg");
    log(`no Postgres on 127.0.0.1:55432: starting one (scripts/local-postgres.sh, data in ${dataDir})`);
    execFileSync("bash", [path.join(projectRoot, "scripts/local-postgres.sh"), "start", "55432", dataDir], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    cleanups.push(async () => {
      log("stopping the Postgres the bench started");
      execFileSync("bash", [path.join(projectRoot, "scripts/local-postgres.sh"), "stop", dataDir], { stdio: "ignore" });
    });
  }
  const url = DEFAULT_ADMIN_URL.replace(/\/postgres$/, `/${BENCH_DB}`);
  await ensureDatabase(url);
  return url;
}

// ---------------------------------------------------------------------------
// processes
// ---------------------------------------------------------------------------

/** The proxy dials only `databaseUrl` (scripts/bench/proxy.ts refuses to start without it). */
async function startProxy(databaseUrl: string): Promise<string> {
  const child: ChildProcess = spawn(process.execPath, [path.join(projectRoot, "scripts/bench/proxy.ts"), databaseUrl], {
    cwd: projectRoot,
    stdio: ["pipe", "pipe", "inherit"],
  });
  // exitCode stays null when a signal ended the process: remember the exit itself.
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  cleanups.push(async () => {
    if (exited) return;
    child.kill("SIGTERM");
    await gone;
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const parsed = JSON.parse(line) as { url: string };
    return parsed.url;
  }
  throw new Error("proxy exited before listening");
}

/**
 * Bundles the Worker once (`wrangler deploy --dry-run --outdir`) and serves that bundle with
 * `wrangler dev --no-bundle`: the measured code is fixed for the whole run (wrangler dev would
 * otherwise rebuild and restart on every source edit in the checkout), and the baseline is
 * built from its own worktree the same way.
 */
function buildWorker(label: string, configPath: string): string {
  const outdir = path.join(projectRoot, ".bench", `build-${label}`);
  fs.rmSync(outdir, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [
      path.join(projectRoot, "node_modules/wrangler/bin/wrangler.js"),
      "deploy",
      "--dry-run",
      "--outdir",
      outdir,
      "--config",
      configPath,
    ],
    {
      cwd: path.dirname(configPath),
      stdio: "ignore",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  // The bundle is named after the entry module (index.js for the API, worker.js for the floors).
  const entry = fs.existsSync(path.join(outdir, "index.js"))
    ? "index.js"
    : (fs.readdirSync(outdir).find((name) => name.endsWith(".js")) ?? "index.js");
  const config = fs
    .readFileSync(configPath, "utf8")
    .replace(/^main\s*=.*$/m, `main = ${JSON.stringify(path.join(outdir, entry))}`)
    // The built config lives in .bench/build-*: relative paths (the assets directory) are made absolute.
    .replace(
      /^directory\s*=\s*"(\.[^"]*)"/m,
      (_line, relative: string) => `directory = ${JSON.stringify(path.resolve(path.dirname(configPath), relative))}`,
    );
  const builtConfig = path.join(outdir, "wrangler.toml");
  fs.writeFileSync(builtConfig, config);
  return builtConfig;
}

async function startWorker(
  label: string,
  vars: Record<string, string>,
  configPath = path.join(projectRoot, "wrangler.toml"),
): Promise<WranglerDev> {
  const t0 = Date.now();
  const builtConfig = buildWorker(label, configPath);
  const port = await freePort();
  // Local KV / Durable Object storage of this Worker, removed at the end.
  const persistTo = fs.mkdtempSync(path.join(os.tmpdir(), `culturebridge-bench-${label}-`));
  cleanups.push(async () => fs.rmSync(persistTo, { recursive: true, force: true }));
  const logFile = path.join(projectRoot, ".bench", `worker-${label}.log`);
  const out = fs.createWriteStream(logFile);
  const worker = startWranglerDev({
    port,
    vars: { ...vars, PUBLIC_BASE_URL: `http://127.0.0.1:${port}` },
    persistTo,
    output: (chunk) => out.write(chunk),
    extraArgs: ["--config", builtConfig, "--no-bundle"],
    // BENCH_INSPECT=<worker label> (current, pooled, far-0 ...): that Worker's DevTools on port 9229.
    inspectorPort: process.env.BENCH_INSPECT === label ? 9229 : undefined,
  });
  cleanups.push(async () => {
    await worker.stop();
    out.end();
  });
  await worker.ready(120_000).catch((error: unknown) => {
    throw new Error(`${String(error)}; see ${logFile}`);
  });
  log(
    `worker "${label}" built and ready on ${worker.url} in ${((Date.now() - t0) / 1000).toFixed(1)} s (log ${path.relative(projectRoot, logFile)})`,
  );
  return worker;
}

/** A git worktree of the baseline revision with this checkout's node_modules. */
function baselineWorktree(revision: string): string | undefined {
  try {
    execFileSync("git", ["cat-file", "-e", `${revision}^{commit}`], { cwd: projectRoot, stdio: "ignore" });
  } catch {
    log(`baseline ${revision} is not in this clone: before/after rows skipped`);
    return undefined;
  }
  // A worktree of its own per run (registered in this clone, removed at the end).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `culturebridge-bench-baseline-${revision.slice(0, 12)}-`));
  execFileSync("git", ["worktree", "add", "--force", "--detach", dir, revision], { cwd: projectRoot, stdio: "ignore" });
  fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(dir, "node_modules"));
  cleanups.push(async () => {
    execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: projectRoot, stdio: "ignore" });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return path.join(dir, "wrangler.toml");
}

// ---------------------------------------------------------------------------
// load
// ---------------------------------------------------------------------------

type Limit = "constant" | "kv" | "db";

interface Scenario {
  name: string;
  /** the limit its ratio is taken against */
  limit?: Limit;
  method: "GET" | "POST";
  request: () => { path: string; token?: string; body?: unknown };
  /** run on the baseline worker too (its round trips changed) */
  baseline?: boolean;
  /** run on the pooled worker too (the connection-reuse lever) */
  pooled?: boolean;
  /**
   * run on Workers with EDGE_CACHE=off too (unpooled and, when `pooled`, pooled): the route alone,
   * so that the edge cache's own work on a miss (a Cache API lookup and store, which `wrangler dev`
   * serves from workerd on this machine's cores) is priced apart from the statement's
   */
  edgeCacheOff?: boolean;
  connections?: number[];
  before?: () => Promise<void>;
}

interface Measurement {
  scenario: string;
  /** current code; baseline = the revision before this work; pooled = current code through PgBouncer */
  worker: string;
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  roundTrips: number | null;
  /** the limit (or floor scenario name, or "far round trips") the ratio refers to */
  limit?: string;
  /** req/s of the limit measured right before this row */
  limitRequestsPerSecond?: number;
  ratio?: number;
  /** for limit rows: the scenario they were measured for */
  pairedWith?: string;
  /** "sequential": a write journey of the far suite, one request at a time (no req/s: requestsPerSecond is 0) */
  driver?: "sequential";
}

async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let index = 0; index < items.length; index += size) await Promise.all(items.slice(index, index + size).map(work));
}

/** One POST /match per client: computes (or refills the KV entry of) its cached matches. */
async function warmMatches(base: string, tokens: readonly string[]): Promise<void> {
  const t0 = Date.now();
  await inBatches(tokens, 8, async (token) => {
    const response = await fetch(`${base}/match`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`warming the match cache: ${response.status}`);
  });
  log(`match cache warm for ${tokens.length} clients in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** One request per user, so that every user's rate-limit Durable Object exists before measuring. */
async function warmUsers(base: string, tokens: readonly string[]): Promise<void> {
  const t0 = Date.now();
  await inBatches(tokens, 25, async (token) => {
    // A Worker just reported ready once reset the first connections of this burst (ECONNRESET,
    // session 6): a warm-up request is retried a few times before the run gives up.
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(`${base}/dev/bench/constant`, { headers: { authorization: `Bearer ${token}` } });
        await response.arrayBuffer();
        return;
      } catch (error) {
        if (attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  });
  log(`${tokens.length} users warmed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

async function probe(base: string, scenario: Scenario): Promise<{ status: number; roundTrips: number | null }> {
  const { path: target, token, body } = scenario.request();
  const response = await fetch(`${base}${target}`, {
    method: scenario.method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (response.status >= 400) log(`  probe ${scenario.name}: ${response.status} ${text.slice(0, 300)}`);
  const header = response.headers.get("x-db-queries");
  return { status: response.status, roundTrips: header === null ? null : Number(header) };
}

async function drive(
  base: string,
  scenario: Scenario,
  connections: number,
  seconds: number,
): Promise<{ result: autocannon.Result; statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {};
  const options: autocannon.Options = {
    url: base,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: scenario.method,
        setupRequest: (request) => {
          const { path: target, token, body } = scenario.request();
          return {
            ...request,
            path: target,
            headers: {
              ...(token ? { authorization: `Bearer ${token}` } : {}),
              ...(body !== undefined ? { "content-type": "application/json" } : {}),
            },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          };
        },
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, finished) => (error ? reject(error) : resolve(finished)));
    instance.on("response", (_client, statusCode) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
  return { result, statuses };
}

async function measure(
  base: string,
  worker: Measurement["worker"],
  scenario: Scenario,
  connections: number,
): Promise<Measurement> {
  await scenario.before?.();
  const { roundTrips } = await probe(base, scenario);
  await drive(base, scenario, Math.min(connections, 20), WARMUP_SECONDS);
  const { result, statuses } = await drive(base, scenario, connections, DURATION);
  const measurement: Measurement = {
    scenario: scenario.name,
    worker,
    connections,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx,
    statuses,
    roundTrips,
    ...(scenario.limit ? { limit: scenario.limit } : {}),
  };
  log(
    `${worker === "current" ? "" : `[${worker}] `}${scenario.name} @${connections}: ${measurement.requestsPerSecond.toFixed(0)} req/s, p50 ${measurement.p50} ms, p99 ${measurement.p99} ms, errors ${measurement.errors}` +
      ` (statuses ${JSON.stringify(statuses)}, ${roundTrips ?? "?"} db round trips)`,
  );
  return measurement;
}

// ---------------------------------------------------------------------------
// edge and far-database suites (issue 13 / 14)
// ---------------------------------------------------------------------------

/** configWithHyperdrive, its derived config file removed at the end of the run. */
function hyperdriveConfig(databaseUrl: string, configPath?: string): string {
  const derived = configWithHyperdrive(databaseUrl, configPath);
  cleanups.push(async () => fs.rmSync(derived, { force: true }));
  return derived;
}

/** A child process that prints one JSON line when ready (the delay proxy), stopped by `stop` or at cleanup. */
async function startJsonChild<T>(script: string, args: string[]): Promise<T & { stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [path.join(projectRoot, script), ...args], {
    cwd: projectRoot,
    stdio: ["pipe", "pipe", "inherit"],
  });
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    await gone;
  };
  cleanups.push(stop);
  for await (const line of createInterface({ input: child.stdout! })) return { ...(JSON.parse(line) as T), stop };
  throw new Error(`${script} exited before it was ready`);
}

/** The bare floor Worker (scripts/bench/floors/worker.ts) with a KV namespace and a Hyperdrive binding to `databaseUrl`. */
async function startFloors(label: string, databaseUrl: string): Promise<WranglerDev> {
  const dir = path.join(projectRoot, ".bench", `floors-${label}`);
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, "wrangler.toml");
  fs.writeFileSync(
    config,
    [
      `name = "culturebridge-bench-floors"`,
      `main = ${JSON.stringify(path.join(projectRoot, "scripts/bench/floors/worker.ts"))}`,
      `compatibility_date = "2026-11-01"`,
      `compatibility_flags = ["nodejs_compat"]`,
      `[[kv_namespaces]]`,
      `binding = "KV"`,
      `id = "floors"`,
      "",
    ].join("\n"),
  );
  const worker = await startWorker(label, {}, hyperdriveConfig(databaseUrl, config));
  await (await fetch(`${worker.url}/seed`, { method: "POST" })).arrayBuffer();
  return worker;
}

interface EdgeContext {
  databaseUrl: string;
  jwtSecret: string;
  clientTokens: string[];
  active: string[];
  coachRows: Array<{ user_id: string; id: string; availability: Availability }>;
  postIds: string[];
  combos: Array<{ language: string; country: string }>;
  results: Measurement[];
  db: pg.Client;
}

async function edgeSuites(ctx: EdgeContext): Promise<void> {
  const { clientTokens, results } = ctx;
  const random = Math.random;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const hitClients = Math.min(50, clientTokens.length);
  const hitToken = () => clientTokens[Math.floor(random() * hitClients)]!;
  const anyToken = () => pick(clientTokens);
  const hotCoaches = ctx.coachRows.slice(0, 40);
  const appVars = {
    ENVIRONMENT: "development",
    DATABASE_URL: ctx.databaseUrl,
    JWT_SECRET: ctx.jwtSecret,
    RATE_LIMIT_PER_MINUTE: "1000000000",
    CORS_ORIGINS: "",
  };
  const connections = 50;
  const row = async (base: string, worker: string, scenario: Scenario, conns = connections, floor?: Measurement) => {
    const measured = await measure(base, worker, scenario, conns);
    if (floor) {
      measured.limitRequestsPerSecond = floor.requestsPerSecond;
      measured.ratio = measured.requestsPerSecond / floor.requestsPerSecond;
      measured.limit = floor.scenario;
    }
    results.push(measured);
    return measured;
  };
  const warmEdge = async (base: string) => {
    // Cache hits are what is measured: every URL the load draws from is answered once first.
    const urls = [
      ...hotCoaches.map((coach) => `/coaches/${coach.id}`),
      ...ctx.combos.map(
        (combo) => `/coaches?language=${encodeURIComponent(combo.language)}&country=${encodeURIComponent(combo.country)}`,
      ),
    ];
    await inBatches(urls, 4, async (url) => {
      await (await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${anyToken()}` } })).arrayBuffer();
    });
  };
  const scenarios = {
    floorConstant: { name: "floor: constant (bare Worker)", method: "GET", request: () => ({ path: "/constant" }) },
    floorKv: { name: "floor: one KV read (bare Worker)", method: "GET", request: () => ({ path: "/kv" }) },
    floorDb: { name: "floor: one query (bare Worker, Hyperdrive)", method: "GET", request: () => ({ path: "/db" }) },
    chainAnonymous: {
      name: "chain: GET /dev/bench/constant, no token",
      method: "GET",
      request: () => ({ path: "/dev/bench/constant" }),
    },
    chain: {
      name: "chain: GET /dev/bench/constant, bearer token",
      method: "GET",
      request: () => ({ path: "/dev/bench/constant", token: anyToken() }),
    },
    chainDb: {
      name: "chain + 1 query: GET /dev/bench/db",
      method: "GET",
      request: () => ({ path: "/dev/bench/db", token: anyToken() }),
    },
    matchHit: { name: "POST /match cache hit", method: "POST", request: () => ({ path: "/match", token: hitToken(), body: {} }) },
    coachHit: {
      name: "GET /coaches/{id} edge hit",
      method: "GET",
      request: () => ({ path: `/coaches/${pick(hotCoaches).id}`, token: anyToken() }),
    },
    listHit: {
      name: "GET /coaches?language&country edge hit",
      method: "GET",
      request: () => {
        const combo = pick(ctx.combos);
        return {
          path: `/coaches?language=${encodeURIComponent(combo.language)}&country=${encodeURIComponent(combo.country)}`,
          token: anyToken(),
        };
      },
    },
  } satisfies Record<string, Scenario>;

  if (SUITES.has("edge")) {
    log("edge suite: bare floors vs cache hits, and the chain (this run's machine load is in the results)");
    const floors = await startFloors("floors", ctx.databaseUrl);
    const app = await startWorker("edge", appVars, hyperdriveConfig(ctx.databaseUrl));
    await warmUsers(app.url, clientTokens);
    await warmMatches(app.url, clientTokens.slice(0, hitClients));
    await warmEdge(app.url);
    // Each floor right next to the rows compared with it: on a shared machine the load drifts
    // within a minute, and a floor measured 20 s earlier can be off by 2x (BENCHMARKS.md, 21:31 run).
    const floorConstant = await row(floors.url, "floor", scenarios.floorConstant);
    await row(app.url, "current", scenarios.chainAnonymous, connections, floorConstant);
    await row(app.url, "current", scenarios.chain, connections, floorConstant);
    const floorKv = await row(floors.url, "floor", scenarios.floorKv);
    await row(app.url, "current", scenarios.matchHit, connections, floorKv);
    await row(app.url, "current", scenarios.coachHit, connections, floorKv);
    await row(app.url, "current", scenarios.listHit, connections, floorKv);
    // the floor again after the app rows: the machine's load drifts, both ends of the window are recorded
    const floorKvAgain = await row(floors.url, "floor", { ...scenarios.floorKv, name: `${scenarios.floorKv.name} (again)` });
    const floorDb = await row(floors.url, "floor", scenarios.floorDb);
    await row(app.url, "current", scenarios.chainDb, connections, floorDb);
    log(
      `kv floor before/after the app rows: ${floorKv.requestsPerSecond.toFixed(0)} / ${floorKvAgain.requestsPerSecond.toFixed(0)} req/s`,
    );
    await app.stop();

    // The chain's parts: the exact (Durable Object) rate-limit mode, and the revision before this work.
    const exact = await startWorker("edge-exact", { ...appVars, RATE_LIMIT_MODE: "exact" }, hyperdriveConfig(ctx.databaseUrl));
    await warmUsers(exact.url, clientTokens);
    await row(exact.url, "exact rate limit", scenarios.chain, connections, floorConstant);
    await exact.stop();
    if (EDGE_BASELINE !== "none") {
      const config = baselineWorktree(EDGE_BASELINE);
      const proxyUrl = await startProxy(ctx.databaseUrl);
      if (config) {
        const before = await startWorker("edge-baseline", { ...appVars, WS_PROXY: proxyUrl }, config);
        await warmUsers(before.url, clientTokens);
        await warmMatches(before.url, clientTokens.slice(0, hitClients));
        await row(before.url, "baseline", scenarios.chain, connections, floorConstant);
        await row(before.url, "baseline", scenarios.matchHit, connections, floorKv);
        await row(before.url, "baseline", { ...scenarios.coachHit, name: "GET /coaches/{id}" }, connections, floorKv);
        await before.stop();
      }
    }
    await floors.stop();
  }

  if (SUITES.has("far")) {
    const binary = pgbouncerBinary(log);
    if (!binary) {
      log("pgbouncer not available: far-database suite skipped");
      return;
    }
    log(`far-database suite: Worker -> Hyperdrive path -> PgBouncer (near) -> TCP proxy (+${FAR_RTT_MS} ms RTT) -> Postgres`);
    const target = new URL(ctx.databaseUrl);
    // One request in flight: the p50 is then latency only. At 4 connections on 2 cores the rtt-0 run
    // queued on the CPU and the rtt-50 run did not (its requests wait on the network), which made one
    // query read as 0.74 far round trips instead of 1.
    const farConnections = 1;
    const farScenarios: Scenario[] = [
      { ...scenarios.chain, name: "chain, no database" },
      scenarios.chainDb,
      scenarios.matchHit,
      {
        name: "GET /coaches/{id} (edge miss)",
        method: "GET",
        request: () => ({ path: `/coaches/${pick(ctx.coachRows).id}`, token: anyToken() }),
      },
      {
        name: "GET /coaches?language&country (edge miss)",
        method: "GET",
        request: () => {
          const combo = pick(ctx.combos);
          const skip = Math.floor(random() * 50) * 20;
          return {
            path: `/coaches?language=${encodeURIComponent(combo.language)}&country=${encodeURIComponent(combo.country)}&skip=${skip}`,
            token: anyToken(),
          };
        },
      },
      { name: "GET /profile", method: "GET", request: () => ({ path: "/profile", token: anyToken() }) },
      {
        name: "GET /community/posts/{id}",
        method: "GET",
        request: () => ({ path: `/community/posts/${pick(ctx.postIds)}`, token: anyToken() }),
      },
      {
        name: "GET /booking/client/{id}",
        method: "GET",
        request: () => {
          const index = Math.floor(random() * ctx.active.length);
          return { path: `/booking/client/${ctx.active[index]}`, token: clientTokens[index]! };
        },
      },
    ];
    // The write journeys (scripts/bench/far-writes.ts): their own clients' tokens, a pool of coaches
    // (warm on the Worker, tokens signed as the bench signs clients'), the bench admin, a local Stripe stand-in.
    const key = new TextEncoder().encode(ctx.jwtSecret);
    const signed = async (sub: string, role: "client" | "coach" | "admin") =>
      (await signToken(key, { sub, role, type: "access" }, new Date())).token;
    const writeClients = ctx.active.slice(0, 100).map((id, index) => ({ id, token: clientTokens[index]! }));
    const writeCoaches = await Promise.all(
      ctx.coachRows.slice(100, 140).map(async (coach) => ({
        id: coach.user_id,
        availability: coach.availability,
        token: await signed(coach.user_id, "coach"),
      })),
    );
    const adminId = await ensureBenchAdmin(ctx.db);
    cleanups.push(() => removeBenchAdmin(ctx.db, adminId));
    const admin = { id: adminId, token: await signed(adminId, "admin") };
    const stripe = await startFakeStripe();
    cleanups.push(() => stripe.close());
    // Both stacks run side by side and take turns (each read scenario at rtt 0 then at rtt 50, the write
    // journeys iteration by iteration): on a shared machine the load drifts within seconds, and the two
    // p50s of one operation are then taken under the same load.
    const appConfig = FAR_REVISION ? baselineWorktree(FAR_REVISION) : path.join(projectRoot, "wrangler.toml");
    if (!appConfig) return;
    if (FAR_REVISION) log(`far suite: the app Worker is built from ${FAR_REVISION}`);
    const rtts = [0, FAR_RTT_MS];
    const stacks: Array<{ rtt: number; url: string; stop: () => Promise<void> }> = [];
    for (const rtt of rtts) {
      const delay = await startJsonChild<{ port: number }>("scripts/bench/delay-proxy.ts", [
        `${target.hostname}:${target.port || "5432"}`,
        String(rtt),
      ]);
      const viaDelay = new URL(ctx.databaseUrl);
      viaDelay.host = `127.0.0.1:${delay.port}`;
      const pooler = await startPooler(binary, viaDelay.toString(), await freePort());
      cleanups.push(() => pooler.stop());
      const pooled = new URL(ctx.databaseUrl);
      pooled.host = `127.0.0.1:${pooler.port}`;
      const worker = await startWorker(
        `far-${rtt}`,
        {
          ...appVars,
          DATABASE_URL: pooled.toString(),
          // POST /payment/checkout talks to Stripe: the local stand-in (near the Worker, as Stripe's API is to the edge).
          STRIPE_SECRET_KEY: "sk_test_local_stand_in",
          STRIPE_API_BASE: stripe.url,
        },
        hyperdriveConfig(pooled.toString(), appConfig),
      );
      await warmUsers(worker.url, clientTokens.slice(0, 100));
      await warmMatches(worker.url, clientTokens.slice(0, hitClients));
      // Writes: every coach's and the admin's rate-limit state exists before anything is measured.
      await warmUsers(worker.url, [...writeCoaches.map((coach) => coach.token), admin.token]);
      stacks.push({
        rtt,
        url: worker.url,
        stop: async () => {
          await worker.stop();
          await pooler.stop();
          // Prints how late its timers fired (the machine's load shows up there as extra far latency).
          await delay.stop();
        },
      });
    }
    const byRtt: Record<number, Measurement[]> = Object.fromEntries(rtts.map((rtt) => [rtt, []]));
    for (const scenario of farScenarios) {
      for (const stack of stacks) byRtt[stack.rtt]!.push(await row(stack.url, `rtt ${stack.rtt} ms`, scenario, farConnections));
    }
    log("write journeys, one request at a time, the two stacks taking turns");
    const created = newCreated();
    const world = { db: ctx.db, clients: writeClients, coaches: writeCoaches, admin, random, cursors: newCursors() };
    let writeRows: WriteRow[][] = [];
    try {
      writeRows = await driveWrites(
        stacks.map((stack) => ({
          label: `rtt ${stack.rtt} ms`,
          base: stack.url,
          journeys: writeJourneys(world, created),
        })),
        { seconds: DURATION, minIterations: 20, maxIterations: 60, warmupIterations: 2, log },
      );
    } finally {
      // The next run starts from the same database.
      await cleanupWrites(ctx.db, created);
    }
    stacks.forEach((stack, at) => {
      for (const write of writeRows[at] ?? []) {
        const measured: Measurement = {
          scenario: `write: ${write.operation}`,
          worker: `rtt ${stack.rtt} ms`,
          connections: 1,
          requestsPerSecond: 0,
          p50: write.p50,
          p99: write.p99,
          requests: write.requests,
          errors: write.errors,
          statuses: write.statuses,
          roundTrips: write.statements,
          driver: "sequential",
        };
        results.push(measured);
        byRtt[stack.rtt]!.push(measured);
      }
    });
    for (const stack of stacks) await stack.stop();
    log("far round trips = (p50 at 50 ms - p50 at 0 ms) / 50:");
    for (const [index, near] of (byRtt[0] ?? []).entries()) {
      const far = byRtt[FAR_RTT_MS]?.[index];
      if (!far) continue;
      const trips = (far.p50 - near.p50) / FAR_RTT_MS;
      far.limit = "far round trips";
      far.ratio = trips;
      log(`  ${near.scenario}: p50 ${near.p50} -> ${far.p50} ms = ${trips.toFixed(2)} far round trips`);
    }
    const farTrips = (scenario: string) => byRtt[FAR_RTT_MS]?.find((candidate) => candidate.scenario === scenario)?.ratio;
    const create = farTrips("write: POST /booking");
    const cancel = farTrips("write: DELETE /booking/{id}");
    if (create !== undefined && cancel !== undefined)
      log(
        `  POST /booking + DELETE /booking/{id}: ${create.toFixed(2)} + ${cancel.toFixed(2)} = ${(create + cancel).toFixed(2)} far round trips (budget 4)`,
      );
    const farTable = (byRtt[0] ?? []).map((near, index) => {
      const far = byRtt[FAR_RTT_MS]?.[index];
      return [
        near.scenario,
        String(near.p50),
        far ? String(far.p50) : "-",
        far?.ratio === undefined || Number.isNaN(far.ratio) ? "-" : far.ratio.toFixed(2),
        near.roundTrips === null ? "-" : String(near.roundTrips),
        String(near.requests + (far?.requests ?? 0)),
        String(near.errors + (far?.errors ?? 0)),
      ];
    });
    printTable(
      [
        `far database (+${FAR_RTT_MS} ms RTT), 1 request in flight`,
        "p50 @0",
        `p50 @${FAR_RTT_MS}`,
        "far rt",
        "statements",
        "requests",
        "errors",
      ],
      farTable,
    );
    console.log(
      `load average (1, 5, 15 min): ${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(", ")}`,
    );
  }
}

/** A markdown table on stdout: the first column left-aligned, the others right-aligned. */
function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

async function main() {
  const loadAverageAtStart = os.loadavg();
  fs.mkdirSync(path.join(projectRoot, ".bench"), { recursive: true });
  const databaseUrl = await prepareDatabase();
  await migrateUrl(databaseUrl);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  cleanups.push(() => db.end());
  if (await isSeeded(db)) {
    log(`database ${BENCH_DB} already seeded: not seeding`);
  } else {
    log(
      `seeding ${MARKET.coaches.toLocaleString("en")} coaches, ${MARKET.clients.toLocaleString("en")} clients, ` +
        `${MARKET.posts.toLocaleString("en")} posts ...`,
    );
    const seconds = await seedMarket(db, MARKET, log);
    log(`seeded in ${seconds.toFixed(1)} s`);
  }

  // Samples the load is drawn from.
  const clientIds = (
    await db.query<{ id: string }>(`select id from users where email like 'client-%@bench.culturebridge.test' order by email`)
  ).rows.map((row) => row.id);
  const coachRows = (
    await db.query<{ user_id: string; id: string; availability: Availability }>(
      // Only this market's coaches (other tools, e.g. bench:match, may keep their own rows in the same database).
      `select cp.user_id, cp.id, cp.availability from coach_profiles cp tablesample system (10) repeatable (42)
         join users u on u.id = cp.user_id where u.email like 'coach-%@bench.culturebridge.test' limit 5000`,
    )
  ).rows;
  const postIds = (
    await db.query<{ id: string }>(
      `select id from posts where not is_private and title like 'Question %' order by created_at desc limit 2000`,
    )
  ).rows.map((row) => row.id);
  /** URLs the no-repeats scenario has asked (both Workers: none is asked twice in a run). */
  const askedPaths = new Set<string>();
  const combos = (
    await db.query<{ language: string; country: string }>(
      `select l as language, c as country, count(*) as n
         from coach_profiles, unnest(languages) l, unnest(countries) c
        group by 1, 2 order by n desc limit 12`,
    )
  ).rows;
  log(
    `samples: ${clientIds.length} clients, ${coachRows.length} coaches, ${postIds.length} posts, ${combos.length} language+country filters`,
  );

  const jwtSecret = randomBytes(48).toString("base64url");
  const key = new TextEncoder().encode(jwtSecret);
  const now = new Date();
  // The active users of the run. Every user has its own rate-limit Durable Object; a user's first
  // request creates it (tens of ms locally), later ones find it warm, as in steady production use.
  const active = clientIds.slice(0, Math.min(ACTIVE_CLIENTS, clientIds.length));
  const clientTokens = await Promise.all(
    active.map(async (id) => (await signToken(key, { sub: id, role: "client", type: "access" }, now)).token),
  );

  const proxyUrl = await startProxy(databaseUrl);
  const vars = {
    ENVIRONMENT: "development",
    DATABASE_URL: databaseUrl,
    WS_PROXY: proxyUrl,
    JWT_SECRET: jwtSecret,
    RATE_LIMIT_PER_MINUTE: "1000000000",
    CORS_ORIGINS: "",
  };
  const results: Measurement[] = [];
  if (SUITES.has("edge") || SUITES.has("far")) {
    await edgeSuites({ databaseUrl, jwtSecret, clientTokens, active, coachRows, postIds, combos, results, db });
  }
  if (SUITES.has("main")) {
    const current = await startWorker("current", vars);

    const random = Math.random;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    let clientCursor = 0;
    /** Round-robin over the active clients: at most 3 unpaid bookings each. */
    const nextClient = () => {
      clientCursor = (clientCursor + 1) % active.length;
      return clientCursor;
    };
    const anyToken = () => clientTokens[nextClient()]!;
    const hitClients = Math.min(MATCH_HIT_CLIENTS, active.length);

    const clearFutureBookings = async () => {
      // Only what the booking scenario made: pending sessions in the future (the seeded ones are past and completed).
      await db.query(`delete from bookings where status = 'pending' and session_datetime > now()`);
    };

    const limitScenarios: Record<Limit, Scenario> = {
      constant: { name: "limit: constant", method: "GET", request: () => ({ path: "/dev/bench/constant", token: anyToken() }) },
      kv: { name: "limit: one KV read", method: "GET", request: () => ({ path: "/dev/bench/kv", token: anyToken() }) },
      db: { name: "limit: one SELECT 1", method: "GET", request: () => ({ path: "/dev/bench/db", token: anyToken() }) },
    };
    const costModel: Scenario[] = [
      {
        name: "cost: 2 statements, 1 connection",
        limit: "db",
        method: "GET",
        request: () => ({ path: "/dev/bench/db?round_trips=2", token: anyToken() }),
        connections: [50],
      },
      {
        name: "cost: 2 parallel statements (2 connections)",
        limit: "db",
        method: "GET",
        request: () => ({ path: "/dev/bench/db?parallel=2", token: anyToken() }),
        connections: [50],
      },
    ];
    const scenarios: Scenario[] = [
      {
        name: "POST /match cache hit",
        pooled: true,
        limit: "kv",
        method: "POST",
        request: () => ({ path: "/match", token: clientTokens[Math.floor(random() * hitClients)]!, body: {} }),
      },
      {
        name: "POST /match force_refresh",
        limit: "db",
        method: "POST",
        // CPU-bound in Postgres (the candidate statement ranks every coach sharing a language) and in
        // the Worker (the engine): past a few in flight per core more connections only queue, and at
        // 50 the first answers take longer than a whole measurement.
        connections: [4, 8],
        request: () => ({
          path: "/match",
          token: clientTokens[hitClients + Math.floor(random() * (active.length - hitClients))]!,
          body: { force_refresh: true },
        }),
      },
      {
        name: "GET /coaches language+country",
        limit: "db",
        method: "GET",
        request: () => {
          const combo = pick(combos);
          return {
            path: `/coaches?language=${encodeURIComponent(combo.language)}&country=${encodeURIComponent(combo.country)}`,
            token: anyToken(),
          };
        },
      },
      {
        // Only misses: every request a URL this run has not asked before (a page of 1..25 coaches at
        // any offset below 1,000 of the 12 filters' ~8,000-coach ranges). The scenario above repeats about half
        // of its 1,320 URLs in a pooled run (those are edge hits); this one never does.
        name: "GET /coaches language+country (edge misses only)",
        limit: "db",
        method: "GET",
        pooled: true,
        edgeCacheOff: true,
        request: () => {
          const combo = pick(combos);
          let path: string;
          do {
            const skip = Math.floor(random() * 1000);
            const limit = 1 + Math.floor(random() * 25);
            path = `/coaches?language=${encodeURIComponent(combo.language)}&country=${encodeURIComponent(combo.country)}&skip=${skip}&limit=${limit}`;
          } while (askedPaths.has(path));
          askedPaths.add(path);
          return { path, token: anyToken() };
        },
      },
      {
        // The same searches, but pages the edge cache has mostly not seen (10 pages x 11 sizes x 12
        // filters): what a miss costs, i.e. the statement at 100,000 coaches through the Worker.
        name: "GET /coaches language+country (edge miss)",
        limit: "db",
        method: "GET",
        pooled: true,
        edgeCacheOff: true,
        request: () => {
          const combo = pick(combos);
          const skip = Math.floor(random() * 10) * 20;
          const limit = 15 + Math.floor(random() * 11);
          return {
            path: `/coaches?language=${encodeURIComponent(combo.language)}&country=${encodeURIComponent(combo.country)}&skip=${skip}&limit=${limit}`,
            token: anyToken(),
          };
        },
      },
      {
        name: "GET /coaches/{id}",
        limit: "db",
        method: "GET",
        pooled: true,
        request: () => ({ path: `/coaches/${pick(coachRows).id}`, token: anyToken() }),
      },
      {
        name: "GET /community/posts",
        limit: "db",
        method: "GET",
        pooled: true,
        baseline: true,
        request: () => ({ path: "/community/posts", token: anyToken() }),
      },
      {
        name: "POST /booking",
        pooled: true,
        limit: "db",
        method: "POST",
        baseline: true,
        before: clearFutureBookings,
        request: () => {
          const coach = pick(coachRows);
          const start = randomSlot(coach.availability, 60, Date.now(), random) ?? new Date(Date.now() + 30 * 86_400_000);
          return {
            path: "/booking",
            token: anyToken(),
            body: { coach_id: coach.user_id, session_datetime: start.toISOString(), duration_minutes: 60 },
          };
        },
      },
    ];
    // Endpoints whose round trips this work cut, driven before/after (50 connections).
    const changed: Scenario[] = [
      {
        name: "GET /booking/client/{id}",
        limit: "db",
        method: "GET",
        baseline: true,
        connections: [50],
        request: () => {
          const index = nextClient();
          return { path: `/booking/client/${active[index]}`, token: clientTokens[index]! };
        },
      },
      {
        name: "GET /community/posts/{id}",
        limit: "db",
        method: "GET",
        baseline: true,
        pooled: true,
        connections: [50],
        request: () => ({ path: `/community/posts/${pick(postIds)}`, token: anyToken() }),
      },
    ];

    const wanted = (scenario: Scenario) => !ONLY || ONLY.has(scenario.name);

    // Every active user's Durable Object exists before anything is measured.
    await warmUsers(current.url, clientTokens);
    // The cache-hit scenario needs cached matches: compute them once (cold), a few at a time.
    if (wanted(scenarios[0]!)) await warmMatches(current.url, clientTokens.slice(0, hitClients));

    /**
     * A scenario and, right before it at the same connection count, the limit it is compared with:
     * the machine is shared and its background load drifts, so a limit from minutes earlier would skew the ratio.
     */
    const pair = async (
      base: string,
      worker: Measurement["worker"],
      scenario: Scenario,
      connectionList: number[],
      withLimit = true,
    ) => {
      // The baseline revision has no limit routes: its limits are the current Worker's (same chain, same database).
      const limitBase = worker === "baseline" ? current.url : base;
      const limitWorker = worker === "baseline" ? "current" : worker;
      for (const connections of connectionList) {
        let limitRow: Measurement | undefined;
        if (scenario.limit && withLimit) {
          limitRow = await measure(limitBase, limitWorker, limitScenarios[scenario.limit], connections);
          limitRow.pairedWith = scenario.name;
          results.push(limitRow);
        }
        const row = await measure(base, worker, scenario, connections);
        if (limitRow) {
          row.limitRequestsPerSecond = limitRow.requestsPerSecond;
          row.ratio = row.requestsPerSecond / limitRow.requestsPerSecond;
        }
        results.push(row);
      }
    };

    if (wanted(limitScenarios.constant))
      for (const connections of CONNECTIONS)
        results.push(await measure(current.url, "current", limitScenarios.constant, connections));
    for (const scenario of costModel.filter(wanted))
      await pair(current.url, "current", scenario, scenario.connections ?? CONNECTIONS, false);
    for (const scenario of scenarios.filter(wanted))
      await pair(current.url, "current", scenario, scenario.connections ?? CONNECTIONS);
    for (const scenario of changed.filter(wanted))
      await pair(current.url, "current", scenario, scenario.connections ?? CONNECTIONS);

    const uncachedScenarios = scenarios.filter((scenario) => scenario.edgeCacheOff && wanted(scenario));
    if (uncachedScenarios.length > 0) {
      const uncached = await startWorker("no-edge-cache", { ...vars, EDGE_CACHE: "off" });
      await warmUsers(uncached.url, clientTokens);
      for (const scenario of uncachedScenarios) await pair(uncached.url, "no-edge-cache", scenario, [50]);
      await uncached.stop();
    }

    const baselineScenarios = [...scenarios, ...changed].filter((scenario) => scenario.baseline && wanted(scenario));
    if (BASELINE !== "none" && baselineScenarios.length > 0) {
      const config = baselineWorktree(BASELINE);
      if (config) {
        const baseline = await startWorker("baseline", vars, config);
        await warmUsers(baseline.url, clientTokens);
        for (const scenario of baselineScenarios) await pair(baseline.url, "baseline", scenario, [50]);
        await baseline.stop();
      }
    }
    // The lever for every database scenario: the same code through a transaction pooler (PgBouncer,
    // as Neon's pooled endpoint or Hyperdrive), so that a request's connection gets a warm backend.
    const pooledScenarios = [...scenarios, ...changed].filter((scenario) => scenario.pooled && wanted(scenario));
    if (process.env.BENCH_POOLED !== "0" && pooledScenarios.length > 0) {
      const binary = pgbouncerBinary(log);
      if (!binary) {
        log("pgbouncer not available: the [pooled] rows are skipped");
      } else {
        const pooler = await startPooler(binary, databaseUrl, await freePort());
        cleanups.push(() => pooler.stop());
        const pooledUrl = new URL(databaseUrl);
        pooledUrl.host = `127.0.0.1:${pooler.port}`;
        // Through the Hyperdrive binding's path (wrangler's local emulation, TCP to PgBouncer), as in
        // production: the WebSocket proxy of the unpooled rows forwards to the database itself.
        const pooled = await startWorker(
          "pooled",
          { ...vars, DATABASE_URL: pooledUrl.toString() },
          configWithHyperdrive(pooledUrl.toString()),
        );
        await warmUsers(pooled.url, clientTokens);
        // Its KV is its own: the first match request per client refills it from the match_cache row.
        await warmMatches(pooled.url, clientTokens.slice(0, hitClients));
        for (const scenario of pooledScenarios) await pair(pooled.url, "pooled", scenario, [50]);
        await pooled.stop();
        const pooledUncached = pooledScenarios.filter((scenario) => scenario.edgeCacheOff);
        if (pooledUncached.length > 0) {
          const uncached = await startWorker(
            "pooled-no-edge-cache",
            { ...vars, DATABASE_URL: pooledUrl.toString(), EDGE_CACHE: "off" },
            configWithHyperdrive(pooledUrl.toString()),
          );
          await warmUsers(uncached.url, clientTokens);
          for (const scenario of pooledUncached) await pair(uncached.url, "pooled-no-edge-cache", scenario, [50]);
          await uncached.stop();
        }
        await pooler.stop();
      }
    }
    await clearFutureBookings();
    // The cost-model rows are read against the one-query limit of their connection count.
    for (const row of results.filter((candidate) => candidate.scenario.startsWith("cost:"))) {
      const limit = results.find(
        (candidate) => candidate.scenario === limitScenarios.db.name && candidate.connections === row.connections,
      );
      if (limit) {
        row.limitRequestsPerSecond = limit.requestsPerSecond;
        row.ratio = row.requestsPerSecond / limit.requestsPerSecond;
      }
    }
  }
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    wrangler: JSON.parse(fs.readFileSync(path.join(projectRoot, "node_modules/wrangler/package.json"), "utf8")).version as string,
    postgres: (await db.query<{ server_version: string }>("show server_version")).rows[0]?.server_version ?? "unknown",
  };
  const output = {
    date: new Date().toISOString(),
    loadAverageAtStart,
    loadAverageAtEnd: os.loadavg(),
    durationSeconds: DURATION,
    baseline: BASELINE,
    ...(FAR_REVISION ? { farRevision: FAR_REVISION } : {}),
    machine,
    market: MARKET,
    results,
  };
  fs.writeFileSync(path.join(projectRoot, ".bench", "results.json"), `${JSON.stringify(output, null, 2)}\n`);

  const rows = results
    .filter((row) => !row.pairedWith)
    .map((row) => [
      `${row.worker === "baseline" ? "[before] " : row.worker === "current" ? "" : `[${row.worker}] `}${row.scenario}`,
      String(row.connections),
      row.driver === "sequential" ? "-" : row.requestsPerSecond.toFixed(0),
      String(row.p50),
      String(row.p99),
      String(row.errors),
      row.roundTrips === null ? "-" : String(row.roundTrips),
      row.limitRequestsPerSecond === undefined ? "" : row.limitRequestsPerSecond.toFixed(0),
      row.ratio === undefined
        ? ""
        : row.limit === "far round trips"
          ? `${row.ratio.toFixed(2)} far round trips`
          : `${(row.ratio * 100).toFixed(0)} % of ${row.limit}`,
    ]);
  console.log(`\n${JSON.stringify(machine)}`);
  printTable(["scenario", "conns", "req/s", "p50 ms", "p99 ms", "errors", "db rt", "limit req/s", "ratio"], rows);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; results in .bench/results.json`);
}

main()
  .then(cleanup, async (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
    await cleanup();
  })
  .then(() => process.exit());
