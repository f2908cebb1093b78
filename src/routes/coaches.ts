import { createRoute, z } from "@hono/zod-openapi";
import { CoachListItemSchema } from "../contract/coaches.ts";
import { CoachProfileSchema } from "../contract/profiles.ts";
import { canonicalLanguage } from "../lib/languages.ts";
import { bearerSecurity, errorResponses, jsonContent, UUID_PATTERN } from "../lib/openapi.ts";
import { pageSchema, paginationQuery } from "../lib/pagination.ts";
import { createRouter } from "../lib/router.ts";
import { requireRole } from "../middleware/auth.ts";
import { getCoach, listCoaches } from "../services/coaches.ts";

/** A filter given once (`?language=Spanish`) or repeated (`?language=Spanish&language=English`); all must match. */
const repeatable = (description: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : [value]).map((entry) => entry.trim()))
    .pipe(z.array(z.string().min(1, "Must not be empty").max(100)).max(20))
    .optional()
    .openapi({ description, type: "array", items: { type: "string" } });

const CoachListQuery = paginationQuery
  .extend({
    language: repeatable("Spoken language (English name, any case); repeat for several, all required").pipe(
      z
        .array(z.string())
        .transform((values, ctx) => {
          const canonical: string[] = [];
          for (const value of values) {
            const language = canonicalLanguage(value);
            if (!language) {
              ctx.addIssue({
                code: "custom",
                message: `Unknown language "${value}"; use an English name such as Spanish or Mandarin Chinese`,
              });
              return z.NEVER;
            }
            canonical.push(language);
          }
          return [...new Set(canonical)];
        })
        .optional(),
    ),
    country: repeatable("Country of experience, exact as the coach wrote it; repeat for several, all required"),
    expertise: repeatable("Area of expertise, exact as the coach wrote it; repeat for several, all required"),
    min_rate: z.coerce.number().min(0).max(1_000_000).optional().openapi({ example: 50 }),
    max_rate: z.coerce.number().min(0).max(1_000_000).optional().openapi({ example: 150 }),
    min_rating: z.coerce.number().min(0).max(5).optional().openapi({ example: 4 }),
  })
  .superRefine((query, ctx) => {
    if (query.min_rate !== undefined && query.max_rate !== undefined && query.min_rate > query.max_rate) {
      ctx.addIssue({ code: "custom", path: ["min_rate"], message: "min_rate must not exceed max_rate" });
    }
  });

const CoachIdParam = z.object({
  id: z
    .string()
    .regex(UUID_PATTERN, "Must be a UUID (coach profile id or user id)")
    .openapi({ param: { name: "id", in: "path" }, example: "0b9c3c3e-2f7e-4a59-9d43-2a4d7a1f2b11" }),
});

const listRoute = createRoute({
  method: "get",
  path: "/coaches",
  tags: ["Coaches"],
  summary: "Discover coaches: active coaches with a rate, filtered (AND), ordered by rating, sessions, id",
  security: bearerSecurity,
  // Authentication before validation: an anonymous caller gets 401, not a 400 about its query.
  middleware: [requireRole()] as const,
  request: { query: CoachListQuery },
  responses: {
    200: jsonContent(pageSchema(CoachListItemSchema, "CoachPage"), "A page of coaches"),
    ...errorResponses(401),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/coaches/{id}",
  tags: ["Coaches"],
  summary: "One coach's full profile, by coach profile id or user id",
  security: bearerSecurity,
  middleware: [requireRole()] as const,
  request: { params: CoachIdParam },
  responses: {
    200: jsonContent(CoachProfileSchema, "The coach profile, including availability and intro video"),
    ...errorResponses(401, 404),
  },
});

export const coachesRoutes = createRouter()
  .openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const result = await listCoaches(
      c.var.db,
      {
        languages: query.language,
        countries: query.country,
        expertise: query.expertise,
        minRate: query.min_rate,
        maxRate: query.max_rate,
        minRating: query.min_rating,
      },
      { skip: query.skip, limit: query.limit },
    );
    return c.json(result, 200);
  })
  .openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await getCoach(c.var.db, id.toLowerCase()), 200);
  });
