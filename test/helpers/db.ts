/** Direct database access for test set-up and assertions (node-postgres on the test database). */
import pg from "pg";
import { inject } from "vitest";

let pool: pg.Pool | undefined;

export function testPool(): pg.Pool {
  pool ??= new pg.Pool({ connectionString: inject("databaseUrl"), max: 25 });
  return pool;
}

export async function query<T extends pg.QueryResultRow = Record<string, unknown>>(
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const result = await testPool().query<T>(text, params);
  return result.rows;
}

export async function closeTestPool(): Promise<void> {
  await pool?.end();
  pool = undefined;
}

export function isRealPostgres(): boolean {
  return inject("databaseKind") === "postgres";
}
