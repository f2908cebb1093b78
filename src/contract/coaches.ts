/** Contract section "Coach discovery": the coach list item, the list page and the coach id parameter. */

import { z } from "@hono/zod-openapi";
import { IdParam } from "./common.ts";

export const CoachListItemSchema = z
  .object({
    id: z.string().guid().openapi({ description: "Coach profile id" }),
    user_id: z.string().guid(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    photo_url: z.string().nullable(),
    bio: z.string().nullable(),
    expertise: z.array(z.string()),
    languages: z.array(z.string()),
    countries: z.array(z.string()),
    hourly_rate: z.number().nullable().openapi({ example: 120 }),
    currency: z.string().openapi({ example: "USD" }),
    rating: z.number().openapi({ example: 4.75, description: "The mean of the coach's reviews once it has one" }),
    total_sessions: z.number().int(),
    is_verified: z.boolean(),
    review_count: z.number().int().openapi({ description: "v2: number of reviews" }),
  })
  .openapi("CoachListItem");

export const CoachPageSchema = z
  .object({
    items: z.array(CoachListItemSchema),
    total: z.number().int().openapi({ description: "Every coach matching the filters (exact)" }),
    skip: z.number().int(),
    limit: z.number().int(),
  })
  .openapi("CoachPage");

/** `{id}` of the coach routes: the coach profile id, or the coach's user id. */
export const CoachIdParam = IdParam("id", { message: "Must be a UUID (coach profile id or user id)" });

export type CoachListItem = z.infer<typeof CoachListItemSchema>;
export type CoachPage = z.infer<typeof CoachPageSchema>;
