/**
 * Wire shapes of the contract's Admin section, and its input rules as zod
 * refinements (so /openapi.json shows them and routes hold no rule): dates are
 * real calendar dates in years 1900-9999 (else 400, never a 500 from
 * Postgres), a range's start is not after its end, a revenue period covers at
 * most 10 years.
 */
import { z } from "@hono/zod-openapi";
import { bookingStatus, userRole } from "../../drizzle/schema.ts";
import { isoCurrencyField } from "../lib/fields.ts";
import { UUID_PATTERN } from "../lib/openapi.ts";
import { paginationQuery } from "../lib/pagination.ts";
import { DAY_MS } from "../lib/time.ts";

export const uuidField = (description: string) => z.string().regex(UUID_PATTERN, "Must be a UUID").openapi({ description });

export const RoleField = z.enum(userRole.enumValues);
export const BooleanQuery = z.enum(["true", "false"]).transform((value) => value === "true");

export const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const TIMESTAMP = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
export const MIN_YEAR = 1900;
export const MAX_YEAR = 9999;
/** A revenue report covers at most 10 years (contract v2), e.g. 2020-01-01 to today. */
export const MAX_REVENUE_YEARS = 10;

/** A calendar date that exists (2026-02-30 does not). */
export function isRealDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const year = Number(value.slice(0, 4));
  if (year < MIN_YEAR || year > MAX_YEAR) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** An ISO-8601 timestamp with a zone whose instant lies in years 1900-9999 (UTC). */
function isTimestamp(value: string): boolean {
  if (!TIMESTAMP.test(value)) return false;
  const time = Date.parse(value);
  if (Number.isNaN(time)) return false;
  const year = new Date(time).getUTCFullYear();
  return year >= MIN_YEAR && year <= MAX_YEAR;
}

export const DateField = z
  .string()
  .refine(isRealDate, `Must be a date YYYY-MM-DD in the years ${MIN_YEAR}-${MAX_YEAR}`)
  .openapi({ type: "string", format: "date", example: "2026-01-31" });

/** YYYY-MM-DD (a whole UTC day) or an ISO-8601 timestamp with a zone. */
export const DateOrTimestampField = z
  .string()
  .refine(
    (value) => isRealDate(value) || isTimestamp(value),
    `Must be a date YYYY-MM-DD or an ISO-8601 timestamp with a zone, in the years ${MIN_YEAR}-${MAX_YEAR}`,
  )
  .openapi({ example: "2026-01-31" });

// Any ISO code: reports may ask for a currency no coach charges in (only a coach's own currency must be Stripe-chargeable).
export const CurrencyQuery = isoCurrencyField.optional().openapi({
  description: "Amounts in different currencies are never added up: the figures are for this currency (default USD)",
  example: "USD",
});

export const AdminUserSchema = z
  .object({
    id: z.string().guid(),
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

export const AdminBookingPartySchema = z.object({
  id: z.string().guid(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
});

export const AdminBookingSchema = z
  .object({
    id: z.string().guid(),
    client_id: z.string().guid(),
    coach_id: z.string().guid(),
    session_datetime: z.string(),
    duration_minutes: z.number().int(),
    status: z.enum(bookingStatus.enumValues),
    payment_id: z.string().guid().nullable(),
    meeting_link: z.string().nullable(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("AdminBooking");

export const AdminBookingListItemSchema = AdminBookingSchema.extend({
  client: AdminBookingPartySchema,
  coach: AdminBookingPartySchema,
}).openapi("AdminBookingListItem");

export const AdminPaymentSchema = z
  .object({
    id: z.string().guid(),
    booking_id: z.string().guid(),
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

export const ActivityCounts = z.object({
  bookings: z.number().int(),
  payments: z.number().int(),
  posts: z.number().int(),
  comments: z.number().int(),
});

export const AdminUserDetailSchema = z
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
            id: z.string().guid(),
            title: z.string(),
            post_type: z.string(),
            is_private: z.boolean(),
            upvotes: z.number().int(),
            created_at: z.string(),
          }),
        ),
        comments: z.array(
          z.object({ id: z.string().guid(), post_id: z.string().guid(), content: z.string(), created_at: z.string() }),
        ),
      })
      .openapi({ description: "The newest 50 of each (bookings as client or coach, their payments, posts, comments)" }),
    activity_totals: ActivityCounts.openapi({ description: "Exact counts behind `activity`" }),
  })
  .openapi("AdminUserDetail");

export const UserPatchBody = z
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

export const MetricsSchema = z
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

export const RevenueSchema = z
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
        coach_id: z.string().guid(),
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

export const AuditEntrySchema = z
  .object({
    id: z.string().guid(),
    actor_id: z.string().guid().nullable().openapi({ description: "null for the command-line import" }),
    action: z.string().openapi({ example: "user.update" }),
    target_type: z.string().openapi({ example: "user" }),
    target_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).openapi({ description: "before/after of the change" }),
    created_at: z.string(),
  })
  .openapi("AuditEntry");

export const ImportReportSchema = z
  .object({
    processed: z.number().int(),
    imported: z.number().int(),
    skipped: z.number().int().openapi({ description: "Rows whose email already exists (or appeared earlier in the file)" }),
    failed: z.number().int().openapi({ description: "Invalid rows; each one is in errors" }),
    errors: z.array(z.object({ line: z.number().int(), reason: z.string() })),
  })
  .openapi("ImportReport");

// ---------------------------------------------------------------------------
// queries and their range rules
// ---------------------------------------------------------------------------

export const ExportFormatQuery = z.enum(["json", "csv"]).default("json").openapi({
  description: "`csv`: a text/csv attachment of every matching row (pagination ignored), streamed, with a header row",
});

const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);

/** The instant a `start_date`/`end_date` value names: a date is its UTC midnight. */
function instantOf(value: string): number {
  return isRealDate(value) ? dayStart(value) : Date.parse(value);
}

const startAfterEnd = { path: ["start_date"], message: "Must not be after end_date" };

export const AdminUsersQuery = paginationQuery.extend({
  role: RoleField.optional(),
  is_active: BooleanQuery.optional(),
  search: z
    .string()
    .max(255)
    .optional()
    .openapi({ description: "Case-insensitive part of the email, first name, last name or full name" }),
  format: ExportFormatQuery,
});

export const AdminBookingsQuery = paginationQuery
  .extend({
    status: z.enum(bookingStatus.enumValues).optional(),
    coach_id: uuidField("The coach's user id").optional(),
    client_id: uuidField("The client's user id").optional(),
    start_date: DateOrTimestampField.optional().openapi({ description: "Sessions from this day (UTC) or instant on" }),
    end_date: DateOrTimestampField.optional().openapi({ description: "Sessions up to this day (inclusive, UTC) or instant" }),
    format: ExportFormatQuery,
  })
  .superRefine((query, ctx) => {
    if (query.start_date === undefined || query.end_date === undefined) return;
    // A date end covers its whole day: start 2026-01-31T10:00Z .. end 2026-01-31 is a real range.
    const end = isRealDate(query.end_date) ? dayStart(query.end_date) + DAY_MS - 1 : Date.parse(query.end_date);
    if (instantOf(query.start_date) > end) ctx.addIssue({ code: "custom", ...startAfterEnd });
  });

/** session_datetime bounds of GET /admin/bookings: a date is a whole UTC day, a timestamp an exact instant. */
export function bookingRange(start: string | undefined, end: string | undefined) {
  const from = start === undefined ? undefined : new Date(instantOf(start));
  const endIsDate = end !== undefined && isRealDate(end);
  // The day after 9999-12-31 is no valid Postgres input year: that end simply has no upper bound.
  const before = endIsDate && end < `${MAX_YEAR}-12-31` ? new Date(dayStart(end) + DAY_MS) : undefined;
  const until = end !== undefined && !endIsDate ? new Date(end) : undefined;
  return { from, before, until };
}

/** Why a revenue period is refused (start after end, over 10 years), or undefined. Dates YYYY-MM-DD. */
export function revenuePeriodProblem(start: string, end: string): { path: string[]; message: string } | undefined {
  if (start > end) return startAfterEnd;
  const limit = new Date(dayStart(start));
  limit.setUTCFullYear(limit.getUTCFullYear() + MAX_REVENUE_YEARS);
  if (dayStart(end) >= limit.getTime()) {
    return { path: ["end_date"], message: `The period may cover at most ${MAX_REVENUE_YEARS} years` };
  }
  return undefined;
}

export const RevenueQuery = z
  .object({
    start_date: DateField.optional(),
    end_date: DateField.optional(),
    format: z.enum(["json", "csv"]).default("json"),
    currency: CurrencyQuery,
  })
  .superRefine((query, ctx) => {
    if (query.start_date === undefined || query.end_date === undefined) return;
    const problem = revenuePeriodProblem(query.start_date, query.end_date);
    if (problem) ctx.addIssue({ code: "custom", ...problem });
  });

// ---------------------------------------------------------------------------
// CSV exports: columns named as the JSON item's fields (nested objects dotted)
// ---------------------------------------------------------------------------

export const ADMIN_USER_CSV_COLUMNS = Object.keys(AdminUserSchema.shape);

export const ADMIN_BOOKING_CSV_COLUMNS = Object.entries(AdminBookingListItemSchema.shape).flatMap(([name, field]) =>
  field instanceof z.ZodObject ? Object.keys(field.shape).map((inner) => `${name}.${inner}`) : [name],
);

export const CSV_EXPORT_DESCRIPTION =
  "With `format=csv`: every matching row (not one page), streamed, header row, columns named as the JSON " +
  "item's fields (nested objects as `client.first_name`); text cells starting with `=`, `+`, `-`, `@`, tab or " +
  "CR are prefixed with `'`.";

export type AdminUserBody = z.infer<typeof AdminUserSchema>;
export type AdminBookingListItemBody = z.infer<typeof AdminBookingListItemSchema>;
