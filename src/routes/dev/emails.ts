import { createRoute } from "@hono/zod-openapi";
import { DevEmailListSchema, DevEmailQuery } from "../../contract/dev.ts";
import { errorResponses, jsonContent } from "../../lib/openapi.ts";
import { createRouter } from "../../lib/router.ts";
import { listKeptEmails } from "../../services/dev-tools.ts";

const route = createRoute({
  method: "get",
  path: "/dev/emails",
  tags: ["Development"],
  summary: "Emails kept instead of sent (ENVIRONMENT=development only), newest first",
  request: { query: DevEmailQuery },
  responses: {
    200: jsonContent(DevEmailListSchema, "Kept emails"),
    ...errorResponses(404),
  },
});

export const devEmailRoutes = createRouter().openapi(route, async (c) => {
  const { to } = c.req.valid("query");
  return c.json(DevEmailListSchema.parse({ items: await listKeptEmails(c.var.db, to) }), 200);
});
