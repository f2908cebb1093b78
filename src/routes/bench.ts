/**
 * The physical limits the benchmark (`npm run bench`, BENCHMARKS.md) compares
 * every scenario with, served by the same Worker through the same middleware
 * chain (request id, security headers, CORS, JWT parse, rate-limit Durable
 * Object, body limit, per-request database pool), so that a ratio "scenario /
 * limit" only measures what the scenario adds:
 *
 * - GET /dev/bench/constant: nothing but the chain;
 * - GET /dev/bench/kv: the chain + one KV read (what a match cache hit could cost at best);
 * - GET /dev/bench/db: the chain + one `SELECT 1` through c.var.db (what any
 *   read endpoint costs at best: the per-request Pool opens one WebSocket
 *   connection to the proxy / Neon, authenticates, runs the statement).
 *   `round_trips` and `parallel` price the two ways a handler can exceed that:
 *   more statements on the one connection, or concurrent statements, which a
 *   per-request Pool serves with one more connection each.
 *
 * Served only where ENVIRONMENT is development or test: elsewhere the paths
 * do not exist (404 NOT_FOUND, as /dev/emails).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { Context } from "hono";
import { notFound } from "../lib/errors.ts";
import { errorResponses, jsonContent } from "../lib/openapi.ts";
import { createRouter, type RouterEnv } from "../lib/router.ts";

/** The KV key the kv route reads; it never exists, a miss costs the same lookup as a hit of a small value. */
export const BENCH_KV_KEY = "bench:probe";

function developmentOnly(c: Context<RouterEnv>): void {
  if (!c.var.config.isLocal) throw notFound("Route");
}

const TAGS = ["Development"];
const ONLY_IN_DEVELOPMENT = "Served only when ENVIRONMENT is development or test (404 elsewhere). Used by `npm run bench`.";

const constantRoute = createRoute({
  method: "get",
  path: "/dev/bench/constant",
  tags: TAGS,
  summary: "Benchmark limit: a constant answer through the full middleware chain",
  description: ONLY_IN_DEVELOPMENT,
  responses: {
    200: jsonContent(z.object({ status: z.literal("ok") }).openapi("BenchConstant"), "Always the same body"),
    ...errorResponses(404),
  },
});

const kvRoute = createRoute({
  method: "get",
  path: "/dev/bench/kv",
  tags: TAGS,
  summary: "Benchmark limit: one KV read of MATCH_CACHE",
  description: ONLY_IN_DEVELOPMENT,
  responses: {
    200: jsonContent(z.object({ found: z.boolean() }).openapi("BenchKv"), "Whether the probe key exists"),
    ...errorResponses(404),
  },
});

const DbQuery = z.object({
  round_trips: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(1)
    .openapi({ description: "Sequential statements on the request's connection (default 1)", example: 1 }),
  parallel: z.coerce
    .number()
    .int()
    .min(1)
    .max(5)
    .default(1)
    .openapi({ description: "Concurrent statements per round (each one more pooled connection; default 1)", example: 1 }),
});

const dbRoute = createRoute({
  method: "get",
  path: "/dev/bench/db",
  tags: TAGS,
  summary: "Benchmark limit: one `SELECT 1` through the request's database handle",
  description: `${ONLY_IN_DEVELOPMENT} With the defaults this is the floor of every read endpoint: one connection, one statement.`,
  request: { query: DbQuery },
  responses: {
    200: jsonContent(
      z.object({ result: z.number().int(), round_trips: z.number().int(), parallel: z.number().int() }).openapi("BenchDb"),
      "The statements ran",
    ),
    ...errorResponses(404, 503),
  },
});

export const benchRoutes = createRouter()
  .openapi(constantRoute, (c) => {
    developmentOnly(c);
    return c.json({ status: "ok" as const }, 200);
  })
  .openapi(kvRoute, async (c) => {
    developmentOnly(c);
    const value = await c.env.MATCH_CACHE.get(BENCH_KV_KEY, "text");
    return c.json({ found: value !== null }, 200);
  })
  .openapi(dbRoute, async (c) => {
    developmentOnly(c);
    const { round_trips: roundTrips, parallel } = c.req.valid("query");
    let result = 0;
    for (let round = 0; round < roundTrips; round++) {
      const answers = await Promise.all(
        Array.from({ length: parallel }, () => c.var.db.execute<{ one: number }>(sql`select 1 as one`)),
      );
      result = Number(answers[0]?.rows[0]?.one ?? 0);
    }
    return c.json({ result, round_trips: roundTrips, parallel }, 200);
  });
