/**
 * Rescheduling (contract v2): POST /booking/{id}/reschedule {session_datetime}.
 *
 * Only pending or confirmed bookings; the new time follows every rule of
 * POST /booking (in the future, inside one availability window of the coach,
 * same duration, no overlap with the coach's or the client's other bookings);
 * a client only >= 24 h before the current start (409), the coach and admins
 * any time. The booking keeps its id, status and payment; the move is the same
 * row's update, so the old slot is freed in the same transaction and the
 * exclusion constraints judge the new one. Each move is kept in
 * booking_reschedules; both parties get a "Rescheduled: ..." email; SEQUENCE + 1
 * so subscribed calendars move the same event (same UID).
 *
 * Two round trips: loadBookingForWrite (booking, parties, the coach's
 * availability), then booking_reschedule(), which takes the per-coach lock,
 * re-checks status, current start and the 24 h rule under the row lock,
 * pre-checks overlaps, updates, records the history and the emails.
 */
import { sql } from "drizzle-orm";
import { bookings } from "../../drizzle/schema.ts";
import type { BookingView } from "../contract/bookings.ts";
import type { Executor } from "../db/client.ts";
import { rowFromJson } from "../db/json-rows.ts";
import type { AuthUser, ServiceEnv } from "../env.ts";
import { badRequest, conflict, fieldError, notFound } from "../lib/errors.ts";
import { isoUtc } from "../lib/time.ts";
import { bookingEmails, partySummary } from "./booking-emails.ts";
import { type BookingStatus, CLIENT_RESCHEDULE_NOTICE_MS } from "./booking-rules.ts";
import { concurrentChange } from "./booking-status.ts";
import {
  assertParticipant,
  availabilityConflict,
  bookingView,
  callBookingFunction,
  futureStartRequired,
  loadBookingForWrite,
  overlapConflict,
} from "./bookings.ts";
import { dispatchEmails } from "./notifications.ts";

export interface RescheduleInput {
  bookingId: string;
  caller: AuthUser;
  sessionDatetime: Date;
  now: Date;
}

type RescheduleOutcome =
  | { outcome: "rescheduled"; booking: Record<string, unknown>; email_ids: string[] }
  | { outcome: "not_found" | "changed" | "coach_slot_taken" | "client_overlap" }
  | { outcome: "bad_status"; status: BookingStatus }
  | { outcome: "too_late"; session_datetime: string };

const RESCHEDULABLE: readonly BookingStatus[] = ["pending", "confirmed"];

function notReschedulable(status: BookingStatus) {
  return badRequest(`A ${status} booking cannot be rescheduled`, { status, allowed_from: [...RESCHEDULABLE] });
}

function tooLate(start: Date) {
  return conflict("A client can reschedule only at least 24 hours before the session; ask the coach to move it", {
    reason: "reschedule_too_late",
    session_datetime: isoUtc(start),
    notice_hours: CLIENT_RESCHEDULE_NOTICE_MS / 3_600_000,
  });
}

export async function rescheduleBooking(db: Executor, env: ServiceEnv, input: RescheduleInput): Promise<BookingView> {
  const { caller, now, sessionDatetime: start } = input;
  const state = await loadBookingForWrite(db, input.bookingId);
  if (!state) throw notFound("Booking");
  const { booking, parties, coachAvailability } = state;
  assertParticipant(booking, caller);
  const role = caller.role === "admin" ? "admin" : caller.id === booking.coachId ? "coach" : "client";

  if (!RESCHEDULABLE.includes(booking.status)) throw notReschedulable(booking.status);
  if (role === "client" && booking.sessionDatetime.getTime() - now.getTime() < CLIENT_RESCHEDULE_NOTICE_MS)
    throw tooLate(booking.sessionDatetime);
  futureStartRequired(start, now);
  if (start.getTime() === booking.sessionDatetime.getTime()) {
    throw badRequest(
      "The booking is already at that time",
      fieldError("session_datetime", "body", "Must differ from the current start"),
    );
  }
  const unavailable = availabilityConflict(coachAvailability, start, booking.durationMinutes);
  if (unavailable) throw unavailable;

  const emails = bookingEmails({ ...booking, sessionDatetime: start }, parties, {
    kind: "rescheduled",
    from: booking.sessionDatetime,
    by: role,
  });
  const result = await callBookingFunction<RescheduleOutcome>(
    db,
    sql`booking_reschedule(${booking.id}::uuid, ${booking.sessionDatetime.toISOString()}::timestamptz,
        ${start.toISOString()}::timestamptz, ${caller.id}::uuid, ${role}::user_role,
        ${now.toISOString()}::timestamptz, make_interval(secs => ${CLIENT_RESCHEDULE_NOTICE_MS / 1000}),
        ${JSON.stringify(emails)}::jsonb)`,
  );
  switch (result.outcome) {
    case "rescheduled":
      await dispatchEmails(env, result.email_ids);
      return bookingView(rowFromJson(bookings, result.booking), {
        client: partySummary(parties.client),
        coach: partySummary(parties.coach),
      });
    case "not_found":
      throw notFound("Booking");
    case "changed":
      throw concurrentChange();
    case "bad_status":
      throw notReschedulable(result.status);
    case "too_late":
      throw tooLate(new Date(result.session_datetime));
    default:
      throw overlapConflict(result.outcome) ?? new Error(`unexpected outcome ${result.outcome}`);
  }
}
