/**
 * The database side of local development and tests: an embedded PGlite
 * served over the Postgres wire protocol, or any Postgres given by URL, with
 * the project's migrations applied.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { btree_gist } from "@electric-sql/pglite/contrib/btree_gist";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { servePglite } from "./pglite-server.ts";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const migrationsFolder = path.join(projectRoot, "migrations");

export interface DatabaseHandle {
  /** postgresql:// URL reachable over TCP on loopback */
  url: string;
  kind: "pglite" | "postgres";
  close(): Promise<void>;
}

/** Applies migrations over TCP with node-postgres (any real Postgres, Neon included). */
export async function migrateUrl(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migratePg(drizzlePg({ client }), { migrationsFolder });
  } finally {
    await client.end();
  }
}

/**
 * Starts PGlite (persisted in `dataDir`, or in memory when undefined) with
 * btree_gist loaded, applies migrations on that instance, and serves it on
 * loopback (scripts/lib/pglite-server.ts). One process per data directory, ever.
 */
export async function startEmbeddedDatabase(options: {
  dataDir?: string;
  port?: number;
  /** See PgliteServerOptions: an idle open transaction blocks every other connection. */
  idleInTransactionTimeoutMs?: number;
}): Promise<DatabaseHandle> {
  const db = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    extensions: { btree_gist },
  });
  await migratePglite(drizzlePglite({ client: db }), { migrationsFolder });
  const server = await servePglite(db, {
    port: options.port ?? 0,
    ...(options.idleInTransactionTimeoutMs === undefined
      ? {}
      : { idleInTransactionTimeoutMs: options.idleInTransactionTimeoutMs }),
  });
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${server.port}/postgres?sslmode=disable`,
    kind: "pglite",
    close: async () => {
      await server.close();
      await db.close();
    },
  };
}

/** Uses an existing Postgres; applies migrations. */
export async function useExternalDatabase(url: string): Promise<DatabaseHandle> {
  await migrateUrl(url);
  return { url, kind: "postgres", close: async () => {} };
}
