/** Contract section "Bookings" (v2 Reviews) and the admin review removal: wire shapes. */
import { z } from "@hono/zod-openapi";

/** Text a client writes: no NUL (Postgres text cannot hold it) and no unpaired surrogate (contract v2 text rule). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const cleanText = (value: string) => !value.includes("\u0000") && !LONE_SURROGATE.test(value);
const CLEAN_TEXT_MESSAGE = "Must not contain NUL characters or unpaired surrogates";

/** Characters as Postgres counts them (code points), so the API and the table's check agree. */
const codePoints = (value: string) => [...value].length;

export const REVIEW_COMMENT_MAX = 2000;

export const ReviewCreateSchema = z
  .object({
    rating: z.number().int("Must be a whole number from 1 to 5").min(1).max(5).openapi({ example: 5 }),
    comment: z
      .string()
      .refine(cleanText, CLEAN_TEXT_MESSAGE)
      .refine((value) => codePoints(value) >= 1 && codePoints(value) <= REVIEW_COMMENT_MAX, {
        message: `Must be 1 to ${REVIEW_COMMENT_MAX} characters`,
      })
      .nullable()
      .optional()
      .openapi({
        description: `1-${REVIEW_COMMENT_MAX} characters, stored and returned as given (never rendered as HTML)`,
        example: "Clear, practical advice for my move to Madrid.",
      }),
  })
  .strict()
  .openapi("ReviewCreate");

export const ReviewSchema = z
  .object({
    id: z.string().guid(),
    booking_id: z.string().guid(),
    coach_id: z.string().guid().openapi({ description: "The coach's user id" }),
    rating: z.number().int().min(1).max(5),
    comment: z.string().nullable(),
    created_at: z.string().openapi({ example: "2026-12-01T10:00:00Z" }),
  })
  .openapi("Review");

export const CoachReviewSchema = z
  .object({
    id: z.string().guid(),
    rating: z.number().int().min(1).max(5),
    comment: z.string().nullable(),
    author: z
      .object({
        first_name: z.string().nullable().openapi({ description: "Null when the author has no profile (any more)" }),
      })
      .openapi({ description: "Only the first name of the client who wrote it" }),
    created_at: z.string(),
  })
  .openapi("CoachReview");

export type ReviewCreate = z.infer<typeof ReviewCreateSchema>;
export type ReviewBody = z.infer<typeof ReviewSchema>;
export type CoachReviewBody = z.infer<typeof CoachReviewSchema>;
