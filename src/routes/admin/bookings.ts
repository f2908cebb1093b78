/** GET /admin/bookings: JSON page or streamed CSV (services/admin/bookings.ts, exports.ts). */
import { createRoute } from "@hono/zod-openapi";
import { AdminBookingListItemSchema, AdminBookingsQuery, bookingRange, CSV_EXPORT_DESCRIPTION } from "../../contract/admin.ts";
import { bearerSecurity } from "../../lib/openapi.ts";
import { page, pageSchema } from "../../lib/pagination.ts";
import { createRouter } from "../../lib/router.ts";
import { listBookings } from "../../services/admin/bookings.ts";
import { exportBookingsCsv } from "../../services/admin/exports.ts";
import { adminErrors, csvContent, csvHeaders, TAGS } from "./shared.ts";

const listBookingsRoute = createRoute({
  method: "get",
  path: "/admin/bookings",
  tags: TAGS,
  summary: "All bookings, newest session first; `format=csv` exports every matching booking",
  description: `Dates in the years 1900-9999. ${CSV_EXPORT_DESCRIPTION}`,
  security: bearerSecurity,
  request: { query: AdminBookingsQuery },
  responses: {
    200: {
      description: "A page of bookings, or the CSV export",
      content: {
        "application/json": { schema: pageSchema(AdminBookingListItemSchema, "AdminBookingPage") },
        ...csvContent("Header row with the AdminBookingListItem fields (client.*, coach.* dotted), one row per matching booking"),
      },
    },
    ...adminErrors,
  },
});

export const bookingRoutes = createRouter().openapi(listBookingsRoute, async (c) => {
  const { status, coach_id, client_id, start_date, end_date, format, ...pagination } = c.req.valid("query");
  const filters = { status, coachId: coach_id, clientId: client_id, ...bookingRange(start_date, end_date) };
  if (format === "csv") {
    return c.body(
      await exportBookingsCsv(c.var.deps, filters),
      200,
      csvHeaders(`bookings-${c.var.now.toISOString().slice(0, 10)}.csv`),
    );
  }
  const { items, total } = await listBookings(c.var.db, filters, pagination);
  return c.json(page(items, total, pagination), 200);
});
