/** GET /admin/audit-log (services/admin/audit.ts). */
import { createRoute, z } from "@hono/zod-openapi";
import { AuditEntrySchema, uuidField } from "../../contract/admin.ts";
import { bearerSecurity, jsonContent } from "../../lib/openapi.ts";
import { page, pageSchema, paginationQuery } from "../../lib/pagination.ts";
import { createRouter } from "../../lib/router.ts";
import { listAudit } from "../../services/admin/audit.ts";
import { adminErrors, TAGS } from "./shared.ts";

const auditRoute = createRoute({
  method: "get",
  path: "/admin/audit-log",
  tags: TAGS,
  summary: "The audit trail of admin mutations, newest first",
  security: bearerSecurity,
  request: {
    query: paginationQuery.extend({
      actor_id: uuidField("The admin who acted").optional(),
      action: z
        .string()
        .min(1)
        .max(64)
        .optional()
        .openapi({
          description:
            "user.update, user.delete, post.update, post.delete, comment.update, comment.delete or import.phase1 " +
            "(and what other sections add)",
          example: "user.update",
        }),
    }),
  },
  responses: { 200: jsonContent(pageSchema(AuditEntrySchema, "AuditEntryPage"), "Audit entries"), ...adminErrors },
});

export const auditRoutes = createRouter().openapi(auditRoute, async (c) => {
  const { actor_id, action, ...pagination } = c.req.valid("query");
  const { items, total } = await listAudit(c.var.db, { actorId: actor_id, action }, pagination);
  return c.json(page(items, total, pagination), 200);
});
