import { createRoute, z } from "@hono/zod-openapi";
import type { TypedResponse } from "hono";
import { CoachIdParam, type CoachPage, CoachPageSchema } from "../contract/coaches.ts";
import { CoachProfileSchema } from "../contract/profiles.ts";
import { cleanText } from "../contract/reviews.ts";
import { canonicalLanguage } from "../lib/languages.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi.ts";
import { paginationQuery } from "../lib/pagination.ts";
import { createRouter } from "../lib/router.ts";
import { requireRole } from "../middleware/auth.ts";
import { getCoach, listCoachesJson, searchWords } from "../services/coaches.ts";

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
    verified: z
      .enum(["true", "false"])
      .transform((value) => value === "true")
      .optional()
      .openapi({ description: "v2: only verified (true) or only unverified (false) coaches", example: "true" }),
    q: z
      .string()
      .max(200)
      .refine(cleanText, "Must not contain NUL characters or unpaired surrogates")
      .transform((value, ctx) => {
        const words = searchWords(value);
        if (words.length === 0) {
          ctx.addIssue({ code: "custom", message: "Must contain at least one word (letters or digits)" });
          return z.NEVER;
        }
        return words;
      })
      .optional()
      .openapi({
        description:
          "v2: words that must all occur in the coach's name, bio or expertise (each as a word prefix, any " +
          "case; at most 10 words are used)",
        example: "relocation madrid",
        type: "string",
      }),
  })
  .superRefine((query, ctx) => {
    if (query.min_rate !== undefined && query.max_rate !== undefined && query.min_rate > query.max_rate) {
      ctx.addIssue({ code: "custom", path: ["min_rate"], message: "min_rate must not exceed max_rate" });
    }
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
    200: jsonContent(CoachPageSchema, "A page of coaches"),
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
    // Already JSON: Postgres builds the page's text (services/coaches.ts), nothing is parsed or re-serialised here.
    const text = await listCoachesJson(
      c.var.db,
      {
        languages: query.language,
        countries: query.country,
        expertise: query.expertise,
        minRate: query.min_rate,
        maxRate: query.max_rate,
        minRating: query.min_rating,
        verified: query.verified,
        words: query.q,
      },
      { skip: query.skip, limit: query.limit },
      // Hyperdrive keeps warm backends; without it every request has a new one (services/coaches.ts).
      c.env.HYPERDRIVE ? "warm" : "fresh",
    );
    const response = c.body(text, 200, { "Content-Type": "application/json" });
    // The text is a CoachPage, byte for byte what c.json would send (coach-list-keys.test.ts).
    return response as unknown as typeof response & TypedResponse<CoachPage, 200, "json">;
  })
  .openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await getCoach(c.var.db, id.toLowerCase()), 200);
  });
