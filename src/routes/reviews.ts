/**
 * Reviews (contract v2): a client reviews a completed session, anyone signed in reads a coach's
 * reviews, an admin removes one. Thin: validate -> services/reviews.ts -> shape.
 */

import { createRoute } from "@hono/zod-openapi";
import { CoachIdParam } from "../contract/coaches.ts";
import { IdParam } from "../contract/common.ts";
import { CoachReviewSchema, ReviewCreateSchema, ReviewSchema } from "../contract/reviews.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi.ts";
import { pageSchema, paginationQuery } from "../lib/pagination.ts";
import { createRouter } from "../lib/router.ts";
import { requireRole, requireUser } from "../middleware/auth.ts";
import { createReview, deleteReviewAsAdmin, listCoachReviews, REVIEW_WINDOW_DAYS } from "../services/reviews.ts";

const CoachReviewPageSchema = pageSchema(CoachReviewSchema, "CoachReviewPage");

const createReviewRoute = createRoute({
  method: "post",
  path: "/booking/{id}/review",
  tags: ["Bookings"],
  summary: "Review a completed session (the booking's client only; one review per booking)",
  description:
    `Only the booking's client (anyone else 403, whatever the booking's state), only a completed booking (else ` +
    `400), at most ${REVIEW_WINDOW_DAYS} days after the session ended (else 400), once (a second review 409). ` +
    `The coach's rating becomes the mean of its reviews (2 decimals) in the same transaction.`,
  security: bearerSecurity,
  middleware: [requireRole()] as const,
  request: {
    params: IdParam("id", { description: "Booking id" }),
    body: { content: { "application/json": { schema: ReviewCreateSchema } }, required: true },
  },
  responses: {
    201: jsonContent(ReviewSchema, "The review"),
    ...errorResponses(401, 403, 404, 409),
  },
});

const listReviewsRoute = createRoute({
  method: "get",
  path: "/coaches/{id}/reviews",
  tags: ["Coaches"],
  summary: "A coach's reviews, newest first (any signed-in user)",
  security: bearerSecurity,
  middleware: [requireRole()] as const,
  request: { params: CoachIdParam, query: paginationQuery },
  responses: {
    200: jsonContent(CoachReviewPageSchema, "A page of reviews; `total` is the coach's review_count"),
    ...errorResponses(401, 404),
  },
});

const deleteReviewRoute = createRoute({
  method: "delete",
  path: "/admin/reviews/{id}",
  tags: ["Admin"],
  summary: "Remove a review and recompute the coach's rating (audited)",
  description:
    "The coach's rating becomes the mean of the remaining reviews, or the rating it had before its first review when none remains.",
  security: bearerSecurity,
  // Authorization before validation, as every /admin path: 401/403 before a 400 about the id.
  middleware: [requireRole("admin")] as const,
  request: { params: IdParam("id", { description: "Review id" }) },
  responses: {
    204: { description: "Removed" },
    ...errorResponses(401, 403, 404),
  },
});

export const reviewRoutes = createRouter()
  .openapi(createReviewRoute, async (c) => {
    const caller = requireUser(c);
    const body = c.req.valid("json");
    const review = await createReview(c.var.db, {
      bookingId: c.req.valid("param").id.toLowerCase(),
      callerId: caller.id,
      rating: body.rating,
      comment: body.comment ?? null,
      now: c.var.now,
    });
    return c.json(review, 201);
  })
  .openapi(listReviewsRoute, async (c) => {
    const pagination = c.req.valid("query");
    const page = await listCoachReviews(c.var.db, c.req.valid("param").id.toLowerCase(), pagination);
    return c.json(page, 200);
  })
  .openapi(deleteReviewRoute, async (c) => {
    const actor = requireUser(c, "admin");
    await deleteReviewAsAdmin(c.var.db, actor.id, c.req.valid("param").id.toLowerCase(), c.var.now);
    return c.body(null, 204);
  });
