/**
 * Status changes other than cancellation (PATCH /booking/{id}/status):
 *   pending -> confirmed (coach/admin; e.g. a session arranged outside Stripe),
 *   confirmed -> confirmed with a meeting_link (contract v2: only the link changes),
 *   confirmed -> completed (once the session has ended).
 * Anything else is a 400. Two round trips: loadBookingForWrite, then
 * booking_set_status(), which re-checks the status it was given under the row
 * lock, sets the link (the given one, else the existing one, else a generated
 * one), counts a completed session in total_sessions only when it was paid
 * (contract v2) and records the emails in the outbox -- all in one statement.
 */
import { sql } from "drizzle-orm";
import { bookings } from "../../drizzle/schema.ts";
import type { BookingView } from "../contract/bookings.ts";
import type { Executor } from "../db/client.ts";
import { rowFromJson } from "../db/json-rows.ts";
import type { AuthUser, ServiceEnv } from "../env.ts";
import { badRequest, conflict, forbidden, notFound } from "../lib/errors.ts";
import { isoUtc } from "../lib/time.ts";
import { bookingEmails, partySummary } from "./booking-emails.ts";
import { allowedTransitions, type BookingStatus, isAllowedTransition } from "./booking-rules.ts";
import { assertParticipant, bookingView, callBookingFunction, loadBookingForWrite } from "./bookings.ts";
import { generateMeetingLink } from "./meeting-links.ts";
import { dispatchEmails, type Email } from "./notifications.ts";

export interface TransitionInput {
  bookingId: string;
  caller: AuthUser;
  /** "pending" is accepted only to be refused with the transition table (nothing goes back to pending) */
  to: Exclude<BookingStatus, "cancelled">;
  meetingLink?: string;
  now: Date;
}

type SetStatusOutcome =
  | { outcome: "updated"; booking: Record<string, unknown>; email_ids: string[] }
  | { outcome: "not_found" }
  | { outcome: "changed" }
  | { outcome: "invalid"; status: BookingStatus };

export const concurrentChange = () =>
  conflict("The booking changed while this request was handled; reload it and try again", { reason: "booking_changed" });

function invalidTransition(from: BookingStatus, to: BookingStatus) {
  return badRequest(`Cannot change a ${from} booking to ${to}`, { from, to, allowed: [...allowedTransitions(from)] });
}

export async function transitionBooking(db: Executor, env: ServiceEnv, input: TransitionInput): Promise<BookingView> {
  const { caller, now, to } = input;
  const state = await loadBookingForWrite(db, input.bookingId);
  if (!state) throw notFound("Booking");
  const { booking, parties } = state;
  assertParticipant(booking, caller);
  if (caller.role !== "admin" && caller.id !== booking.coachId) throw forbidden("A client may only cancel a booking");

  const linkOnly = booking.status === "confirmed" && to === "confirmed";
  if (linkOnly && input.meetingLink === undefined) {
    throw badRequest("A confirmed booking stays confirmed only to replace its meeting_link", {
      from: booking.status,
      to,
      allowed: [...allowedTransitions(booking.status)],
    });
  }
  if (!linkOnly && !isAllowedTransition(booking.status, to)) throw invalidTransition(booking.status, to);
  if (to === "completed") {
    const end = booking.sessionDatetime.getTime() + booking.durationMinutes * 60_000;
    if (now.getTime() < end) {
      throw badRequest("A session can be completed only after it has ended", { session_end: isoUtc(new Date(end)) });
    }
  }

  // The link the booking will have, so the emails (written in the same statement) can carry it.
  const generated = to === "confirmed" && booking.status === "pending" ? generateMeetingLink(env.config) : null;
  const link = input.meetingLink ?? (linkOnly ? null : (booking.meetingLink ?? generated));
  let emails: Email[] = [];
  if (to === "confirmed") {
    emails = bookingEmails(
      { ...booking, meetingLink: link },
      parties,
      linkOnly ? { kind: "link_changed" } : { kind: "confirmed" },
    );
  }
  const result = await callBookingFunction<SetStatusOutcome>(
    db,
    sql`booking_set_status(${booking.id}::uuid, ${booking.status}::booking_status, ${to}::booking_status,
        ${input.meetingLink ?? null}::text, ${generated}::text, ${now.toISOString()}::timestamptz, ${JSON.stringify(emails)}::jsonb)`,
  );
  if (result.outcome === "not_found") throw notFound("Booking");
  if (result.outcome === "changed") throw concurrentChange();
  if (result.outcome === "invalid") throw invalidTransition(result.status, to);
  await dispatchEmails(env, result.email_ids);
  return bookingView(rowFromJson(bookings, result.booking), {
    client: partySummary(parties.client),
    coach: partySummary(parties.coach),
  });
}
