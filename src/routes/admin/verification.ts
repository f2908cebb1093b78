/**
 * PATCH /admin/coaches/{id}/verification (contract v2, Admin): an admin marks a coach verified
 * or not; audited; `GET /coaches?verified=true` lists the verified ones.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { CoachIdParam } from "../../contract/coaches.ts";
import { CoachProfileSchema } from "../../contract/profiles.ts";
import { cleanText } from "../../contract/reviews.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../../lib/openapi.ts";
import { createRouter } from "../../lib/router.ts";
import { requireRole, requireUser } from "../../middleware/auth.ts";
import { setCoachVerification } from "../../services/reviews.ts";

const VerificationSchema = z
  .object({
    is_verified: z.boolean(),
    note: z
      .string()
      .trim()
      .min(1)
      .max(1000)
      .refine(cleanText, "Must not contain NUL characters or unpaired surrogates")
      .nullable()
      .optional()
      .openapi({ description: "Why (kept in the audit log)", example: "Credentials checked by video call" }),
  })
  .strict()
  .openapi("CoachVerification");

const verificationRoute = createRoute({
  method: "patch",
  path: "/admin/coaches/{id}/verification",
  tags: ["Admin"],
  summary: "Verify a coach, or withdraw the verification (audited)",
  description:
    "`{id}` is the coach profile id or the coach's user id. Every accepted request writes an audit entry " +
    "(`coach.verification`, with before/after and the note).",
  security: bearerSecurity,
  // Authorization before validation, as every /admin path.
  middleware: [requireRole("admin")] as const,
  request: {
    params: CoachIdParam,
    body: { content: { "application/json": { schema: VerificationSchema } }, required: true },
  },
  responses: {
    200: jsonContent(CoachProfileSchema, "The coach profile"),
    ...errorResponses(401, 403, 404),
  },
});

export const adminVerificationRoutes = createRouter().openapi(verificationRoute, async (c) => {
  const actor = requireUser(c, "admin");
  const body = c.req.valid("json");
  const profile = await setCoachVerification(c.var.db, {
    actorId: actor.id,
    coachRef: c.req.valid("param").id.toLowerCase(),
    isVerified: body.is_verified,
    note: body.note ?? null,
    now: c.var.now,
  });
  return c.json(profile, 200);
});
