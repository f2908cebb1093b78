/** DELETE /admin/posts/{id}: moderation (services/admin/moderation.ts). */

import { createRoute } from "@hono/zod-openapi";
import { IdParam } from "../../contract/common.ts";
import { bearerSecurity, errorResponses } from "../../lib/openapi.ts";
import { createRouter } from "../../lib/router.ts";
import { requireUser } from "../../middleware/auth.ts";
import { deletePostAsAdmin } from "../../services/admin/moderation.ts";
import { TAGS } from "./shared.ts";

const deletePostRoute = createRoute({
  method: "delete",
  path: "/admin/posts/{id}",
  tags: TAGS,
  summary: "Delete any post (its comments cascade); audited",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) },
});

export const moderationRoutes = createRouter().openapi(deletePostRoute, async (c) => {
  const actor = requireUser(c, "admin");
  await deletePostAsAdmin(c.var.db, actor.id, c.req.valid("param").id);
  return c.body(null, 204);
});
