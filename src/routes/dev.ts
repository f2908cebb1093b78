import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq } from "drizzle-orm";
import { emailOutbox } from "../../drizzle/schema.ts";
import { notFound } from "../lib/errors.ts";
import { errorResponses } from "../lib/openapi.ts";
import { createRouter } from "../lib/router.ts";
import { isoUtc } from "../lib/time.ts";

const DevEmailSchema = z
  .object({ to: z.string(), subject: z.string(), text: z.string(), created_at: z.string() })
  .openapi("DevEmail");

const route = createRoute({
  method: "get",
  path: "/dev/emails",
  tags: ["Development"],
  summary: "Emails kept instead of sent (ENVIRONMENT=development only), newest first",
  request: { query: z.object({ to: z.string().min(3).max(255) }) },
  responses: {
    200: {
      description: "Kept emails",
      content: { "application/json": { schema: z.object({ items: z.array(DevEmailSchema) }) } },
    },
    ...errorResponses(404),
  },
});

export const devRoutes = createRouter().openapi(route, async (c) => {
  // Outside development the route does not exist.
  if (!c.var.config.isLocal) throw notFound("Route");
  const { to } = c.req.valid("query");
  const rows = await c.var.db
    .select()
    .from(emailOutbox)
    .where(and(eq(emailOutbox.toAddress, to.trim().toLowerCase())))
    .orderBy(desc(emailOutbox.createdAt))
    .limit(100);
  return c.json(
    {
      items: rows.map((row) => ({
        to: row.toAddress,
        subject: row.subject,
        text: row.body,
        created_at: isoUtc(row.createdAt) ?? "",
      })),
    },
    200,
  );
});
