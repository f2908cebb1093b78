/** GET /admin/bookings: every booking, filterable, with the names of both parties. */
import { and, asc, count, desc, eq, gte, lt, lte, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Booking, bookings, clientProfiles, coachProfiles } from "../../../drizzle/schema.ts";
import type { Executor } from "../../db/client.ts";
import { type ExportCursor, exactInstant } from "../../lib/keyset.ts";
import { type Pagination, pageTotal, windowTotal } from "../../lib/pagination.ts";
import { serializeBooking } from "./users.ts";

export interface BookingFilters {
  status?: Booking["status"] | undefined;
  /** User ids (not profile ids). */
  coachId?: string | undefined;
  clientId?: string | undefined;
  /** session_datetime >= from */
  from?: Date | undefined;
  /** session_datetime < before (a date's end bound is the next midnight) */
  before?: Date | undefined;
  /** session_datetime <= until (an exact timestamp bound, inclusive) */
  until?: Date | undefined;
}

const clientProfile = alias(clientProfiles, "admin_booking_client");
const coachProfile = alias(coachProfiles, "admin_booking_coach");

export interface AdminBookingParty {
  id: string;
  first_name: string | null;
  last_name: string | null;
}

export type AdminBooking = ReturnType<typeof serializeBooking> & { client: AdminBookingParty; coach: AdminBookingParty };

function bookingWhere(filters: BookingFilters): SQL | undefined {
  const conditions: SQL[] = [];
  if (filters.status) conditions.push(eq(bookings.status, filters.status));
  if (filters.coachId) conditions.push(eq(bookings.coachId, filters.coachId));
  if (filters.clientId) conditions.push(eq(bookings.clientId, filters.clientId));
  if (filters.from) conditions.push(gte(bookings.sessionDatetime, filters.from));
  if (filters.before) conditions.push(lt(bookings.sessionDatetime, filters.before));
  if (filters.until) conditions.push(lte(bookings.sessionDatetime, filters.until));
  return conditions.length > 0 ? and(...conditions) : undefined;
}

const withParties = {
  booking: bookings,
  clientFirstName: clientProfile.firstName,
  clientLastName: clientProfile.lastName,
  coachFirstName: coachProfile.firstName,
  coachLastName: coachProfile.lastName,
};

function toAdminBooking(row: {
  booking: Booking;
  clientFirstName: string | null;
  clientLastName: string | null;
  coachFirstName: string | null;
  coachLastName: string | null;
}): AdminBooking {
  return {
    ...serializeBooking(row.booking),
    client: { id: row.booking.clientId, first_name: row.clientFirstName, last_name: row.clientLastName },
    coach: { id: row.booking.coachId, first_name: row.coachFirstName, last_name: row.coachLastName },
  };
}

/** Newest session first; the indexes on coach_id, client_id and session_datetime serve the filters. */
export async function listBookings(
  db: Executor,
  filters: BookingFilters,
  pagination: Pagination,
): Promise<{ items: AdminBooking[]; total: number }> {
  const where = bookingWhere(filters);
  const rows = await db
    .select({ ...withParties, total: windowTotal })
    .from(bookings)
    .leftJoin(clientProfile, eq(clientProfile.userId, bookings.clientId))
    .leftJoin(coachProfile, eq(coachProfile.userId, bookings.coachId))
    .where(where)
    .orderBy(desc(bookings.sessionDatetime), asc(bookings.id))
    .offset(pagination.skip)
    .limit(pagination.limit);
  const total = await pageTotal(
    rows,
    pagination,
    async () => (await db.select({ total: count() }).from(bookings).where(where))[0]?.total ?? 0,
  );
  return { items: rows.map(toAdminBooking), total };
}

/**
 * One chunk of the CSV export of GET /admin/bookings: the list's filters and
 * order, read by keyset (session_datetime desc, id) from `cursor` on.
 */
export async function bookingsExportChunk(
  db: Executor,
  filters: BookingFilters,
  cursor: ExportCursor | undefined,
  size: number,
): Promise<{ items: AdminBooking[]; next: ExportCursor | undefined }> {
  const after = cursor
    ? sql`(${bookings.sessionDatetime} < ${cursor.at}::timestamptz or (${bookings.sessionDatetime} = ${cursor.at}::timestamptz and ${bookings.id} > ${cursor.id}::uuid))`
    : undefined;
  const rows = await db
    .select({ ...withParties, cursorAt: exactInstant(bookings.sessionDatetime) })
    .from(bookings)
    .leftJoin(clientProfile, eq(clientProfile.userId, bookings.clientId))
    .leftJoin(coachProfile, eq(coachProfile.userId, bookings.coachId))
    .where(and(bookingWhere(filters), after))
    .orderBy(desc(bookings.sessionDatetime), asc(bookings.id))
    .limit(size);
  const last = rows.at(-1);
  return {
    items: rows.map(toAdminBooking),
    next: rows.length === size && last ? { at: last.cursorAt, id: last.booking.id } : undefined,
  };
}
