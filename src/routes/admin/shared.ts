/** What every admin route shares: the tag, the admin-only error answers, the CSV answer. */
import { z } from "@hono/zod-openapi";
import { errorResponses } from "../../lib/openapi.ts";

export const TAGS = ["Admin"];

export const adminErrors = errorResponses(401, 403);

export function csvHeaders(filename: string): Record<string, string> {
  return { "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="${filename}"` };
}

export const csvContent = (description: string) => ({ "text/csv": { schema: z.string().openapi({ description }) } });
