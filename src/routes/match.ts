import { createRoute, z } from "@hono/zod-openapi";
import type { Context, TypedResponse } from "hono";
import { CoachListItemSchema } from "../contract/coaches.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi.ts";
import type { RouterEnv } from "../lib/router.ts";
import { createRouter } from "../lib/router.ts";
import { requireRole, requireUser } from "../middleware/auth.ts";
import { dataVersion } from "../platform/edge-versions.ts";
import type { EmbeddingService } from "../services/matching/semantic.ts";
import {
  clearMatchCache,
  MAX_MATCH_LIMIT,
  type MatchDeps,
  matchCacheInfo,
  matchResponseJson,
} from "../services/matching/service.ts";

const MatchRequestSchema = z
  .object({
    force_refresh: z.boolean().optional().openapi({ description: "Recompute even when a cached result exists" }),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_MATCH_LIMIT)
      .optional()
      .openapi({ description: "Number of matches (default 10)", example: 10 }),
    use_cache: z
      .boolean()
      .optional()
      .openapi({ description: "Previous backend's flag: false = force_refresh", deprecated: true }),
  })
  .openapi("MatchRequest");

const MatchSchema = z
  .object({
    coach: CoachListItemSchema,
    match_score: z.number().int().min(0).max(100),
    confidence: z.enum(["high", "medium", "low"]).openapi({ description: "high >= 75, medium >= 60, else low" }),
    match_reasons: z.array(z.string()).min(1).max(5),
  })
  .openapi("Match");

const MatchResponseSchema = z
  .object({
    matches: z.array(MatchSchema),
    total_matches: z.number().int(),
    cached: z.boolean(),
    generated_at: z.string().openapi({ example: "2026-01-01T10:00:00Z" }),
  })
  .openapi("MatchResponse");

const CacheInfoSchema = z
  .object({
    cache_key: z
      .string()
      .nullable()
      .openapi({ description: "The caller's current cache key; null while the quiz is incomplete" }),
    exists: z.boolean(),
    ttl_seconds: z.number().int().nullable(),
  })
  .openapi("MatchCacheInfo");

const matchRoute = createRoute({
  method: "post",
  path: "/match",
  tags: ["Matching"],
  summary: "Ranked coach matches for the calling client's 20-factor quiz (cached 24 h)",
  security: bearerSecurity,
  // Role before validation: a coach gets 403 whatever its body.
  middleware: [requireRole("client")] as const,
  request: { body: { content: { "application/json": { schema: MatchRequestSchema } }, required: false } },
  responses: {
    200: jsonContent(MatchResponseSchema, "Matches, best first"),
    ...errorResponses(401, 403),
  },
});

const infoRoute = createRoute({
  method: "get",
  path: "/match/cache/info",
  tags: ["Matching"],
  summary: "The caller's current match cache key, whether it is cached and its remaining lifetime",
  security: bearerSecurity,
  middleware: [requireRole("client")] as const,
  responses: {
    200: jsonContent(CacheInfoSchema, "Cache information"),
    ...errorResponses(401, 403),
  },
});

const clearRoute = createRoute({
  method: "delete",
  path: "/match/cache",
  tags: ["Matching"],
  summary: "Forget the caller's cached matches",
  security: bearerSecurity,
  middleware: [requireRole("client")] as const,
  responses: {
    204: { description: "Cleared" },
    ...errorResponses(401, 403),
  },
});

function deps(c: Context<RouterEnv>): MatchDeps {
  return {
    db: c.var.db,
    kv: c.env.MATCH_CACHE,
    // The binding's generic run() accepts our text-embedding call; its full model union is not needed here.
    ai: c.env.AI as unknown as EmbeddingService | undefined,
    now: c.var.now,
    // A hit needs no SQL: the coaches version comes from the isolate / KV (platform/edge-versions.ts).
    edge: { coachesVersion: () => dataVersion(c.env.MATCH_CACHE, "coaches") },
    defer: (promise) => {
      try {
        c.executionCtx.waitUntil(promise);
      } catch {
        // No execution context (plain app.request in Node): let it run on its own.
        void promise;
      }
    },
    log: (message, error) =>
      console.error(
        JSON.stringify({
          level: "warn",
          msg: message,
          request_id: c.var.requestId,
          error: error === undefined ? undefined : String(error),
        }),
      ),
  };
}

export const matchRoutes = createRouter()
  .openapi(matchRoute, async (c) => {
    const user = requireUser(c, "client");
    const body = (c.req.valid("json") ?? {}) as z.infer<typeof MatchRequestSchema>;
    // Already JSON (a hit is cut from the stored text, no re-serialising of the matches);
    // the shape is MatchResponseSchema's, as c.json would send it.
    const text = await matchResponseJson(deps(c), user.id, {
      forceRefresh: body.force_refresh === true || body.use_cache === false,
      limit: body.limit ?? 10,
    });
    const response = c.body(text, 200, { "Content-Type": "application/json" });
    // The text is a MatchResponse (built by JSON.stringify of one, or cut to the same shape: match-cache tests).
    return response as unknown as typeof response & TypedResponse<z.infer<typeof MatchResponseSchema>, 200, "json">;
  })
  .openapi(infoRoute, async (c) => c.json(await matchCacheInfo(deps(c), requireUser(c, "client").id), 200))
  .openapi(clearRoute, async (c) => {
    await clearMatchCache(deps(c), requireUser(c, "client").id);
    return c.body(null, 204);
  });
