/**
 * Contract section "Bookings" and "Free slots": the wire shapes, once. Routes
 * validate with them, the OpenAPI document is generated from them, and answers
 * are parsed through them (a field added in a service cannot leak).
 */
import { z } from "@hono/zod-openapi";
import { httpUrlField } from "../lib/fields.ts";
import { UUID_PATTERN } from "../lib/openapi.ts";
import { pageSchema, paginationQuery } from "../lib/pagination.ts";

export const SESSION_DURATIONS = [30, 60, 90] as const;
export const BOOKING_STATUSES = ["pending", "confirmed", "completed", "cancelled"] as const;

const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;
/** ISO-8601 date-time; an offset-less value is read as UTC. */
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Contract v2: dates outside the years 1900-9999 are a 400 (Postgres and Date disagree beyond them). */
const inSupportedYears = (date: Date) => date.getUTCFullYear() >= 1900 && date.getUTCFullYear() <= 9999;

function parseDateTime(value: string): Date | undefined {
  const date = new Date(OFFSET.test(value) ? value : `${value}Z`);
  return Number.isNaN(date.getTime()) || !inSupportedYears(date) ? undefined : date;
}

export const dateTimeField = z
  .string()
  .regex(ISO_DATETIME, "Must be an ISO-8601 date-time such as 2026-03-02T10:00:00Z")
  .transform((value, ctx) => {
    const date = parseDateTime(value);
    if (!date) {
      ctx.addIssue({ code: "custom", message: "Not a valid date-time (years 1900-9999)" });
      return z.NEVER;
    }
    return date;
  })
  .openapi({ type: "string", format: "date-time", example: "2026-03-02T10:00:00Z" });

/** A calendar date (read later in the coach's time zone) or an instant. */
export type DateOrInstant = { kind: "date"; date: string } | { kind: "instant"; at: Date };

export const dateOrDateTimeField = z
  .string()
  .transform((value, ctx): DateOrInstant => {
    if (ISO_DATE.test(value)) {
      const probe = new Date(`${value}T00:00:00Z`);
      if (!Number.isNaN(probe.getTime()) && probe.toISOString().startsWith(value) && inSupportedYears(probe))
        return { kind: "date", date: value };
    } else if (ISO_DATETIME.test(value)) {
      const at = parseDateTime(value);
      if (at) return { kind: "instant", at };
    }
    ctx.addIssue({ code: "custom", message: "Must be a date YYYY-MM-DD or an ISO-8601 date-time (years 1900-9999)" });
    return z.NEVER;
  })
  .openapi({ type: "string", example: "2026-03-02" });

const durationField = z
  .number()
  .int()
  .refine((value) => (SESSION_DURATIONS as readonly number[]).includes(value), "Must be 30, 60 or 90")
  .openapi({ type: "integer", enum: [...SESSION_DURATIONS] });

export const BookingPartySchema = z
  .object({
    id: z.string(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    photo_url: z.string().nullable(),
  })
  .openapi("BookingParty");

export const BookingRescheduleSchema = z
  .object({
    id: z.string(),
    old_session_datetime: z.string().openapi({ example: "2026-03-02T10:00:00Z" }),
    new_session_datetime: z.string().openapi({ example: "2026-03-03T15:30:00Z" }),
    rescheduled_by: z.string().nullable().openapi({ description: "user id of who moved it (null once that account is gone)" }),
    rescheduled_by_role: z.enum(["client", "coach", "admin"]),
    created_at: z.string(),
  })
  .openapi("BookingReschedule");

export const BookingSchema = z
  .object({
    id: z.string(),
    client_id: z.string().openapi({ description: "the client's user id" }),
    coach_id: z.string().openapi({ description: "the coach's user id" }),
    session_datetime: z.string().openapi({ example: "2026-03-02T10:00:00Z" }),
    duration_minutes: z.number().int(),
    status: z.enum(BOOKING_STATUSES),
    payment_id: z.string().nullable(),
    meeting_link: z.string().nullable(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    client: BookingPartySchema.optional(),
    coach: BookingPartySchema.optional(),
    reschedules: z
      .array(BookingRescheduleSchema)
      .optional()
      .openapi({ description: "GET /booking/{id}: every reschedule of the booking, oldest first" }),
  })
  .openapi("Booking");

export type BookingView = z.infer<typeof BookingSchema>;
export type BookingPartySummary = z.infer<typeof BookingPartySchema>;
export type BookingRescheduleView = z.infer<typeof BookingRescheduleSchema>;

export const CreateBookingBody = z
  .object({
    coach_id: z
      .string()
      .regex(UUID_PATTERN, "Must be a UUID")
      .openapi({ description: "the coach's user id (the coach profile id is accepted too)" }),
    session_datetime: dateTimeField,
    duration_minutes: durationField,
    notes: z.string().max(2000).nullable().optional(),
  })
  .openapi("CreateBooking");

export const RescheduleBody = z
  .object({ session_datetime: dateTimeField })
  .strict()
  .openapi("RescheduleBooking", { example: { session_datetime: "2026-03-03T15:30:00Z" } });

export const StatusBody = z
  .object({
    status: z.enum(BOOKING_STATUSES),
    meeting_link: httpUrlField
      .optional()
      .openapi({ description: "http(s) only; on a confirmed booking with status confirmed it replaces the link" }),
  })
  .openapi("BookingStatusChange");

export const BookingListQuery = paginationQuery.extend({ status: z.enum(BOOKING_STATUSES).optional() });
export const BookingPageSchema = pageSchema(BookingSchema, "BookingPage");

// ---------------------------------------------------------------------------
// Free slots
// ---------------------------------------------------------------------------

export const MAX_SLOT_RANGE_DAYS = 31;

export const FreeSlotsQuery = z.object({
  start_date: dateOrDateTimeField
    .optional()
    .openapi({ description: "first day (YYYY-MM-DD, in the coach's time zone) or an instant; default: today" }),
  end_date: dateOrDateTimeField
    .optional()
    .openapi({ description: "last day, inclusive (YYYY-MM-DD) or an instant; default: start + 6 days; at most 31 days" }),
  duration_minutes: z.coerce
    .number()
    .int()
    .refine((value) => (SESSION_DURATIONS as readonly number[]).includes(value), "Must be 30, 60 or 90")
    .default(60)
    .openapi({ type: "integer", enum: [...SESSION_DURATIONS], default: 60 }),
});

export const FreeSlotSchema = z
  .object({
    start: z.string().openapi({ example: "2026-03-02T09:00:00Z" }),
    end: z.string().openapi({ example: "2026-03-02T10:00:00Z" }),
    duration_minutes: z.number().int(),
  })
  .openapi("FreeSlot");

export const FreeSlotsSchema = z
  .object({
    coach_id: z.string().openapi({ description: "the coach's user id" }),
    timezone: z.string().openapi({ example: "Europe/Madrid" }),
    duration_minutes: z.number().int(),
    available_slots: z.array(FreeSlotSchema),
  })
  .openapi("FreeSlots");

export type FreeSlots = z.infer<typeof FreeSlotsSchema>;
