/** GET /admin/revenue: JSON or CSV (services/admin/revenue.ts). */
import { createRoute } from "@hono/zod-openapi";
import { RevenueQuery, RevenueSchema } from "../../contract/admin.ts";
import { bearerSecurity } from "../../lib/openapi.ts";
import { createRouter } from "../../lib/router.ts";
import { getRevenueReport, REVENUE_CSV_COLUMNS, resolveRevenuePeriod, revenueCsv } from "../../services/admin/revenue.ts";
import { adminErrors, csvContent, csvHeaders, TAGS } from "./shared.ts";

const revenueRoute = createRoute({
  method: "get",
  path: "/admin/revenue",
  tags: TAGS,
  summary: "Revenue per coach and per day (succeeded payments, net of refunds, by payment date)",
  description:
    "Dates are UTC days, both inclusive; default: the 30 days up to today; any period up to 10 years. " +
    "`daily_breakdown` lists the days with activity. `format=csv` answers a CSV attachment with one row per coach.",
  security: bearerSecurity,
  request: { query: RevenueQuery },
  responses: {
    200: {
      description: "The report",
      content: {
        "application/json": { schema: RevenueSchema },
        ...csvContent(`Header row \`${REVENUE_CSV_COLUMNS.join(",")}\`, one row per coach (RFC 4180 quoting)`),
      },
    },
    ...adminErrors,
  },
});

export const revenueRoutes = createRouter().openapi(revenueRoute, async (c) => {
  const query = c.req.valid("query");
  const { start, end } = resolveRevenuePeriod(query.start_date, query.end_date, c.var.now);
  const report = await getRevenueReport(c.var.db, start, end, query.currency ?? "USD");
  if (query.format === "csv") return c.body(revenueCsv(report), 200, csvHeaders(`revenue-${start}-${end}.csv`));
  return c.json(report, 200);
});
