/** A drizzle handle over node-postgres for Node-side scripts (seed, admin:create, import). */

import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../../drizzle/schema.ts";

export function connectNode(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const db = drizzle({ client: pool, schema });
  return { db, close: () => pool.end() };
}
