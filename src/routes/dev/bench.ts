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
 */
import { createRoute } from "@hono/zod-openapi";
import { BenchConstantSchema, BenchDbQuery, BenchDbSchema, BenchKvSchema } from "../../contract/dev.ts";
import { errorResponses, jsonContent } from "../../lib/openapi.ts";
import { createRouter } from "../../lib/router.ts";
import { probeDatabase } from "../../services/dev-tools.ts";

/** The KV key the kv route reads; it never exists, a miss costs the same lookup as a hit of a small value. */
export const BENCH_KV_KEY = "bench:probe";

const TAGS = ["Development"];
const ONLY_IN_DEVELOPMENT = "Served only when ENVIRONMENT is development or test (404 elsewhere). Used by `npm run bench`.";

const constantRoute = createRoute({
  method: "get",
  path: "/dev/bench/constant",
  tags: TAGS,
  summary: "Benchmark limit: a constant answer through the full middleware chain",
  description: ONLY_IN_DEVELOPMENT,
  responses: {
    200: jsonContent(BenchConstantSchema, "Always the same body"),
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
    200: jsonContent(BenchKvSchema, "Whether the probe key exists"),
    ...errorResponses(404),
  },
});

const dbRoute = createRoute({
  method: "get",
  path: "/dev/bench/db",
  tags: TAGS,
  summary: "Benchmark limit: one `SELECT 1` through the request's database handle",
  description: `${ONLY_IN_DEVELOPMENT} With the defaults this is the floor of every read endpoint: one connection, one statement.`,
  request: { query: BenchDbQuery },
  responses: {
    200: jsonContent(BenchDbSchema, "The statements ran"),
    ...errorResponses(404, 503),
  },
});

export const benchRoutes = createRouter()
  .openapi(constantRoute, (c) => c.json({ status: "ok" as const }, 200))
  .openapi(kvRoute, async (c) => {
    // The raw binding on purpose: this is the floor a KV-backed answer is measured against.
    const value = await c.env.MATCH_CACHE.get(BENCH_KV_KEY, "text");
    return c.json({ found: value !== null }, 200);
  })
  .openapi(dbRoute, async (c) => {
    const { round_trips: roundTrips, parallel } = c.req.valid("query");
    const result = await probeDatabase(c.var.db, roundTrips, parallel);
    return c.json({ result, round_trips: roundTrips, parallel }, 200);
  });
