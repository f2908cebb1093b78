/**
 * Admin routes (contract: Admin). Thin: validate -> src/services/admin/* -> shape.
 *
 * Every /admin/* path is for the role admin only: the router's middleware
 * answers 401 without a valid token and 403 for clients and coaches before
 * any validation, so nobody else learns anything from these routes.
 * Every mutation writes an audit_log entry in the transaction of the mutation
 * (services/admin/audit.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { bookingStatus, userRole } from "../../drizzle/schema.ts";
import { badRequest, notFound } from "../lib/errors.ts";
import { isoCurrencyField } from "../lib/fields.ts";
import { bearerSecurity, errorResponses, jsonContent, UUID_PATTERN } from "../lib/openapi.ts";
import { page, pageSchema, paginationQuery } from "../lib/pagination.ts";
import { createRouter } from "../lib/router.ts";
import { DAY_MS } from "../lib/time.ts";
import { requireRole, requireUser } from "../middleware/auth.ts";
import { revokeUserTokens } from "../platform/rate-limiter.ts";
import { listAudit } from "../services/admin/audit.ts";
import { listBookings } from "../services/admin/bookings.ts";
import { importPhase1, PHASE1_COLUMNS } from "../services/admin/import.ts";
import { getMetrics } from "../services/admin/metrics.ts";
import { deletePostAsAdmin } from "../services/admin/moderation.ts";
import { getRevenueReport, revenueCsv } from "../services/admin/revenue.ts";
import { deleteUserAsAdmin, getAdminUserDetail, listUsers, updateUser } from "../services/admin/users.ts";

const TAGS = ["Admin"];

// ---------------------------------------------------------------------------
// schemas
// ---------------------------------------------------------------------------

const uuidField = (description: string) => z.string().regex(UUID_PATTERN, "Must be a UUID").openapi({ description });

const IdParams = z.object({
  id: z
    .string()
    .regex(UUID_PATTERN, "Must be a UUID")
    .openapi({ param: { name: "id", in: "path" }, example: "0b9c3c3e-2f7e-4a59-9d43-2a4d7a1f2b11" }),
});

const RoleField = z.enum(userRole.enumValues);
const BooleanQuery = z.enum(["true", "false"]).transform((value) => value === "true");

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar date that exists (2026-02-30 does not). */
function isRealDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

const DateField = z
  .string()
  .refine(isRealDate, "Must be a date YYYY-MM-DD")
  .openapi({ type: "string", format: "date", example: "2026-01-31" });

/** YYYY-MM-DD (a whole UTC day) or an ISO-8601 timestamp with a zone. */
const DateOrTimestampField = z
  .string()
  .refine(
    (value) =>
      isRealDate(value) ||
      (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value) && !Number.isNaN(Date.parse(value))),
    "Must be a date YYYY-MM-DD or an ISO-8601 timestamp with a zone",
  )
  .openapi({ example: "2026-01-31" });

const CurrencyQuery = isoCurrencyField.optional().openapi({
  description: "Amounts in different currencies are never added up: the figures are for this currency (default USD)",
  example: "USD",
});

const AdminUserSchema = z
  .object({
    id: z.string().uuid(),
    email: z.string(),
    role: RoleField,
    is_active: z.boolean(),
    email_verified: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
    last_seen_at: z.string().nullable().openapi({ description: "Last login or token refresh" }),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
  })
  .openapi("AdminUser");

const AdminBookingPartySchema = z.object({
  id: z.string().uuid(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
});

const AdminBookingSchema = z
  .object({
    id: z.string().uuid(),
    client_id: z.string().uuid(),
    coach_id: z.string().uuid(),
    session_datetime: z.string(),
    duration_minutes: z.number().int(),
    status: z.enum(bookingStatus.enumValues),
    payment_id: z.string().uuid().nullable(),
    meeting_link: z.string().nullable(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("AdminBooking");

const AdminBookingListItemSchema = AdminBookingSchema.extend({
  client: AdminBookingPartySchema,
  coach: AdminBookingPartySchema,
}).openapi("AdminBookingListItem");

const AdminPaymentSchema = z
  .object({
    id: z.string().uuid(),
    booking_id: z.string().uuid(),
    amount: z.number(),
    currency: z.string(),
    status: z.string(),
    stripe_session_id: z.string().nullable(),
    stripe_payment_intent_id: z.string().nullable(),
    paid_at: z.string().nullable(),
    refunded_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("AdminPayment");

const ActivityCounts = z.object({
  bookings: z.number().int(),
  payments: z.number().int(),
  posts: z.number().int(),
  comments: z.number().int(),
});

const AdminUserDetailSchema = z
  .object({
    user: AdminUserSchema,
    profile: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "The ClientProfile or CoachProfile object; null when the user has none (admins)" }),
    activity: z
      .object({
        bookings: z.array(AdminBookingSchema),
        payments: z.array(AdminPaymentSchema),
        posts: z.array(
          z.object({
            id: z.string().uuid(),
            title: z.string(),
            post_type: z.string(),
            is_private: z.boolean(),
            upvotes: z.number().int(),
            created_at: z.string(),
          }),
        ),
        comments: z.array(
          z.object({ id: z.string().uuid(), post_id: z.string().uuid(), content: z.string(), created_at: z.string() }),
        ),
      })
      .openapi({ description: "The newest 50 of each (bookings as client or coach, their payments, posts, comments)" }),
    activity_totals: ActivityCounts.openapi({ description: "Exact counts behind `activity`" }),
  })
  .openapi("AdminUserDetail");

const UserPatchBody = z
  .object({
    role: RoleField.optional(),
    is_active: z.boolean().optional(),
    email_verified: z.boolean().optional(),
  })
  .strict()
  .refine((body) => body.role !== undefined || body.is_active !== undefined || body.email_verified !== undefined, {
    message: "Give at least one of role, is_active, email_verified",
  })
  .openapi("AdminUserPatch");

const MetricsSchema = z
  .object({
    period: z.object({ start_date: z.string(), end_date: z.string(), days: z.number().int() }),
    users: z.object({
      total: z.number().int(),
      new_this_period: z.number().int(),
      active_this_period: z
        .number()
        .int()
        .openapi({ description: "Users who logged in or refreshed a session in the period (last_seen_at)" }),
      by_role: z.record(z.string(), z.number().int()),
    }),
    bookings: z.object({
      total: z.number().int(),
      this_period: z.number().int(),
      by_status: z.record(z.string(), z.number().int()),
    }),
    revenue: z.object({
      total: z.number(),
      this_period: z.number(),
      currency: z.string(),
      average_booking_value: z.number(),
    }),
    community: z.object({ total_posts: z.number().int(), total_comments: z.number().int(), total_resources: z.number().int() }),
  })
  .openapi("AdminMetrics");

const RevenueSchema = z
  .object({
    period: z.object({ start_date: z.string(), end_date: z.string(), days: z.number().int() }),
    currency: z.string(),
    total_revenue: z.number(),
    total_bookings: z.number().int(),
    average_booking_value: z.number(),
    // v2 payouts: the platform's fees, the coaches' shares transferred (destination charges), the shares still owed.
    platform_fees: z.number(),
    coach_payouts: z.number(),
    owed: z.number(),
    by_coach: z.array(
      z.object({
        coach_id: z.string().uuid(),
        coach_name: z.string(),
        bookings: z.number().int(),
        revenue: z.number(),
        platform_fees: z.number(),
        coach_payouts: z.number(),
        owed: z.number(),
      }),
    ),
    daily_breakdown: z.array(z.object({ date: z.string(), bookings: z.number().int(), revenue: z.number() })),
  })
  .openapi("AdminRevenue");

const AuditEntrySchema = z
  .object({
    id: z.string().uuid(),
    actor_id: z.string().uuid().nullable().openapi({ description: "null for the command-line import" }),
    action: z.string().openapi({ example: "user.update" }),
    target_type: z.string().openapi({ example: "user" }),
    target_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).openapi({ description: "before/after of the change" }),
    created_at: z.string(),
  })
  .openapi("AuditEntry");

const ImportReportSchema = z
  .object({
    processed: z.number().int(),
    imported: z.number().int(),
    skipped: z.number().int().openapi({ description: "Rows whose email already exists (or appeared earlier in the file)" }),
    failed: z.number().int().openapi({ description: "Invalid rows; each one is in errors" }),
    errors: z.array(z.object({ line: z.number().int(), reason: z.string() })),
  })
  .openapi("ImportReport");

// ---------------------------------------------------------------------------
// routes
// ---------------------------------------------------------------------------

const adminErrors = errorResponses(401, 403);

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

const listUsersRoute = createRoute({
  method: "get",
  path: "/admin/users",
  tags: TAGS,
  summary: "Users (no password hashes), newest first",
  security: bearerSecurity,
  request: {
    query: paginationQuery.extend({
      role: RoleField.optional(),
      is_active: BooleanQuery.optional(),
      search: z
        .string()
        .max(255)
        .optional()
        .openapi({ description: "Case-insensitive part of the email, first name, last name or full name" }),
    }),
  },
  responses: { 200: jsonContent(pageSchema(AdminUserSchema, "AdminUserPage"), "Users"), ...adminErrors },
});

const getUserRoute = createRoute({
  method: "get",
  path: "/admin/users/{id}",
  tags: TAGS,
  summary: "A user with profile and activity",
  security: bearerSecurity,
  request: { params: IdParams },
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
  request: { params: IdParams, body: { content: { "application/json": { schema: UserPatchBody } }, required: true } },
  responses: { 200: jsonContent(AdminUserSchema, "The updated user"), ...errorResponses(401, 403, 404, 409) },
});

const deleteUserRoute = createRoute({
  method: "delete",
  path: "/admin/users/{id}",
  tags: TAGS,
  summary: "Delete an account (as DELETE /profile does)",
  description:
    "Future bookings are cancelled with full refunds, the profile and content deleted; a user with past bookings stays as an anonymised tombstone. The last active admin cannot be deleted (409).",
  security: bearerSecurity,
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) },
});

const listBookingsRoute = createRoute({
  method: "get",
  path: "/admin/bookings",
  tags: TAGS,
  summary: "All bookings, newest session first",
  security: bearerSecurity,
  request: {
    query: paginationQuery.extend({
      status: z.enum(bookingStatus.enumValues).optional(),
      coach_id: uuidField("The coach's user id").optional(),
      client_id: uuidField("The client's user id").optional(),
      start_date: DateOrTimestampField.optional().openapi({ description: "Sessions from this day (UTC) or instant on" }),
      end_date: DateOrTimestampField.optional().openapi({ description: "Sessions up to this day (inclusive, UTC) or instant" }),
    }),
  },
  responses: { 200: jsonContent(pageSchema(AdminBookingListItemSchema, "AdminBookingPage"), "Bookings"), ...adminErrors },
});

const deletePostRoute = createRoute({
  method: "delete",
  path: "/admin/posts/{id}",
  tags: TAGS,
  summary: "Delete any post (its comments cascade)",
  security: bearerSecurity,
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) },
});

const revenueRoute = createRoute({
  method: "get",
  path: "/admin/revenue",
  tags: TAGS,
  summary: "Revenue per coach and per day (succeeded payments, net of refunds, by payment date)",
  description:
    "Dates are UTC days, both inclusive; default: the 30 days up to today; at most 366 days. `format=csv` answers a CSV attachment with one row per coach.",
  security: bearerSecurity,
  request: {
    query: z.object({
      start_date: DateField.optional(),
      end_date: DateField.optional(),
      format: z.enum(["json", "csv"]).default("json"),
      currency: CurrencyQuery,
    }),
  },
  responses: {
    200: {
      description: "The report",
      content: {
        "application/json": { schema: RevenueSchema },
        "text/csv": {
          schema: z.string().openapi({
            description: `Header row \`coach_id,coach_name,bookings,revenue,currency,platform_fees,coach_payouts,owed\`, one row per coach (RFC 4180 quoting)`,
          }),
        },
      },
    },
    ...adminErrors,
  },
});

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
        .openapi({ description: "user.update, user.delete, post.delete or import.phase1", example: "user.update" }),
    }),
  },
  responses: { 200: jsonContent(pageSchema(AuditEntrySchema, "AuditEntryPage"), "Audit entries"), ...adminErrors },
});

const importRoute = createRoute({
  method: "post",
  path: "/admin/import",
  tags: TAGS,
  summary: "Phase-1 data migration: users and profiles from CSV",
  description: `Body \`text/csv\` (up to 20 MB) with a header row; columns ${PHASE1_COLUMNS.join(", ")} (email and role required, lists \`;\`-separated). Invalid rows are reported with their line number and skipped; existing emails are skipped.`,
  security: bearerSecurity,
  request: {
    body: {
      content: { "text/csv": { schema: z.string().openapi({ example: "email,role,first_name\nana@example.com,client,Ana\n" }) } },
      required: true,
    },
  },
  responses: { 200: jsonContent(ImportReportSchema, "The import report"), ...errorResponses(401, 403, 413) },
});

// ---------------------------------------------------------------------------
// handlers
// ---------------------------------------------------------------------------

const MAX_REVENUE_DAYS = 366;
const DEFAULT_REVENUE_DAYS = 30;

const dayOf = (date: Date) => date.toISOString().slice(0, 10);
const addDays = (day: string, days: number) => dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));

/** Bounds of GET /admin/bookings: a date is a whole UTC day, a timestamp an exact instant. */
function bookingRange(start: string | undefined, end: string | undefined) {
  const from = start === undefined ? undefined : new Date(isRealDate(start) ? `${start}T00:00:00Z` : start);
  const before = end !== undefined && isRealDate(end) ? new Date(`${addDays(end, 1)}T00:00:00Z`) : undefined;
  const until = end !== undefined && !isRealDate(end) ? new Date(end) : undefined;
  const empty = from !== undefined && ((before !== undefined && from >= before) || (until !== undefined && from > until));
  if (empty) {
    throw badRequest("start_date must not be after end_date", {
      errors: [{ field: "start_date", location: "query", message: "Must not be after end_date" }],
    });
  }
  return { from, before, until };
}

export const adminRoutes = createRouter();

// Authorization first, for every /admin path: 401/403 before any validation or lookup.
adminRoutes.use("/admin/*", requireRole("admin"));

adminRoutes
  .openapi(metricsRoute, async (c) => {
    const { days, currency } = c.req.valid("query");
    return c.json(await getMetrics(c.var.db, days, c.var.now, currency ?? "USD"), 200);
  })
  .openapi(listUsersRoute, async (c) => {
    const { role, is_active, search, ...pagination } = c.req.valid("query");
    const { items, total } = await listUsers(c.var.db, { role, isActive: is_active, search }, pagination);
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
    const patch = c.req.valid("json");
    const result = await updateUser(c.var.db, actor.id, id, patch, c.var.now);
    // After commit: tokens minted before now stop working on the next request
    // (the role claim in them is stale, or the account is inactive).
    if (result.revokeTokens) await revokeUserTokens(c.env.RATE_LIMITER, id, c.var.now);
    return c.json(result.user, 200);
  })
  .openapi(deleteUserRoute, async (c) => {
    const actor = requireUser(c, "admin");
    await deleteUserAsAdmin(c.var.db, c.var.deps, actor.id, c.req.valid("param").id, c.var.now);
    return c.body(null, 204);
  })
  .openapi(listBookingsRoute, async (c) => {
    const { status, coach_id, client_id, start_date, end_date, ...pagination } = c.req.valid("query");
    const range = bookingRange(start_date, end_date);
    const { items, total } = await listBookings(
      c.var.db,
      { status, coachId: coach_id, clientId: client_id, ...range },
      pagination,
    );
    return c.json(page(items, total, pagination), 200);
  })
  .openapi(deletePostRoute, async (c) => {
    const actor = requireUser(c, "admin");
    await deletePostAsAdmin(c.var.db, actor.id, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(revenueRoute, async (c) => {
    const query = c.req.valid("query");
    const today = dayOf(c.var.now);
    const end = query.end_date ?? (query.start_date && query.start_date > today ? query.start_date : today);
    const start = query.start_date ?? addDays(end, -(DEFAULT_REVENUE_DAYS - 1));
    if (start > end) {
      throw badRequest("start_date must not be after end_date", {
        errors: [{ field: "start_date", location: "query", message: "Must not be after end_date" }],
      });
    }
    const days = Math.round((Date.parse(end) - Date.parse(start)) / DAY_MS) + 1;
    if (days > MAX_REVENUE_DAYS) {
      throw badRequest(`The period may cover at most ${MAX_REVENUE_DAYS} days`, {
        errors: [{ field: "end_date", location: "query", message: `At most ${MAX_REVENUE_DAYS} days after start_date` }],
      });
    }
    const report = await getRevenueReport(c.var.db, start, end, query.currency ?? "USD");
    if (query.format === "csv") {
      return c.body(revenueCsv(report), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="revenue-${start}-${end}.csv"`,
      });
    }
    return c.json(report, 200);
  })
  .openapi(auditRoute, async (c) => {
    const { actor_id, action, ...pagination } = c.req.valid("query");
    const { items, total } = await listAudit(c.var.db, { actorId: actor_id, action }, pagination);
    return c.json(page(items, total, pagination), 200);
  })
  .openapi(importRoute, async (c) => {
    const actor = requireUser(c, "admin");
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "text/csv") {
      throw badRequest("Send the file as the request body with Content-Type: text/csv", {
        errors: [{ field: "body", location: "header", message: "Content-Type must be text/csv" }],
      });
    }
    const text = await c.req.text();
    if (text.trim() === "") throw badRequest("The file is empty: a header row is required");
    const report = await importPhase1(c.var.db, text, { actorId: actor.id, now: c.var.now, source: { kind: "api" } });
    return c.json(report, 200);
  });
