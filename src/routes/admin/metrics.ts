/** GET /admin/metrics (services/admin/metrics.ts). */
import { createRoute, z } from "@hono/zod-openapi";
import { CurrencyQuery, MetricsSchema } from "../../contract/admin.ts";
import { bearerSecurity, jsonContent } from "../../lib/openapi.ts";
import { createRouter } from "../../lib/router.ts";
import { getMetrics } from "../../services/admin/metrics.ts";
import { adminErrors, TAGS } from "./shared.ts";

const metricsRoute = createRoute({
  method: "get",
  path: "/admin/metrics",
  tags: TAGS,
  summary: "Platform metrics over the last `days` days",
  security: bearerSecurity,
  request: {
    query: z.object({
      days: z.coerce.number().int().min(1).max(365).default(30).openapi({ example: 30, description: "1-365" }),
      currency: CurrencyQuery,
    }),
  },
  responses: { 200: jsonContent(MetricsSchema, "Metrics"), ...adminErrors },
});

export const metricsRoutes = createRouter().openapi(metricsRoute, async (c) => {
  const { days, currency } = c.req.valid("query");
  return c.json(await getMetrics(c.var.db, days, c.var.now, currency ?? "USD"), 200);
});
