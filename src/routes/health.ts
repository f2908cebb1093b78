import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { ErrorSchema } from "../lib/openapi.ts";
import { createRouter } from "../lib/router.ts";
import { isoUtc } from "../lib/time.ts";

const HealthSchema = z
  .object({
    status: z.enum(["healthy", "unhealthy"]),
    timestamp: z.string(),
    version: z.string(),
    database: z.enum(["connected", "disconnected"]),
    cache: z.enum(["connected", "disconnected"]),
    failing: z.array(z.string()).optional(),
  })
  .openapi("Health");

const route = createRoute({
  method: "get",
  path: "/health",
  tags: ["Health"],
  summary: "Liveness and dependency check",
  responses: {
    200: { description: "Healthy", content: { "application/json": { schema: HealthSchema } } },
    503: { description: "A dependency is unreachable", content: { "application/json": { schema: HealthSchema } } },
    // Health checks are rate limited like every route (per IP).
    429: { description: "Rate limit exceeded", content: { "application/json": { schema: ErrorSchema } } },
  },
});

// Below the 5 s probe timeout of common load balancers, so "unhealthy" arrives before they give up.
const CHECK_TIMEOUT_MS = 3_000;

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes = createRouter().openapi(route, async (c) => {
  const [database, cache] = await Promise.all([
    within(c.var.db.execute(sql`select 1`), CHECK_TIMEOUT_MS).then(
      () => "connected" as const,
      (error: unknown) => {
        console.error(JSON.stringify({ level: "error", msg: "health: database check failed", error: String(error) }));
        return "disconnected" as const;
      },
    ),
    within(c.env.MATCH_CACHE.get("health:probe"), CHECK_TIMEOUT_MS).then(
      () => "connected" as const,
      () => "disconnected" as const,
    ),
  ]);
  const failing = [...(database === "connected" ? [] : ["database"]), ...(cache === "connected" ? [] : ["cache"])];
  const body = {
    status: failing.length === 0 ? ("healthy" as const) : ("unhealthy" as const),
    timestamp: isoUtc(new Date()) ?? "",
    version: c.var.config.appVersion,
    database,
    cache,
    ...(failing.length > 0 ? { failing } : {}),
  };
  return failing.length === 0 ? c.json(body, 200) : c.json(body, 503);
});
