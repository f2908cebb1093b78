/**
 * The database handle: drizzle over a per-request pool, by one of two paths.
 *
 * - Hyperdrive (production recommendation of Cloudflare and Neon): when a
 *   `[[hyperdrive]]` binding is configured, node-postgres (`pg`, TCP through
 *   workerd's sockets under nodejs_compat) connects to the binding's
 *   connectionString. Connection setup then happens next to the Worker and
 *   Hyperdrive keeps pooled connections to Neon (transaction mode: nothing in
 *   this code keeps session state across statements; a transaction runs on
 *   one checked-out client between its BEGIN and COMMIT). Locally wrangler
 *   emulates the binding with a direct TCP connection to
 *   `localConnectionString` / CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE.
 * - Otherwise the Neon serverless driver's WebSocket Pool; locally pointed,
 *   by config only, at a WebSocket-to-TCP proxy (`WS_PROXY`).
 *
 * A pool must be created inside the request that uses it (workerd forbids I/O
 * objects shared across requests) and ended after the response. The same
 * factory serves the fetch, scheduled and queue handlers and the Node scripts.
 *
 * Every session counts its statements (round trips) and notes the tables its
 * statements write, which the edge caches use to bump their data versions
 * (platform/edge-versions.ts).
 */
import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../../drizzle/schema.ts";

export type Database = NeonDatabase<typeof schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Either the database or an open transaction: services accept both. */
export type Executor = Database | Transaction;

let configuredProxy: string | undefined;

function configureDriver(wsProxy: string | undefined): void {
  if (!wsProxy || configuredProxy === wsProxy) return;
  configuredProxy = wsProxy;
  const base = wsProxy.replace(/\/$/, "");
  neonConfig.wsProxy = (host, port) => `${base.replace(/^wss?:\/\//, "")}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = base.startsWith("wss://");
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

export interface DatabaseConfig {
  DATABASE_URL: string;
  WS_PROXY?: string;
  /** The Hyperdrive binding's connection string; when given it wins over DATABASE_URL / WS_PROXY. */
  HYPERDRIVE_URL?: string;
}

export interface DatabaseSession {
  db: Database;
  /** Closes the pool's connections; call after the response (waitUntil). */
  end(): Promise<void>;
  /** Number of queries sent through this session (round trips). */
  queryCount(): number;
  /** Tables that INSERT/UPDATE/DELETE statements of this session named (also inside CTEs). */
  writtenTables(): ReadonlySet<string>;
  /** "hyperdrive" or "neon": which path this session took. */
  path: "hyperdrive" | "neon";
}

/** `insert into "t"`, `update t`, `delete from "t"`; other words after them (`for update of`, `do update set`) name no table we map. */
const WRITE_TARGET = /\b(?:insert\s+into|update|delete\s+from)\s+"?([a-z_][a-z0-9_]*)"?/gi;

/**
 * Writes made inside the Postgres functions of migrations/ (one round trip per booking write, admin user PATCH):
 * their SQL is not in the statement text, so the tables each function writes are listed here.
 */
const FUNCTION_WRITES: Record<string, readonly string[]> = {
  booking_create: ["bookings", "email_outbox"],
  booking_reschedule: ["bookings", "booking_reschedules", "email_outbox"],
  // completing a paid session raises total_sessions (coach_profiles) and bumps coaches_version (app_counters)
  booking_set_status: ["bookings", "coach_profiles", "app_counters", "email_outbox"],
  booking_cancel: ["bookings", "payments", "email_outbox"],
  // PATCH /admin/users/{id} (0010); app_counters only when a coach's role or active flag changes,
  // listed always: an extra coaches-section bump costs a cache miss, a missed one a stale cache
  admin_update_user: ["users", "app_counters", "audit_log"],
  // account deletion (0011): every table that holds the user's rows
  account_delete: [
    "users",
    "client_profiles",
    "coach_profiles",
    "post_votes",
    "comments",
    "posts",
    "bookmarks",
    "refresh_tokens",
    "email_tokens",
    "calendar_feeds",
    "match_cache",
    "email_outbox",
    "app_counters",
    "audit_log",
  ],
};
const FUNCTION_CALL = new RegExp(`\\b(${Object.keys(FUNCTION_WRITES).join("|")})\\s*\\(`, "gi");

/** Tables a statement writes: named in INSERT/UPDATE/DELETE, or written by a known function it calls. */
function writtenBy(text: string): string[] {
  const tables = [...text.matchAll(WRITE_TARGET)].map((match) => match[1]!.toLowerCase());
  for (const match of text.matchAll(FUNCTION_CALL)) tables.push(...(FUNCTION_WRITES[match[1]!.toLowerCase()] ?? []));
  return tables;
}

function statementText(args: unknown[]): string | undefined {
  const first = args[0];
  if (typeof first === "string") return first;
  if (first && typeof first === "object" && "text" in first && typeof first.text === "string") return first.text;
  return undefined;
}

interface CountingPool {
  on(event: "connect", listener: (client: { query: (...args: unknown[]) => unknown }) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  end(): Promise<void>;
}

export function createDatabase(config: DatabaseConfig, onError: (error: Error) => void = () => {}): DatabaseSession {
  let pool: CountingPool;
  let db: Database;
  const path = config.HYPERDRIVE_URL ? "hyperdrive" : "neon";
  if (config.HYPERDRIVE_URL) {
    const pgPool = new pg.Pool({ connectionString: config.HYPERDRIVE_URL, max: 5, connectionTimeoutMillis: 10_000 });
    pool = pgPool as unknown as CountingPool;
    // Both drivers are node-postgres' API (Neon's Pool is a fork of pg-pool) under drizzle's pg-core
    // session: the same query builders, the same QueryResult rows; only drizzle's HKT type differs.
    db = drizzlePg({ client: pgPool, schema }) as unknown as Database;
  } else {
    configureDriver(config.WS_PROXY);
    const neonPool = new Pool({ connectionString: config.DATABASE_URL, max: 5, connectionTimeoutMillis: 10_000 });
    pool = neonPool as unknown as CountingPool;
    db = drizzle({ client: neonPool, schema });
  }
  let ended = false;
  // A dropped socket must be logged, never become an uncaught exception. Once
  // the pool is ending, sockets closing under it are expected, not errors.
  pool.on("error", (error: Error) => {
    if (!ended) onError(error);
  });
  let queries = 0;
  const written = new Set<string>();
  // Every statement, through pool.query or a checked-out client (transactions),
  // ends in a client's query(); wrap each new client once.
  pool.on("connect", (client) => {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = (...args: unknown[]) => {
      queries++;
      const text = statementText(args);
      if (text) for (const table of writtenBy(text)) written.add(table);
      return original(...args);
    };
  });
  return {
    db,
    path,
    queryCount: () => queries,
    writtenTables: () => written,
    end: async () => {
      if (ended) return;
      ended = true;
      await pool.end().catch(onError);
    },
  };
}
