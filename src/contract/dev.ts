/** Wire shapes of the development-only routes (/dev/*; not in the production document). */
import { z } from "@hono/zod-openapi";

export const DevEmailSchema = z
  .object({ to: z.string(), subject: z.string(), text: z.string(), created_at: z.string() })
  .openapi("DevEmail");
export type DevEmail = z.infer<typeof DevEmailSchema>;

export const DevEmailListSchema = z.object({ items: z.array(DevEmailSchema) }).openapi("DevEmailList");

export const DevEmailQuery = z.object({ to: z.string().min(3).max(255) });

export const BenchConstantSchema = z.object({ status: z.literal("ok") }).openapi("BenchConstant");
export const BenchKvSchema = z.object({ found: z.boolean() }).openapi("BenchKv");
export const BenchDbSchema = z
  .object({ result: z.number().int(), round_trips: z.number().int(), parallel: z.number().int() })
  .openapi("BenchDb");

export const BenchDbQuery = z.object({
  round_trips: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(1)
    .openapi({ description: "Sequential statements on the request's connection (default 1)", example: 1 }),
  parallel: z.coerce
    .number()
    .int()
    .min(1)
    .max(5)
    .default(1)
    .openapi({ description: "Concurrent statements per round (each one more pooled connection; default 1)", example: 1 }),
});
