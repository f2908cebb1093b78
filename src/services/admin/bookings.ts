/** GET /admin/bookings: every booking, filterable, with the names of both parties. */
import { and, asc, count, desc, eq, gte, lt, lte, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Booking, bookings, clientProfiles, coachProfiles } from "../../../drizzle/schema.ts";
import type { Executor } from "../../db/client.ts";
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

/** Newest session first; the indexes on coach_id, client_id and session_datetime serve the filters. */
export async function listBookings(
  db: Executor,
  filters: BookingFilters,
  pagination: Pagination,
): Promise<{ items: AdminBooking[]; total: number }> {
  const conditions: SQL[] = [];
  if (filters.status) conditions.push(eq(bookings.status, filters.status));
  if (filters.coachId) conditions.push(eq(bookings.coachId, filters.coachId));
  if (filters.clientId) conditions.push(eq(bookings.clientId, filters.clientId));
  if (filters.from) conditions.push(gte(bookings.sessionDatetime, filters.from));
  if (filters.before) conditions.push(lt(bookings.sessionDatetime, filters.before));
  if (filters.until) conditions.push(lte(bookings.sessionDatetime, filters.until));
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const rows = await db
    .select({
      booking: bookings,
      clientFirstName: clientProfile.firstName,
      clientLastName: clientProfile.lastName,
      coachFirstName: coachProfile.firstName,
      coachLastName: coachProfile.lastName,
      total: windowTotal,
    })
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
  return {
    items: rows.map((row) => ({
      ...serializeBooking(row.booking),
      client: { id: row.booking.clientId, first_name: row.clientFirstName, last_name: row.clientLastName },
      coach: { id: row.booking.coachId, first_name: row.coachFirstName, last_name: row.coachLastName },
    })),
    total,
  };
}
