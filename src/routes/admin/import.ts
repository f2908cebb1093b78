/** POST /admin/import: the Phase-1 CSV import (services/admin/import.ts). */
import { createRoute, z } from "@hono/zod-openapi";
import { ImportReportSchema } from "../../contract/admin.ts";
import { badRequest, fieldError } from "../../lib/errors.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../../lib/openapi.ts";
import { createRouter } from "../../lib/router.ts";
import { requireUser } from "../../middleware/auth.ts";
import { importPhase1, PHASE1_COLUMNS } from "../../services/admin/import.ts";
import { TAGS } from "./shared.ts";

const importRoute = createRoute({
  method: "post",
  path: "/admin/import",
  tags: TAGS,
  summary: "Phase-1 data migration: users and profiles from CSV",
  description:
    `Body \`text/csv\` (up to 20 MB) with a header row; columns ${PHASE1_COLUMNS.join(", ")} (email and role ` +
    `required, lists \`;\`-separated). Invalid rows are reported with their line number and skipped; existing ` +
    `emails are skipped.`,
  security: bearerSecurity,
  request: {
    body: {
      content: { "text/csv": { schema: z.string().openapi({ example: "email,role,first_name\nana@example.com,client,Ana\n" }) } },
      required: true,
    },
  },
  responses: { 200: jsonContent(ImportReportSchema, "The import report"), ...errorResponses(401, 403, 413) },
});

export const importRoutes = createRouter().openapi(importRoute, async (c) => {
  const actor = requireUser(c, "admin");
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "text/csv") {
    throw badRequest(
      "Send the file as the request body with Content-Type: text/csv",
      fieldError("body", "header", "Content-Type must be text/csv"),
    );
  }
  const text = await c.req.text();
  if (text.trim() === "") throw badRequest("The file is empty: a header row is required");
  const report = await importPhase1(c.var.db, text, { actorId: actor.id, now: c.var.now, source: { kind: "api" } });
  return c.json(report, 200);
});
