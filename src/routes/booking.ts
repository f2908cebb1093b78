/**
 * Bookings (contract: Bookings). Thin: validate -> service -> shape.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { bookings } from "../../drizzle/schema.ts";
import type { Database } from "../db/client.ts";
import type { AuthUser } from "../env.ts";
import { notFound } from "../lib/errors.ts";
import { httpUrlField } from "../lib/fields.ts";
import { bearerSecurity, errorResponses, jsonContent, UUID_PATTERN } from "../lib/openapi.ts";
import { page, pageSchema, paginationQuery } from "../lib/pagination.ts";
import { createRouter } from "../lib/router.ts";
import { requireUser } from "../middleware/auth.ts";
import { cancelBooking } from "../services/booking-cancellation.ts";
import { type CancellingParty, SESSION_DURATIONS } from "../services/booking-rules.ts";
import { assertParticipant, createBooking, getBookingFor, listBookingsOf, transitionBooking } from "../services/bookings.ts";

const uuid = (name: string) =>
  z
    .string()
    .regex(UUID_PATTERN, "Must be a UUID")
    .openapi({ param: { name, in: "path" }, example: "0b9c3c3e-2f7e-4a59-9d43-2a4d7a1f2b11" });

const STATUSES = ["pending", "confirmed", "completed", "cancelled"] as const;

/** ISO-8601 date-time; an offset-less value is read as UTC. */
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const dateTimeField = z
  .string()
  .regex(ISO_DATETIME, "Must be an ISO-8601 date-time such as 2026-03-02T10:00:00Z")
  .transform((value, ctx) => {
    const date = new Date(/(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`);
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: "custom", message: "Not a valid date-time" });
      return z.NEVER;
    }
    return date;
  })
  .openapi({ type: "string", format: "date-time", example: "2026-03-02T10:00:00Z" });

const PartySchema = z
  .object({
    id: z.string(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    photo_url: z.string().nullable(),
  })
  .openapi("BookingParty");

const BookingSchema = z
  .object({
    id: z.string(),
    client_id: z.string().openapi({ description: "the client's user id" }),
    coach_id: z.string().openapi({ description: "the coach's user id" }),
    session_datetime: z.string().openapi({ example: "2026-03-02T10:00:00Z" }),
    duration_minutes: z.number().int(),
    status: z.enum(STATUSES),
    payment_id: z.string().nullable(),
    meeting_link: z.string().nullable(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    client: PartySchema.optional(),
    coach: PartySchema.optional(),
  })
  .openapi("Booking");

const CreateBookingBody = z
  .object({
    coach_id: z
      .string()
      .regex(UUID_PATTERN, "Must be a UUID")
      .openapi({ description: "the coach's user id (the coach profile id is accepted too)" }),
    session_datetime: dateTimeField,
    duration_minutes: z
      .number()
      .int()
      .refine((value) => (SESSION_DURATIONS as readonly number[]).includes(value), "Must be 30, 60 or 90")
      .openapi({ enum: [...SESSION_DURATIONS] }),
    notes: z.string().max(2000).nullable().optional(),
  })
  .openapi("CreateBooking");

const StatusBody = z
  .object({
    status: z.enum(STATUSES),
    meeting_link: httpUrlField.optional(),
  })
  .openapi("BookingStatusChange");

const createBookingRoute = createRoute({
  method: "post",
  path: "/booking",
  tags: ["Bookings"],
  summary: "Book a session with a coach (clients)",
  description:
    "The whole session must lie inside one availability window of the coach, in the coach's time zone; overlaps with the coach's or the client's pending/confirmed bookings are 409 (enforced by the database); at most 3 unpaid pending bookings per client.",
  security: bearerSecurity,
  request: { body: { content: { "application/json": { schema: CreateBookingBody } }, required: true } },
  responses: { 201: jsonContent(BookingSchema, "The pending booking"), ...errorResponses(401, 403, 404, 409) },
});

const getBookingRoute = createRoute({
  method: "get",
  path: "/booking/{id}",
  tags: ["Bookings"],
  summary: "A booking with its client and coach (its parties and admins)",
  security: bearerSecurity,
  request: { params: z.object({ id: uuid("id") }) },
  responses: { 200: jsonContent(BookingSchema, "The booking"), ...errorResponses(401, 403, 404) },
});

const ListQuery = paginationQuery.extend({ status: z.enum(STATUSES).optional() });
const BookingPage = pageSchema(BookingSchema, "BookingPage");

const listClientRoute = createRoute({
  method: "get",
  path: "/booking/client/{client_id}",
  tags: ["Bookings"],
  summary: "Bookings of a client (that client or an admin)",
  security: bearerSecurity,
  request: { params: z.object({ client_id: uuid("client_id") }), query: ListQuery },
  responses: { 200: jsonContent(BookingPage, "Bookings, latest session first"), ...errorResponses(401, 403) },
});

const listCoachRoute = createRoute({
  method: "get",
  path: "/booking/coach/{coach_id}",
  tags: ["Bookings"],
  summary: "Bookings of a coach (that coach or an admin)",
  security: bearerSecurity,
  request: { params: z.object({ coach_id: uuid("coach_id") }), query: ListQuery },
  responses: { 200: jsonContent(BookingPage, "Bookings, latest session first"), ...errorResponses(401, 403) },
});

const statusRoute = createRoute({
  method: "patch",
  path: "/booking/{id}/status",
  tags: ["Bookings"],
  summary: "Change a booking's status (coach/admin; the client may only cancel)",
  description:
    "pending -> confirmed | cancelled; confirmed -> completed (after the session ended) | cancelled; anything else 400. Cancelling applies the refund policy.",
  security: bearerSecurity,
  request: {
    params: z.object({ id: uuid("id") }),
    body: { content: { "application/json": { schema: StatusBody } }, required: true },
  },
  responses: { 200: jsonContent(BookingSchema, "The booking"), ...errorResponses(401, 403, 404, 503) },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/booking/{id}",
  tags: ["Bookings"],
  summary: "Cancel a booking (its parties, admins); refund per policy",
  description: "Coach or admin: full refund; client >= 24 h before the session: full refund; later: none.",
  security: bearerSecurity,
  request: { params: z.object({ id: uuid("id") }) },
  responses: { 204: { description: "Cancelled" }, ...errorResponses(401, 403, 404, 503) },
});

/** Who cancels, for the policy: admins as admins, otherwise the caller's side of the booking. */
async function cancellingParty(db: Database, bookingId: string, caller: AuthUser): Promise<CancellingParty> {
  const [booking] = await db
    .select({ clientId: bookings.clientId, coachId: bookings.coachId })
    .from(bookings)
    .where(eq(bookings.id, bookingId))
    .limit(1);
  if (!booking) throw notFound("Booking");
  assertParticipant(booking, caller);
  if (caller.role === "admin") return "admin";
  return caller.id === booking.coachId ? "coach" : "client";
}

export const bookingRoutes = createRouter()
  .openapi(createBookingRoute, async (c) => {
    const user = requireUser(c, "client");
    const body = c.req.valid("json");
    const booking = await createBooking(c.var.db, {
      clientId: user.id,
      coachRef: body.coach_id.toLowerCase(),
      sessionDatetime: body.session_datetime,
      durationMinutes: body.duration_minutes,
      notes: body.notes ?? null,
      now: c.var.now,
      payoutsRequired: c.var.config.payouts.required,
    });
    return c.json(booking, 201);
  })
  .openapi(listClientRoute, async (c) => {
    const user = requireUser(c);
    const { client_id } = c.req.valid("param");
    const { status, ...pagination } = c.req.valid("query");
    const result = await listBookingsOf(c.var.db, "client", client_id.toLowerCase(), user, { status }, pagination);
    return c.json(page(result.items, result.total, pagination), 200);
  })
  .openapi(listCoachRoute, async (c) => {
    const user = requireUser(c);
    const { coach_id } = c.req.valid("param");
    const { status, ...pagination } = c.req.valid("query");
    const result = await listBookingsOf(c.var.db, "coach", coach_id.toLowerCase(), user, { status }, pagination);
    return c.json(page(result.items, result.total, pagination), 200);
  })
  .openapi(getBookingRoute, async (c) => {
    const user = requireUser(c);
    const { id } = c.req.valid("param");
    return c.json(await getBookingFor(c.var.db, id.toLowerCase(), user), 200);
  })
  .openapi(statusRoute, async (c) => {
    const user = requireUser(c);
    const id = c.req.valid("param").id.toLowerCase();
    const body = c.req.valid("json");
    if (body.status === "cancelled") {
      const party = await cancellingParty(c.var.db, id, user);
      await cancelBooking(c.var.db, c.var.deps, { bookingId: id, party, now: c.var.now });
      return c.json(await getBookingFor(c.var.db, id, user), 200);
    }
    const booking = await transitionBooking(c.var.db, c.var.deps, {
      bookingId: id,
      caller: user,
      to: body.status,
      now: c.var.now,
      ...(body.meeting_link !== undefined ? { meetingLink: body.meeting_link } : {}),
    });
    return c.json(booking, 200);
  })
  .openapi(deleteRoute, async (c) => {
    const user = requireUser(c);
    const id = c.req.valid("param").id.toLowerCase();
    const party = await cancellingParty(c.var.db, id, user);
    await cancelBooking(c.var.db, c.var.deps, { bookingId: id, party, now: c.var.now });
    return c.body(null, 204);
  });
