/**
 * Bookings and free slots (contract: Bookings, Free slots). Thin: validate ->
 * service -> shape through the contract schema.
 */

import { createRoute } from "@hono/zod-openapi";
import {
  BookingListQuery,
  BookingPageSchema,
  BookingSchema,
  CreateBookingBody,
  FreeSlotsQuery,
  FreeSlotsSchema,
  RescheduleBody,
  StatusBody,
} from "../contract/bookings.ts";
import { IdParam } from "../contract/common.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi.ts";
import { page } from "../lib/pagination.ts";
import { createRouter } from "../lib/router.ts";
import { requireUser } from "../middleware/auth.ts";
import { cancelBooking } from "../services/booking-cancellation.ts";
import { partySummary } from "../services/booking-emails.ts";
import { rescheduleBooking } from "../services/booking-reschedule.ts";
import { transitionBooking } from "../services/booking-status.ts";
import { bookingView, createBooking, getBookingFor, listBookingsOf } from "../services/bookings.ts";
import { freeSlotsFor } from "../services/free-slots.ts";

const createBookingRoute = createRoute({
  method: "post",
  path: "/booking",
  tags: ["Bookings"],
  summary: "Book a session with a coach (clients)",
  description:
    "The whole session must lie inside one availability window of the coach, in the coach's time zone; " +
    "overlaps with the coach's or the client's pending/confirmed bookings are 409 (enforced by the database); " +
    "at most 3 unpaid bookings per client (pending, or confirmed without payment), 1 while the client's email " +
    "is not verified (docs/BOOKINGS.md).",
  security: bearerSecurity,
  request: { body: { content: { "application/json": { schema: CreateBookingBody } }, required: true } },
  responses: { 201: jsonContent(BookingSchema, "The pending booking"), ...errorResponses(401, 403, 404, 409) },
});

const freeSlotsRoute = createRoute({
  method: "get",
  path: "/booking/coach/{coach_id}/availability",
  tags: ["Bookings"],
  summary: "Free slots of a coach (anyone)",
  description:
    "Starts every 30 minutes on the coach's wall clock (DST-correct) where the whole session fits one " +
    "availability window, at least 2 hours ahead, not overlapping a pending/confirmed booking of the coach; " +
    "start/end in UTC, sorted. A listed slot is accepted by POST /booking unless someone takes it first. Dates " +
    "are read in the coach's time zone, both inclusive; at most 31 days. Served from the edge cache keyed by " +
    "the bookings data version; Cache-Control: private, max-age=0, must-revalidate (with an ETag).",
  request: { params: IdParam("coach_id"), query: FreeSlotsQuery },
  responses: { 200: jsonContent(FreeSlotsSchema, "The free slots"), ...errorResponses(404) },
});

const getBookingRoute = createRoute({
  method: "get",
  path: "/booking/{id}",
  tags: ["Bookings"],
  summary: "A booking with its client, coach and reschedules (its parties and admins)",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 200: jsonContent(BookingSchema, "The booking"), ...errorResponses(401, 403, 404) },
});

const listClientRoute = createRoute({
  method: "get",
  path: "/booking/client/{client_id}",
  tags: ["Bookings"],
  summary: "Bookings of a client (that client or an admin)",
  security: bearerSecurity,
  request: { params: IdParam("client_id"), query: BookingListQuery },
  responses: { 200: jsonContent(BookingPageSchema, "Bookings, latest session first"), ...errorResponses(401, 403) },
});

const listCoachRoute = createRoute({
  method: "get",
  path: "/booking/coach/{coach_id}",
  tags: ["Bookings"],
  summary: "Bookings of a coach (that coach or an admin)",
  security: bearerSecurity,
  request: { params: IdParam("coach_id"), query: BookingListQuery },
  responses: { 200: jsonContent(BookingPageSchema, "Bookings, latest session first"), ...errorResponses(401, 403) },
});

const statusRoute = createRoute({
  method: "patch",
  path: "/booking/{id}/status",
  tags: ["Bookings"],
  summary: "Change a booking's status (coach/admin; the client may only cancel)",
  description:
    "pending -> confirmed | cancelled; confirmed -> completed (after the session ended) | cancelled; confirmed " +
    "-> confirmed with a meeting_link only replaces the link; anything else 400. Confirming without a " +
    "meeting_link generates one (MEETING_BASE_URL + an unguessable room). Cancelling applies the refund " +
    "policy. 409 when the booking changed meanwhile.",
  security: bearerSecurity,
  request: {
    params: IdParam(),
    body: { content: { "application/json": { schema: StatusBody } }, required: true },
  },
  responses: { 200: jsonContent(BookingSchema, "The booking"), ...errorResponses(401, 403, 404, 409, 503) },
});

const rescheduleRoute = createRoute({
  method: "post",
  path: "/booking/{id}/reschedule",
  tags: ["Bookings"],
  summary: "Move a pending or confirmed booking to another time (its parties, admins)",
  description:
    "The new time follows every rule of POST /booking (future, inside one availability window, same duration, " +
    "no overlap -> 409 with a reason). A client only >= 24 h before the current start (else 409 " +
    "reschedule_too_late); the coach and admins any time. Same id, status and payment; both parties are " +
    "emailed; the calendar event keeps its UID with a higher SEQUENCE; the move is listed in GET /booking/{id} " +
    "as reschedules. 400 for a booking that is not pending/confirmed.",
  security: bearerSecurity,
  request: {
    params: IdParam(),
    body: { content: { "application/json": { schema: RescheduleBody } }, required: true },
  },
  responses: { 200: jsonContent(BookingSchema, "The booking at its new time"), ...errorResponses(401, 403, 404, 409) },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/booking/{id}",
  tags: ["Bookings"],
  summary: "Cancel a booking (its parties, admins); refund per policy",
  description:
    "Coach or admin: full refund; client >= 24 h before the session: full refund; later: none. 503 when Stripe " +
    "cannot take a due refund: the booking is cancelled and calling again completes the refund.",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 204: { description: "Cancelled" }, ...errorResponses(401, 403, 404, 409, 503) },
});

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
    return c.json(BookingSchema.parse(booking), 201);
  })
  .openapi(freeSlotsRoute, async (c) => {
    const { coach_id } = c.req.valid("param");
    const query = c.req.valid("query");
    const slots = await freeSlotsFor(c.var.db, {
      coachRef: coach_id.toLowerCase(),
      durationMinutes: query.duration_minutes,
      now: c.var.now,
      ...(query.start_date ? { start: query.start_date } : {}),
      ...(query.end_date ? { end: query.end_date } : {}),
    });
    return c.json(FreeSlotsSchema.parse(slots), 200);
  })
  .openapi(listClientRoute, async (c) => {
    const user = requireUser(c);
    const { client_id } = c.req.valid("param");
    const { status, ...pagination } = c.req.valid("query");
    const result = await listBookingsOf(c.var.db, "client", client_id.toLowerCase(), user, { status }, pagination);
    return c.json(BookingPageSchema.parse(page(result.items, result.total, pagination)), 200);
  })
  .openapi(listCoachRoute, async (c) => {
    const user = requireUser(c);
    const { coach_id } = c.req.valid("param");
    const { status, ...pagination } = c.req.valid("query");
    const result = await listBookingsOf(c.var.db, "coach", coach_id.toLowerCase(), user, { status }, pagination);
    return c.json(BookingPageSchema.parse(page(result.items, result.total, pagination)), 200);
  })
  .openapi(getBookingRoute, async (c) => {
    const user = requireUser(c);
    const { id } = c.req.valid("param");
    return c.json(BookingSchema.parse(await getBookingFor(c.var.db, id.toLowerCase(), user)), 200);
  })
  .openapi(statusRoute, async (c) => {
    const user = requireUser(c);
    const id = c.req.valid("param").id.toLowerCase();
    const body = c.req.valid("json");
    if (body.status === "cancelled") {
      const { booking, parties } = await cancelBooking(c.var.db, c.var.deps, { bookingId: id, caller: user, now: c.var.now });
      const view = bookingView(booking, { client: partySummary(parties.client), coach: partySummary(parties.coach) });
      return c.json(BookingSchema.parse(view), 200);
    }
    const booking = await transitionBooking(c.var.db, c.var.deps, {
      bookingId: id,
      caller: user,
      to: body.status,
      now: c.var.now,
      ...(body.meeting_link !== undefined ? { meetingLink: body.meeting_link } : {}),
    });
    return c.json(BookingSchema.parse(booking), 200);
  })
  .openapi(rescheduleRoute, async (c) => {
    const user = requireUser(c);
    const id = c.req.valid("param").id.toLowerCase();
    const body = c.req.valid("json");
    const booking = await rescheduleBooking(c.var.db, c.var.deps, {
      bookingId: id,
      caller: user,
      sessionDatetime: body.session_datetime,
      now: c.var.now,
    });
    return c.json(BookingSchema.parse(booking), 200);
  })
  .openapi(deleteRoute, async (c) => {
    const user = requireUser(c);
    const id = c.req.valid("param").id.toLowerCase();
    await cancelBooking(c.var.db, c.var.deps, { bookingId: id, caller: user, now: c.var.now });
    return c.body(null, 204);
  });
