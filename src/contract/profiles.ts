/** Contract section "Profiles": the client and coach profile objects. */
import { z } from "@hono/zod-openapi";

export const ClientProfileSchema = z
  .object({
    id: z.string().guid(),
    user_id: z.string().guid(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    photo_url: z.string().nullable(),
    phone: z.string().nullable(),
    timezone: z.string().nullable(),
    quiz_data: z
      .record(z.string(), z.unknown())
      .openapi({ description: "The 20 matching factors (QuizData); `{}` until the quiz is filled in" }),
    preferences: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("ClientProfile");

export const CoachProfileSchema = z
  .object({
    id: z.string().guid(),
    user_id: z.string().guid(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    photo_url: z.string().nullable(),
    bio: z.string().nullable(),
    intro_video_url: z.string().nullable(),
    expertise: z.array(z.string()),
    languages: z.array(z.string()),
    countries: z.array(z.string()),
    hourly_rate: z.number().nullable().openapi({ example: 120 }),
    currency: z.string().openapi({ example: "USD" }),
    availability: z
      .record(z.string(), z.unknown())
      .openapi({ description: "Availability: weekday windows in the coach's time zone" }),
    rating: z.number().openapi({ example: 4.75 }),
    total_sessions: z.number().int(),
    is_verified: z.boolean(),
    review_count: z
      .number()
      .int()
      .openapi({ description: "v2: number of reviews; `rating` is their mean (2 decimals) once there is one" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("CoachProfile");

export type ClientProfileBody = z.infer<typeof ClientProfileSchema>;
export type CoachProfileBody = z.infer<typeof CoachProfileSchema>;
