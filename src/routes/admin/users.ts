/** /admin/users: list (JSON or streamed CSV), detail, change, delete (services/admin/users.ts, exports.ts). */

import { createRoute } from "@hono/zod-openapi";
import {
  AdminUserDetailSchema,
  AdminUserSchema,
  AdminUsersQuery,
  CSV_EXPORT_DESCRIPTION,
  UserPatchBody,
} from "../../contract/admin.ts";
import { IdParam } from "../../contract/common.ts";
import { notFound } from "../../lib/errors.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../../lib/openapi.ts";
import { page, pageSchema } from "../../lib/pagination.ts";
import { createRouter } from "../../lib/router.ts";
import { requireUser } from "../../middleware/auth.ts";
import { revokeUserTokens } from "../../platform/rate-limiter.ts";
import { exportUsersCsv } from "../../services/admin/exports.ts";
import { deleteUserAsAdmin, getAdminUserDetail, listUsers, updateUser } from "../../services/admin/users.ts";
import { adminErrors, csvContent, csvHeaders, TAGS } from "./shared.ts";

const listUsersRoute = createRoute({
  method: "get",
  path: "/admin/users",
  tags: TAGS,
  summary: "Users (no password hashes), newest first; `format=csv` exports every matching user",
  description: CSV_EXPORT_DESCRIPTION,
  security: bearerSecurity,
  request: { query: AdminUsersQuery },
  responses: {
    200: {
      description: "A page of users, or the CSV export",
      content: {
        "application/json": { schema: pageSchema(AdminUserSchema, "AdminUserPage") },
        ...csvContent("Header row with the AdminUser fields, one row per matching user"),
      },
    },
    ...adminErrors,
  },
});

const getUserRoute = createRoute({
  method: "get",
  path: "/admin/users/{id}",
  tags: TAGS,
  summary: "A user with profile and activity",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 200: jsonContent(AdminUserDetailSchema, "The user"), ...errorResponses(401, 403, 404) },
});

const patchUserRoute = createRoute({
  method: "patch",
  path: "/admin/users/{id}",
  tags: TAGS,
  summary: "Change a user's role, active flag or verified flag",
  description:
    "The last active admin cannot be demoted or deactivated (409). A role change or a deactivation revokes the user's access tokens.",
  security: bearerSecurity,
  request: { params: IdParam(), body: { content: { "application/json": { schema: UserPatchBody } }, required: true } },
  responses: { 200: jsonContent(AdminUserSchema, "The updated user"), ...errorResponses(401, 403, 404, 409) },
});

const deleteUserRoute = createRoute({
  method: "delete",
  path: "/admin/users/{id}",
  tags: TAGS,
  summary: "Delete an account (as DELETE /profile does)",
  description:
    "Future bookings are cancelled with full refunds, the profile and content deleted; a user with past " +
    "bookings stays as an anonymised tombstone. The last active admin cannot be deleted (409).",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) },
});

export const userRoutes = createRouter()
  .openapi(listUsersRoute, async (c) => {
    const { role, is_active, search, format, ...pagination } = c.req.valid("query");
    const filters = { role, isActive: is_active, search };
    if (format === "csv") {
      return c.body(
        await exportUsersCsv(c.var.deps, filters),
        200,
        csvHeaders(`users-${c.var.now.toISOString().slice(0, 10)}.csv`),
      );
    }
    const { items, total } = await listUsers(c.var.db, filters, pagination);
    return c.json(page(items, total, pagination), 200);
  })
  .openapi(getUserRoute, async (c) => {
    const { id } = c.req.valid("param");
    const detail = await getAdminUserDetail(c.var.db, id);
    if (!detail) throw notFound("User");
    return c.json(detail, 200);
  })
  .openapi(patchUserRoute, async (c) => {
    const actor = requireUser(c, "admin");
    const { id } = c.req.valid("param");
    const result = await updateUser(c.var.db, actor.id, id, c.req.valid("json"), c.var.now);
    // After commit: tokens minted before now stop working on the next request
    // (the role claim in them is stale, or the account is inactive).
    if (result.revokeTokens) await revokeUserTokens(c.var.deps.platform, id, c.var.now);
    return c.json(result.user, 200);
  })
  .openapi(deleteUserRoute, async (c) => {
    const actor = requireUser(c, "admin");
    await deleteUserAsAdmin(c.var.db, c.var.deps, actor.id, c.req.valid("param").id, c.var.now);
    return c.body(null, 204);
  });
