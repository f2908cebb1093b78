/**
 * Bookings: the answer shape, creation under the booking rules, the reads,
 * and the one-statement read that every write of a booking starts from.
 * Status changes: booking-status.ts; rescheduling: booking-reschedule.ts;
 * cancellation: booking-cancellation.ts (account deletion uses it too);
 * parties and emails: booking-emails.ts.
 *
 * Round trips (issue 14): every write is one read statement and one call of a
 * Postgres function (migrations/0005_booking_write_functions.sql) that takes
 * the per-coach lock, re-checks what it must under it and writes.
 */
import { and, asc, count, desc, eq, or, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Booking, bookingReschedules, bookings, clientProfiles, coachProfiles, users } from "../../drizzle/schema.ts";
import type { BookingPartySummary, BookingView } from "../contract/bookings.ts";
import type { Executor } from "../db/client.ts";
import { rowFromJson, rowsFromJson } from "../db/json-rows.ts";
import type { AuthUser } from "../env.ts";
import { badRequest, conflict, fieldError, forbidden, notFound, pgErrorCode } from "../lib/errors.ts";
import { type Pagination, pageTotal, windowTotal } from "../lib/pagination.ts";
import { requireIso } from "../lib/time.ts";
import { type BookableCoach, forgetBookableCoach, recallBookableCoach, rememberBookableCoach } from "./bookable-coach-memo.ts";
import type { BookingParties } from "./booking-emails.ts";
import {
  type BookingStatus,
  checkAvailability,
  MAX_UNPAID_BOOKINGS_UNVERIFIED,
  MAX_UNPAID_PENDING_BOOKINGS,
} from "./booking-rules.ts";
import { assertCoachCanBePaid, canReceivePayoutsSql } from "./payouts.ts";

// payments.ts and booking-cancellation.ts import these from here.
export {
  type BookingNotice,
  type BookingParties,
  type BookingParty,
  bookingEmails,
  displayName,
  loadParties,
  partySummary,
} from "./booking-emails.ts";
export type { BookingView };

// ---------------------------------------------------------------------------
// Response shape
// ---------------------------------------------------------------------------

type Reschedule = typeof bookingReschedules.$inferSelect;

export function bookingView(
  booking: Booking,
  parties?: { client: BookingPartySummary; coach: BookingPartySummary },
  reschedules?: readonly Reschedule[],
): BookingView {
  return {
    id: booking.id,
    client_id: booking.clientId,
    coach_id: booking.coachId,
    session_datetime: requireIso(booking.sessionDatetime),
    duration_minutes: booking.durationMinutes,
    status: booking.status,
    payment_id: booking.paymentId,
    meeting_link: booking.meetingLink,
    notes: booking.notes,
    created_at: requireIso(booking.createdAt),
    updated_at: requireIso(booking.updatedAt),
    ...(parties ? { client: parties.client, coach: parties.coach } : {}),
    ...(reschedules
      ? {
          reschedules: reschedules.map((row) => ({
            id: row.id,
            old_session_datetime: requireIso(row.oldSessionDatetime),
            new_session_datetime: requireIso(row.newSessionDatetime),
            rescheduled_by: row.rescheduledBy,
            rescheduled_by_role: row.rescheduledByRole,
            created_at: requireIso(row.createdAt),
          })),
        }
      : {}),
  };
}

export function assertParticipant(booking: Pick<Booking, "clientId" | "coachId">, caller: AuthUser): void {
  if (caller.role === "admin" || caller.id === booking.clientId || caller.id === booking.coachId) return;
  throw forbidden("This booking belongs to other users");
}

// ---------------------------------------------------------------------------
// Overlaps: the same reasons from the pre-check (in the function) and the constraint
// ---------------------------------------------------------------------------

export const OVERLAP_REASONS: Record<string, { reason: string; message: string }> = {
  coach_slot_taken: { reason: "coach_slot_taken", message: "The coach already has a booking at that time" },
  client_overlap: { reason: "client_overlap", message: "You already have a booking at that time" },
};
const CONSTRAINT_REASONS: Record<string, string> = {
  bookings_coach_no_overlap: "coach_slot_taken",
  bookings_client_no_overlap: "client_overlap",
};

function constraintName(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const name = (current as { constraint?: unknown }).constraint;
    if (typeof name === "string") return name;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Runs a booking write function; a violation of an exclusion constraint (a race
 * the function's pre-check could not see, e.g. another path writing without the
 * lock) becomes the same 409 with its reason.
 */
export async function callBookingFunction<T>(db: Executor, statement: SQL): Promise<T> {
  try {
    const result = await db.execute<{ result: T }>(sql`select ${statement} as result`);
    const row = result.rows[0];
    if (!row) throw new Error("booking function returned no row");
    return row.result;
  } catch (error) {
    if (pgErrorCode(error) === "23P01") {
      const reason = CONSTRAINT_REASONS[constraintName(error) ?? ""] ?? "coach_slot_taken";
      const which = OVERLAP_REASONS[reason] as { reason: string; message: string };
      throw conflict(which.message, { reason: which.reason });
    }
    throw error;
  }
}

export function overlapConflict(outcome: string) {
  const which = OVERLAP_REASONS[outcome];
  return which ? conflict(which.message, { reason: which.reason }) : undefined;
}

export function availabilityConflict(availability: unknown, start: Date, durationMinutes: number) {
  const verdict = checkAvailability(availability, start, durationMinutes);
  if (verdict.ok) return undefined;
  return conflict(verdict.reason, {
    reason: "outside_availability",
    explanation: verdict.reason,
    timezone: verdict.timezone,
    local_start: verdict.local_start,
    local_end: verdict.local_end,
  });
}

export function futureStartRequired(start: Date, now: Date): void {
  if (start.getTime() <= now.getTime()) {
    throw badRequest("session_datetime must be in the future", fieldError("session_datetime", "body", "Must be in the future"));
  }
}

// ---------------------------------------------------------------------------
// Creation
// ---------------------------------------------------------------------------

export interface CreateBookingInput {
  clientId: string;
  /** the coach's user id or coach profile id */
  coachRef: string;
  sessionDatetime: Date;
  durationMinutes: number;
  notes: string | null;
  now: Date;
  /** PAYOUTS_REQUIRED=1: only coaches who can receive payouts are bookable (payouts.ts) */
  payoutsRequired?: boolean;
}

/** The bookable coach behind a user id or profile id: active, role coach, with a profile. */
async function findBookableCoach(db: Executor, coachRef: string) {
  const [coach] = await db
    .select({
      userId: users.id,
      availability: coachProfiles.availability,
      hourlyRate: coachProfiles.hourlyRate,
      canReceivePayouts: canReceivePayoutsSql, // payouts (PAYOUTS_REQUIRED)
    })
    .from(coachProfiles)
    .innerJoin(users, eq(users.id, coachProfiles.userId))
    .where(
      and(
        or(eq(coachProfiles.userId, coachRef), eq(coachProfiles.id, coachRef)),
        eq(users.role, "coach"),
        eq(users.isActive, true),
      ),
    )
    .limit(1);
  return coach;
}

type CreateOutcome =
  | { outcome: "created"; booking: Record<string, unknown> }
  | { outcome: "too_many_unpaid"; unpaid: number; limit: number; email_verified: boolean }
  | { outcome: "coach_slot_taken" | "client_overlap" };

/**
 * Creates a pending booking. Rules, in the order a client can fix them:
 * 404 unknown/inactive coach; 400 past start; 409 outside the coach's
 * availability, over the unpaid limit (1 unverified, 3 verified), or
 * overlapping. booking_create() serialises per coach and per client, counts
 * the unpaid holds, pre-checks overlaps and inserts; the exclusion
 * constraints stay the final word.
 *
 * Round trips: one when this isolate read the coach shortly before (the
 * free-slot listing or an earlier booking, bookable-coach-memo.ts) and every
 * check passes on what it read: booking_create_known_coach() re-checks those
 * facts in the transaction. Otherwise two: the coach (its availability is
 * judged here, on the coach's wall clock), then booking_create(). A check
 * that fails on remembered facts is re-judged on a fresh read, so no answer
 * rests on a stale memo.
 */
export async function createBooking(db: Executor, input: CreateBookingInput): Promise<BookingView> {
  const known = recallBookableCoach(input.coachRef, input.now);
  if (known && bookingRefusal(known, input) === undefined) {
    const result = await callBookingFunction<CreateOutcome | { outcome: "coach_changed" }>(
      db,
      sql`booking_create_known_coach(${input.clientId}::uuid, ${known.userId}::uuid,
          ${JSON.stringify(known.availability)}::jsonb, ${input.payoutsRequired === true}::boolean,
          ${bookingFunctionArguments(input)})`,
    );
    if (result.outcome !== "coach_changed") return createdBooking(result);
    forgetBookableCoach(input.coachRef);
  }

  const coach = await findBookableCoach(db, input.coachRef);
  if (!coach) throw notFound("Coach");
  rememberBookableCoach(input.coachRef, coach, input.now);
  const refusal = bookingRefusal(coach, input);
  if (refusal) throw refusal;
  return createdBooking(
    await callBookingFunction<CreateOutcome>(
      db,
      sql`booking_create(${input.clientId}::uuid, ${coach.userId}::uuid, ${bookingFunctionArguments(input)})`,
    ),
  );
}

/** Why this coach cannot be booked at that time (the checks made before the write), if so. */
function bookingRefusal(coach: BookableCoach, input: CreateBookingInput): Error | undefined {
  const { now, sessionDatetime: start, durationMinutes } = input;
  try {
    if (coach.userId === input.clientId) throw badRequest("You cannot book yourself");
    assertCoachCanBePaid(input.payoutsRequired === true, coach.canReceivePayouts);
    futureStartRequired(start, now);
  } catch (error) {
    return error as Error;
  }
  if (coach.hourlyRate === null)
    return conflict("The coach has not set an hourly rate yet and cannot be booked", { reason: "coach_has_no_rate" });
  return availabilityConflict(coach.availability, start, durationMinutes);
}

/** The arguments booking_create() and booking_create_known_coach() share after the parties. */
function bookingFunctionArguments(input: CreateBookingInput): SQL {
  return sql`${input.sessionDatetime.toISOString()}::timestamptz, ${input.durationMinutes}::int, ${input.notes}::text,
        ${input.now.toISOString()}::timestamptz, ${MAX_UNPAID_PENDING_BOOKINGS}::int, ${MAX_UNPAID_BOOKINGS_UNVERIFIED}::int`;
}

function createdBooking(result: CreateOutcome): BookingView {
  if (result.outcome === "too_many_unpaid") {
    const message = result.email_verified
      ? `You already hold ${result.limit} unpaid bookings; pay or cancel one first`
      : `Verify your email address to hold more than ${result.limit} unpaid booking; pay or cancel the one you hold first`;
    throw conflict(message, {
      reason: result.email_verified ? "too_many_unpaid_bookings" : "email_not_verified",
      limit: result.limit,
      unpaid: result.unpaid,
      email_verified: result.email_verified,
    });
  }
  if (result.outcome !== "created") throw overlapConflict(result.outcome) ?? new Error(`unexpected outcome ${result.outcome}`);
  return bookingView(rowFromJson(bookings, result.booking));
}

// ---------------------------------------------------------------------------
// The read every write of one booking starts from (one statement)
// ---------------------------------------------------------------------------

/**
 * Profile rows of both parties under their own names, for one-statement
 * reads: a party's name is its coach profile's, else its client profile's
 * (as loadParties), whichever role it has.
 */
const clientAsClient = alias(clientProfiles, "client_cp");
const clientAsCoach = alias(coachProfiles, "client_kp");
const coachAsClient = alias(clientProfiles, "coach_cp");
const coachAsCoach = alias(coachProfiles, "coach_kp");
const clientUser = alias(users, "client_u");
const coachUser = alias(users, "coach_u");

export interface PaidPayment {
  id: string;
  intent: string | null;
  flag: string | null;
}

export interface BookingForWrite {
  booking: Booking;
  parties: BookingParties;
  /** the coach's availability (reschedules judge the new time against it) */
  coachAvailability: unknown;
  /** the booking's succeeded payments, by id */
  paidPayments: PaidPayment[];
}

/** The booking with both parties (emails, names), the coach's availability and its paid payments; undefined when unknown. */
export async function loadBookingForWrite(db: Executor, bookingId: string): Promise<BookingForWrite | undefined> {
  const [row] = await db
    .select({
      booking: bookings,
      clientEmail: clientUser.email,
      coachEmail: coachUser.email,
      clientFirst: sql<string | null>`coalesce(${clientAsCoach.firstName}, ${clientAsClient.firstName})`,
      clientLast: sql<string | null>`coalesce(${clientAsCoach.lastName}, ${clientAsClient.lastName})`,
      clientPhoto: sql<string | null>`coalesce(${clientAsCoach.photoUrl}, ${clientAsClient.photoUrl})`,
      coachFirst: sql<string | null>`coalesce(${coachAsCoach.firstName}, ${coachAsClient.firstName})`,
      coachLast: sql<string | null>`coalesce(${coachAsCoach.lastName}, ${coachAsClient.lastName})`,
      coachPhoto: sql<string | null>`coalesce(${coachAsCoach.photoUrl}, ${coachAsClient.photoUrl})`,
      coachAvailability: coachAsCoach.availability,
      paid: sql<PaidPayment[] | null>`(
        select jsonb_agg(jsonb_build_object('id', p.id, 'intent', p.stripe_payment_intent_id, 'flag', p.flag_reason) order by p.id)
          from payments p where p.booking_id = ${bookings.id} and p.status = 'succeeded')`,
    })
    .from(bookings)
    .innerJoin(clientUser, eq(clientUser.id, bookings.clientId))
    .innerJoin(coachUser, eq(coachUser.id, bookings.coachId))
    .leftJoin(clientAsClient, eq(clientAsClient.userId, bookings.clientId))
    .leftJoin(clientAsCoach, eq(clientAsCoach.userId, bookings.clientId))
    .leftJoin(coachAsClient, eq(coachAsClient.userId, bookings.coachId))
    .leftJoin(coachAsCoach, eq(coachAsCoach.userId, bookings.coachId))
    .where(eq(bookings.id, bookingId))
    .limit(1);
  if (!row) return undefined;
  return {
    booking: row.booking,
    parties: {
      client: {
        id: row.booking.clientId,
        email: row.clientEmail,
        firstName: row.clientFirst,
        lastName: row.clientLast,
        photoUrl: row.clientPhoto,
      },
      coach: {
        id: row.booking.coachId,
        email: row.coachEmail,
        firstName: row.coachFirst,
        lastName: row.coachLast,
        photoUrl: row.coachPhoto,
      },
    },
    coachAvailability: row.coachAvailability,
    paidPayments: row.paid ?? [],
  };
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

/** A booking with its parties; 404 unknown, 403 when the caller is neither party nor admin. One round trip. */
export async function getBookingFor(db: Executor, bookingId: string, caller: AuthUser): Promise<BookingView> {
  const [row] = await db
    .select({
      booking: bookings,
      clientFirst: sql<string | null>`coalesce(${clientAsCoach.firstName}, ${clientAsClient.firstName})`,
      clientLast: sql<string | null>`coalesce(${clientAsCoach.lastName}, ${clientAsClient.lastName})`,
      clientPhoto: sql<string | null>`coalesce(${clientAsCoach.photoUrl}, ${clientAsClient.photoUrl})`,
      coachFirst: sql<string | null>`coalesce(${coachAsCoach.firstName}, ${coachAsClient.firstName})`,
      coachLast: sql<string | null>`coalesce(${coachAsCoach.lastName}, ${coachAsClient.lastName})`,
      coachPhoto: sql<string | null>`coalesce(${coachAsCoach.photoUrl}, ${coachAsClient.photoUrl})`,
      reschedules: sql<unknown>`(select jsonb_agg(to_jsonb(r) order by r.created_at, r.id)
                                  from ${bookingReschedules} r where r.booking_id = ${bookings.id})`,
    })
    .from(bookings)
    .leftJoin(clientAsClient, eq(clientAsClient.userId, bookings.clientId))
    .leftJoin(clientAsCoach, eq(clientAsCoach.userId, bookings.clientId))
    .leftJoin(coachAsClient, eq(coachAsClient.userId, bookings.coachId))
    .leftJoin(coachAsCoach, eq(coachAsCoach.userId, bookings.coachId))
    .where(eq(bookings.id, bookingId))
    .limit(1);
  if (!row) throw notFound("Booking");
  const { booking } = row;
  assertParticipant(booking, caller);
  return bookingView(
    booking,
    {
      client: { id: booking.clientId, first_name: row.clientFirst, last_name: row.clientLast, photo_url: row.clientPhoto },
      coach: { id: booking.coachId, first_name: row.coachFirst, last_name: row.coachLast, photo_url: row.coachPhoto },
    },
    rowsFromJson(bookingReschedules, row.reschedules),
  );
}

/** A client or coach reference (user id or profile id) -> the user id, as SQL (a scalar subquery: null when unknown). */
function userRefSql(side: "client" | "coach", ref: string): SQL {
  const profiles = side === "client" ? clientProfiles : coachProfiles;
  return sql`(select ${users.id} from ${users} left join ${profiles} on ${profiles.userId} = ${users.id}
              where ${users.id} = ${ref} or ${profiles.id} = ${ref} limit 1)`;
}

/** A client or coach reference (user id or profile id) -> the user id; undefined when unknown. */
async function resolveUserRef(db: Executor, side: "client" | "coach", ref: string): Promise<string | undefined> {
  const result = await db.execute<{ id: string | null }>(sql`select ${userRefSql(side, ref)} as id`);
  return result.rows[0]?.id ?? undefined;
}

/**
 * GET /booking/client/{id} and /booking/coach/{id}: one round trip (page,
 * party names and the total by a window count in one statement), the id
 * resolved inside it. Two only where a non-admin names itself by profile id
 * (the id must be resolved before anything is read), or for a page past the
 * end (no row carries the count).
 */
export async function listBookingsOf(
  db: Executor,
  side: "client" | "coach",
  ref: string,
  caller: AuthUser,
  filter: { status?: BookingStatus },
  pagination: Pagination,
): Promise<{ items: BookingView[]; total: number }> {
  // Only that user or an admin; the id may be the user's profile id too.
  let target: string | SQL = ref;
  if (caller.id !== ref) {
    if (caller.role === "admin") {
      target = userRefSql(side, ref);
    } else {
      if ((await resolveUserRef(db, side, ref)) !== caller.id)
        throw forbidden(`Only that ${side} or an admin may list these bookings`);
      target = caller.id;
    }
  }
  const column = side === "client" ? bookings.clientId : bookings.coachId;
  // An unknown reference resolves to null, which matches no booking: an empty list.
  const where = and(eq(column, target), filter.status ? eq(bookings.status, filter.status) : undefined);
  const rows = await db
    .select({
      booking: bookings,
      clientFirst: clientProfiles.firstName,
      clientLast: clientProfiles.lastName,
      clientPhoto: clientProfiles.photoUrl,
      coachFirst: coachProfiles.firstName,
      coachLast: coachProfiles.lastName,
      coachPhoto: coachProfiles.photoUrl,
      total: windowTotal,
    })
    .from(bookings)
    .leftJoin(clientProfiles, eq(clientProfiles.userId, bookings.clientId))
    .leftJoin(coachProfiles, eq(coachProfiles.userId, bookings.coachId))
    .where(where)
    .orderBy(desc(bookings.sessionDatetime), asc(bookings.id))
    .offset(pagination.skip)
    .limit(pagination.limit);
  const total = await pageTotal(
    rows,
    pagination,
    async () => (await db.select({ n: count() }).from(bookings).where(where))[0]?.n ?? 0,
  );
  return {
    total,
    items: rows.map((row) =>
      bookingView(row.booking, {
        client: { id: row.booking.clientId, first_name: row.clientFirst, last_name: row.clientLast, photo_url: row.clientPhoto },
        coach: { id: row.booking.coachId, first_name: row.coachFirst, last_name: row.coachLast, photo_url: row.coachPhoto },
      }),
    ),
  };
}

// ---------------------------------------------------------------------------
