import { createMiddleware } from "hono/factory";
import { createDatabase, type Database, type DatabaseSession } from "../db/client.ts";
import { type AppEnv, platformOf } from "../env.ts";
import { createLog } from "../lib/log.ts";
import { bumpDataVersions, sectionsWritten } from "../platform/edge-versions.ts";
import { forgetClientMatches } from "../platform/match-pointer.ts";

/**
 * The request's database handle and `deps` for services, the only place
 * besides index.ts (scheduled, queue) where they are built.
 *
 * The pool is created on first use, not per request: a cache hit (POST /match
 * from KV, an edge-cached read) never pays for one. workerd forbids sharing
 * I/O objects across requests, so it is still one pool per request, ended
 * after the response.
 *
 * After the request, the tables its statements wrote decide what the edge
 * caches must forget (platform/edge-versions.ts): the sections' data versions
 * are bumped (here at once, in KV after the response), and a client who wrote
 * their own profile (quiz) loses their cached matches.
 */
export const database = createMiddleware<AppEnv>(async (c, next) => {
  const config = c.var.config;
  const log = createLog({ request_id: c.var.requestId });
  let session: DatabaseSession | undefined;
  const open = (): DatabaseSession => {
    session ??= createDatabase(
      {
        DATABASE_URL: config.database.url,
        WS_PROXY: config.database.wsProxy,
        HYPERDRIVE_URL: c.env.HYPERDRIVE?.connectionString,
      },
      (error) => log.error("database pool error", { error: error.message }),
    );
    return session;
  };
  // Methods are bound to the real handle, so drizzle's builders see their own instance.
  const db = new Proxy({} as Database, {
    get(_target, property) {
      const real = open().db;
      const value = Reflect.get(real, property, real) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(real) : value;
    },
  });
  const defer = (work: Promise<unknown>) => {
    try {
      c.executionCtx.waitUntil(work);
    } catch {
      // No execution context (plain app.request in Node): let it run.
      void work;
    }
  };
  c.set("db", db);
  c.set("deps", { db, config, now: c.var.now, log, defer, platform: platformOf(c.env) });
  try {
    await next();
  } finally {
    // Round-trip count, for the tests and benchmarks that pin it; not exposed in production.
    if (config.isLocal) c.header("X-DB-Queries", String(session?.queryCount() ?? 0));
    if (session) {
      forgetWrittenData(c.env.MATCH_CACHE, session.writtenTables(), c.var.user, defer, log);
      const ending = session.end();
      try {
        c.executionCtx.waitUntil(ending);
      } catch {
        await ending;
      }
    }
  }
});

function forgetWrittenData(
  kv: KVNamespace | undefined,
  tables: ReadonlySet<string>,
  user: { id: string; role: string } | undefined,
  defer: (work: Promise<unknown>) => void,
  log: { error(msg: string, fields?: Record<string, unknown>): void },
): void {
  if (!kv || tables.size === 0) return;
  const report = (error: unknown) => log.error("edge cache invalidation failed", { error: String(error) });
  // Whether or not the request succeeded: a statement that was sent may have committed;
  // a needless bump costs one cache miss, a missed one a stale answer.
  const sections = sectionsWritten(tables);
  if (sections.length > 0) defer(bumpDataVersions(kv, sections).catch(report));
  if (user?.role === "client" && tables.has("client_profiles")) defer(forgetClientMatches(kv, user.id).catch(report));
}
