/**
 * Bookings: creation under the booking rules, reads, the non-cancelling status
 * transitions, the parties of a booking and the emails they get.
 * Cancellation lives in booking-cancellation.ts (account deletion uses it too).
 */

import { Client, type Pool } from "@neondatabase/serverless";
import { and, asc, count, desc, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Booking, bookings, clientProfiles, coachProfiles, users } from "../../drizzle/schema.ts";
import type { Database, Executor } from "../db/client.ts";
import { rowFromJson } from "../db/json-rows.ts";
import type { AuthUser, ServiceEnv } from "../env.ts";
import { badRequest, conflict, forbidden, notFound, pgErrorCode } from "../lib/errors.ts";
import { type Pagination, pageTotal, windowTotal } from "../lib/pagination.ts";
import { isoUtc, requireIso } from "../lib/time.ts";
import {
  allowedTransitions,
  type BookingStatus,
  checkAvailability,
  isAllowedTransition,
  MAX_UNPAID_PENDING_BOOKINGS,
} from "./booking-rules.ts";
import { bumpCoachesVersion } from "./coaches-version.ts";
import { dispatchEmails, type Email, recordEmails } from "./notifications.ts";
import { assertCoachCanBePaid, canReceivePayoutsSql } from "./payouts.ts";

export interface BookingParty {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  photoUrl: string | null;
}

export interface BookingParties {
  client: BookingParty;
  coach: BookingParty;
}

/** Both parties of a booking with their names (from whichever profile they have). */
export async function loadParties(db: Executor, booking: Pick<Booking, "clientId" | "coachId">): Promise<BookingParties> {
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      clientFirst: clientProfiles.firstName,
      clientLast: clientProfiles.lastName,
      clientPhoto: clientProfiles.photoUrl,
      coachFirst: coachProfiles.firstName,
      coachLast: coachProfiles.lastName,
      coachPhoto: coachProfiles.photoUrl,
    })
    .from(users)
    .leftJoin(clientProfiles, eq(clientProfiles.userId, users.id))
    .leftJoin(coachProfiles, eq(coachProfiles.userId, users.id))
    .where(inArray(users.id, [booking.clientId, booking.coachId]));
  const party = (id: string): BookingParty => {
    const row = rows.find((candidate) => candidate.id === id);
    return {
      id,
      email: row?.email ?? "",
      firstName: row?.coachFirst ?? row?.clientFirst ?? null,
      lastName: row?.coachLast ?? row?.clientLast ?? null,
      photoUrl: row?.coachPhoto ?? row?.clientPhoto ?? null,
    };
  };
  return { client: party(booking.clientId), coach: party(booking.coachId) };
}

export function displayName(party: BookingParty): string {
  const name = [party.firstName, party.lastName].filter(Boolean).join(" ").trim();
  return name || "your CultureBridge contact";
}

/** Addresses that must never get mail: deleted-account tombstones. */
function deliverable(party: BookingParty): boolean {
  return party.email.length > 0 && !party.email.endsWith("@invalid");
}

function describeSession(booking: Pick<Booking, "sessionDatetime" | "durationMinutes">): string {
  return `${isoUtc(booking.sessionDatetime)} (UTC), ${booking.durationMinutes} minutes`;
}

export type BookingNotice =
  | { kind: "confirmed" }
  | { kind: "cancelled"; refund: "full" | "none" | "pending" | "not_paid"; cancelledBy: "client" | "coach" | "admin" | "system" }
  | { kind: "refunded" };

/** The emails of one booking event, to client and coach (minus excluded ids, e.g. an account being deleted). */
export function bookingEmails(
  booking: Pick<Booking, "id" | "sessionDatetime" | "durationMinutes" | "meetingLink">,
  parties: BookingParties,
  notice: BookingNotice,
  excludeUserIds: readonly string[] = [],
): Email[] {
  const session = describeSession(booking);
  const recipients: Array<{ party: BookingParty; other: BookingParty; role: "client" | "coach" }> = [
    { party: parties.client, other: parties.coach, role: "client" },
    { party: parties.coach, other: parties.client, role: "coach" },
  ];
  return (
    recipients
      .filter(({ party }) => deliverable(party) && !excludeUserIds.includes(party.id))
      // biome-ignore lint/suspicious/useIterableCallbackReturn: the switch is exhaustive over notice.kind (tsc checks it)
      .map(({ party, other, role }) => {
        const withWhom = role === "client" ? `your coach ${displayName(other)}` : `your client ${displayName(other)}`;
        switch (notice.kind) {
          case "confirmed":
            return {
              to: party.email,
              subject: "Your CultureBridge session is confirmed",
              text:
                `Your session with ${withWhom} on ${session} is confirmed (booking ${booking.id}).` +
                (booking.meetingLink ? `\nMeeting link: ${booking.meetingLink}` : ""),
            };
          case "cancelled": {
            const by = notice.cancelledBy === "system" ? "automatically (unpaid)" : `by the ${notice.cancelledBy}`;
            const refund =
              notice.refund === "full"
                ? role === "client"
                  ? "\nThe payment is refunded in full."
                  : "\nThe client is refunded in full."
                : notice.refund === "pending"
                  ? "\nA full refund has been requested from the payment provider."
                  : notice.refund === "none"
                    ? "\nPer the cancellation policy (less than 24 hours' notice) there is no refund."
                    : "";
            return {
              to: party.email,
              subject: "Your CultureBridge session was cancelled",
              text: `Your session with ${withWhom} on ${session} was cancelled ${by} (booking ${booking.id}).${refund}`,
            };
          }
          case "refunded":
            return {
              to: party.email,
              subject: "Your CultureBridge session was refunded",
              text: `The payment for the session with ${withWhom} on ${session} was refunded (booking ${booking.id}).`,
            };
        }
      })
  );
}

// ---------------------------------------------------------------------------
// Response shape
// ---------------------------------------------------------------------------

export interface BookingPartySummary {
  id: string;
  first_name: string | null;
  last_name: string | null;
  photo_url: string | null;
}

export interface BookingView {
  id: string;
  client_id: string;
  coach_id: string;
  session_datetime: string;
  duration_minutes: number;
  status: BookingStatus;
  payment_id: string | null;
  meeting_link: string | null;
  notes: string | null;
  created_at: string;
  updated_at: string;
  client?: BookingPartySummary;
  coach?: BookingPartySummary;
}

export function bookingView(
  booking: Booking,
  parties?: { client: BookingPartySummary; coach: BookingPartySummary },
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
  };
}

export const partySummary = (party: BookingParty): BookingPartySummary => ({
  id: party.id,
  first_name: party.firstName,
  last_name: party.lastName,
  photo_url: party.photoUrl,
});

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

const OVERLAP_CONSTRAINTS: Record<string, { reason: string; message: string }> = {
  bookings_coach_no_overlap: { reason: "coach_slot_taken", message: "The coach already has a booking at that time" },
  bookings_client_no_overlap: { reason: "client_overlap", message: "You already have a booking at that time" },
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

/** The driver's Pool behind a drizzle handle (drizzle keeps it as $client), for the simple-protocol query. */
function poolOf(db: Database): Pool {
  const pool = (db as unknown as { $client?: Pool }).$client;
  if (!pool) throw new Error("no database pool behind this handle");
  return pool;
}

/**
 * A SQL string literal for the simple-protocol statement, quoted by the
 * driver's own escapeLiteral (node-postgres' rules: quotes doubled, the E''
 * form with doubled backslashes), never by hand. It is a pure function on the
 * Client prototype; the package's top-level export of it is not initialised
 * in every build, so the prototype is the dependable handle.
 */
const driverEscapeLiteral = (Client.prototype as unknown as { escapeLiteral(value: string): string }).escapeLiteral;
const literal = (value: string): string => driverEscapeLiteral(value);

/** Attempts of the booking statement when Postgres picks it as a deadlock victim. */
const DEADLOCK_ATTEMPTS = 3;

/**
 * Runs the two-statement booking query. Two requests inserting overlapping
 * sessions at the same instant can each wait for the other's exclusion check:
 * Postgres resolves that by aborting one (40P01, nothing of it written). The
 * victim runs again: it now sees the winner's committed booking in its
 * pre-check and answers the same clear 409 as any later loser.
 */
async function runBookingStatement(pool: Pool, text: string): Promise<Array<{ rows: Array<Record<string, unknown>> }>> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      return (await client.query(text)) as unknown as Array<{ rows: Array<Record<string, unknown>> }>;
    } catch (error) {
      // The failed statement leaves the explicit transaction aborted: end it before the connection
      // goes back (a session shared by several clients, as PGlite's, must not stay in it).
      await client.query("rollback").catch(() => {});
      if (pgErrorCode(error) !== "40P01" || attempt >= DEADLOCK_ATTEMPTS) throw error;
      console.log(JSON.stringify({ level: "info", msg: "booking statement deadlock victim: retrying", attempt }));
    } finally {
      client.release();
    }
  }
}

/**
 * Creates a pending booking. Rules, in the order a client can fix them:
 * 404 unknown/inactive coach; 400 past start; 409 outside the coach's
 * availability, over the unpaid-pending limit, or overlapping. The overlap
 * rule is the database's (exclusion constraints): the pre-check only words
 * the common case, the constraint decides races.
 */
export async function createBooking(db: Database, input: CreateBookingInput): Promise<BookingView> {
  const { now, sessionDatetime: start, durationMinutes } = input;
  const coach = await findBookableCoach(db, input.coachRef);
  if (!coach) throw notFound("Coach");
  if (coach.userId === input.clientId) throw badRequest("You cannot book yourself");
  assertCoachCanBePaid(input.payoutsRequired === true, coach.canReceivePayouts);
  if (start.getTime() <= now.getTime()) {
    throw badRequest("session_datetime must be in the future", {
      errors: [{ field: "session_datetime", location: "body", message: "Must be in the future" }],
    });
  }
  if (coach.hourlyRate === null)
    throw conflict("The coach has not set an hourly rate yet and cannot be booked", { reason: "coach_has_no_rate" });
  const verdict = checkAvailability(coach.availability, start, durationMinutes);
  if (!verdict.ok) {
    throw conflict(verdict.reason, {
      reason: "outside_availability",
      explanation: verdict.reason,
      timezone: verdict.timezone,
      local_start: verdict.local_start,
      local_end: verdict.local_end,
    });
  }
  const end = new Date(start.getTime() + durationMinutes * 60_000);
  // Postgres text cannot hold NUL (and a query string ends at one): a clear 400, never a 500.
  if (input.notes?.includes("\u0000")) {
    throw badRequest("Request validation failed", {
      errors: [{ field: "notes", location: "body", message: "Must not contain NUL characters" }],
    });
  }

  // ONE round trip for the whole write: a transaction sent as one simple-protocol query
  // (BEGIN; two statements; COMMIT -- an error skips the rest, and the transaction is rolled back):
  //  1. lock the client's user row: it serialises this client's bookings, so that two parallel
  //     requests cannot both pass the unpaid-pending count;
  //  2. count, overlap pre-check and insert as CTEs. Statement 2 takes its snapshot after the
  //     lock is granted (read committed: a snapshot per statement), so it sees a booking that a
  //     concurrent request committed while we waited -- which a single statement could not.
  // The simple protocol carries no parameters: every value is a literal quoted by
  // literal() (ids are validated UUIDs, times come from Date, notes are free text).
  const clientId = literal(input.clientId);
  const coachId = literal(coach.userId);
  const startAt = literal(start.toISOString());
  const endAt = literal(end.toISOString());
  const nowAt = literal(now.toISOString());
  const overlap = (column: "coach_id" | "client_id", userId: string) =>
    `(${column} = ${userId}::uuid and status in ('pending', 'confirmed') and session_datetime < ${endAt}::timestamptz
      and session_datetime + make_interval(mins => duration_minutes) > ${startAt}::timestamptz)`;
  const text = `
    begin;
    select 1 from users where id = ${clientId}::uuid for update;
    with pending as (
      select count(*)::int as n from bookings
       where client_id = ${clientId}::uuid and status = 'pending' and session_datetime > ${nowAt}::timestamptz),
    clash as (
      select coach_id from bookings where ${overlap("coach_id", coachId)} or ${overlap("client_id", clientId)} limit 1),
    created as (
      insert into bookings (client_id, coach_id, session_datetime, duration_minutes, notes, status, created_at, updated_at)
      select ${clientId}::uuid, ${coachId}::uuid, ${startAt}::timestamptz, ${Number(durationMinutes)}, ${input.notes === null ? "null" : literal(input.notes)},
             'pending', ${nowAt}::timestamptz, ${nowAt}::timestamptz
       where (select n from pending) < ${MAX_UNPAID_PENDING_BOOKINGS} and not exists (select 1 from clash)
      returning *)
    select (select n from pending) as pending, (select coach_id from clash) as clash_coach_id, (select to_jsonb(created) from created) as created;
    commit`;
  try {
    const results = await runBookingStatement(poolOf(db), text);
    const outcome = results[2]?.rows[0] as
      | { pending: number; clash_coach_id: string | null; created: Record<string, unknown> | null }
      | undefined;
    if (!outcome) throw new Error("booking statement returned no row");
    if (outcome.pending >= MAX_UNPAID_PENDING_BOOKINGS) {
      throw conflict(`You already hold ${MAX_UNPAID_PENDING_BOOKINGS} unpaid bookings; pay or cancel one first`, {
        reason: "too_many_unpaid_bookings",
        limit: MAX_UNPAID_PENDING_BOOKINGS,
        pending: outcome.pending,
      });
    }
    if (outcome.clash_coach_id !== null || !outcome.created) {
      const which =
        outcome.clash_coach_id === coach.userId
          ? OVERLAP_CONSTRAINTS.bookings_coach_no_overlap
          : OVERLAP_CONSTRAINTS.bookings_client_no_overlap;
      throw conflict(which!.message, { reason: which!.reason });
    }
    return bookingView(rowFromJson(bookings, outcome.created));
  } catch (error) {
    if (pgErrorCode(error) === "23P01") {
      const constraint = constraintName(error);
      const which = OVERLAP_CONSTRAINTS[constraint ?? ""] ?? {
        reason: "overlap",
        message: "The time slot overlaps an existing booking",
      };
      // A race the pre-check could not see: the exclusion constraint decided it.
      console.log(
        JSON.stringify({ level: "info", msg: "booking overlap rejected by constraint", constraint: constraint ?? null }),
      );
      throw conflict(which.message, { reason: which.reason });
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Reads
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
  return bookingView(booking, {
    client: { id: booking.clientId, first_name: row.clientFirst, last_name: row.clientLast, photo_url: row.clientPhoto },
    coach: { id: booking.coachId, first_name: row.coachFirst, last_name: row.coachLast, photo_url: row.coachPhoto },
  });
}

export function assertParticipant(booking: Pick<Booking, "clientId" | "coachId">, caller: AuthUser): void {
  if (caller.role === "admin" || caller.id === booking.clientId || caller.id === booking.coachId) return;
  throw forbidden("This booking belongs to other users");
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
// Status transitions other than cancellation
// ---------------------------------------------------------------------------

export interface TransitionInput {
  bookingId: string;
  caller: AuthUser;
  /** "pending" is accepted only to be refused with the transition table (nothing goes back to pending) */
  to: Exclude<BookingStatus, "cancelled">;
  meetingLink?: string;
  now: Date;
}

/**
 * pending -> confirmed (coach/admin, e.g. a session arranged outside Stripe)
 * and confirmed -> completed (only once the session has ended; the coach's
 * total_sessions + 1 in the same transaction). Anything else is a 400.
 */
export async function transitionBooking(db: Database, env: ServiceEnv, input: TransitionInput): Promise<BookingView> {
  const { caller, now } = input;
  let outboxIds: string[] = [];
  const view = await db.transaction(async (tx) => {
    const [booking] = await tx.select().from(bookings).where(eq(bookings.id, input.bookingId)).for("update");
    if (!booking) throw notFound("Booking");
    assertParticipant(booking, caller);
    if (caller.role !== "admin" && caller.id !== booking.coachId) throw forbidden("A client may only cancel a booking");
    if (!isAllowedTransition(booking.status, input.to)) {
      throw badRequest(`Cannot change a ${booking.status} booking to ${input.to}`, {
        from: booking.status,
        to: input.to,
        allowed: [...allowedTransitions(booking.status)],
      });
    }
    if (input.to === "completed") {
      const end = booking.sessionDatetime.getTime() + booking.durationMinutes * 60_000;
      if (now.getTime() < end) {
        throw badRequest("A session can be completed only after it has ended", { session_end: isoUtc(new Date(end)) });
      }
    }
    const [updated] = await tx
      .update(bookings)
      .set({
        status: input.to,
        sequence: sql`${bookings.sequence} + 1`,
        updatedAt: now,
        ...(input.meetingLink !== undefined ? { meetingLink: input.meetingLink } : {}),
      })
      .where(eq(bookings.id, booking.id))
      .returning();
    const parties = await loadParties(tx, booking);
    if (input.to === "completed") {
      await tx
        .update(coachProfiles)
        .set({ totalSessions: sql`${coachProfiles.totalSessions} + 1`, updatedAt: now })
        .where(eq(coachProfiles.userId, booking.coachId));
      // total_sessions is part of the match ranking: invalidate cached matches.
      await bumpCoachesVersion(tx);
    } else {
      outboxIds = await recordEmails(tx, bookingEmails(updated as Booking, parties, { kind: "confirmed" }));
    }
    return bookingView(updated as Booking, { client: partySummary(parties.client), coach: partySummary(parties.coach) });
  });
  await dispatchEmails(env, outboxIds);
  return view;
}
