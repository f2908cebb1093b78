import { z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";

/** `skip` (default 0) and `limit` (default 20, 1..100); out of range -> 400 through the validation hook. */
export const paginationQuery = z.object({
  skip: z.coerce.number().int().min(0).max(1_000_000).default(0).openapi({ example: 0 }),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
});

export type Pagination = z.infer<typeof paginationQuery>;

export interface Page<T> {
  items: T[];
  total: number;
  skip: number;
  limit: number;
}

export function page<T>(items: T[], total: number, pagination: Pagination): Page<T> {
  return { items, total, skip: pagination.skip, limit: pagination.limit };
}

/** The paginated response schema around an item schema. */
export function pageSchema<T extends z.ZodTypeAny>(item: T, name: string) {
  return z
    .object({ items: z.array(item), total: z.number().int(), skip: z.number().int(), limit: z.number().int() })
    .openapi(name);
}

/** The window column that carries the total on every row of a page (`count(*) over()`). */
export const windowTotal = sql<string>`count(*) over()`;

/**
 * The total of a page read with `windowTotal`: one round trip when the page
 * has rows; an empty first page means none; only a page past the end (no row
 * to carry the window count) needs `countAll`.
 */
export async function pageTotal(
  rows: readonly { total: string | number }[],
  pagination: Pagination,
  countAll: () => Promise<number>,
): Promise<number> {
  if (rows[0]) return Number(rows[0].total);
  if (pagination.skip === 0) return 0;
  return countAll();
}
