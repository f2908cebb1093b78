/** Contract section "Coach discovery": the coach list item. */
import { z } from "@hono/zod-openapi";

export const CoachListItemSchema = z
  .object({
    id: z.string().uuid().openapi({ description: "Coach profile id" }),
    user_id: z.string().uuid(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    photo_url: z.string().nullable(),
    bio: z.string().nullable(),
    expertise: z.array(z.string()),
    languages: z.array(z.string()),
    countries: z.array(z.string()),
    hourly_rate: z.number().nullable().openapi({ example: 120 }),
    currency: z.string().openapi({ example: "USD" }),
    rating: z.number().openapi({ example: 4.75 }),
    total_sessions: z.number().int(),
    is_verified: z.boolean(),
  })
  .openapi("CoachListItem");

export type CoachListItem = z.infer<typeof CoachListItemSchema>;
