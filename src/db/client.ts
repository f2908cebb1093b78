/**
 * The database handle: drizzle over the Neon serverless driver's WebSocket Pool.
 *
 * A Pool must be created inside the request that uses it (workerd forbids I/O
 * objects shared across requests) and ended after the response. The same
 * factory serves the fetch, scheduled and queue handlers and the Node scripts.
 *
 * Locally the driver is pointed, by config only, at a WebSocket-to-TCP proxy in
 * front of a plain Postgres (or PGlite): that is `WS_PROXY`.
 */
import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
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
}

export interface DatabaseSession {
  db: Database;
  pool: Pool;
  /** Closes the pool's connections; call after the response (waitUntil). */
  end(): Promise<void>;
  /** Number of queries sent through this session (round trips). */
  queryCount(): number;
}

export function createDatabase(config: DatabaseConfig, onError: (error: Error) => void = () => {}): DatabaseSession {
  configureDriver(config.WS_PROXY);
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 5, connectionTimeoutMillis: 10_000 });
  let ended = false;
  // A dropped socket must be logged, never become an uncaught exception. Once
  // the pool is ending, sockets closing under it are expected, not errors.
  pool.on("error", (error: Error) => {
    if (!ended) onError(error);
  });
  let queries = 0;
  // Round-trip counter: every statement, through pool.query or a checked-out
  // client (transactions), ends in a client's query(); wrap each new client once.
  pool.on("connect", (client: { query: (...args: unknown[]) => unknown }) => {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      queries++;
      return original(...args);
    };
  });
  const db = drizzle({ client: pool, schema });
  return {
    db,
    pool,
    queryCount: () => queries,
    end: async () => {
      if (ended) return;
      ended = true;
      await pool.end().catch(onError);
    },
  };
}
