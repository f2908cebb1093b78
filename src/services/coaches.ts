/**
 * Coach discovery (contract: Coach discovery): the filtered, paginated list
 * and the single coach. Only active users of role coach are visible; the list
 * also requires an hourly rate (a coach without one cannot be booked).
 *
 * Array filters are written as containment (`@>`) so that the GIN indexes
 * ix_coach_profiles_languages / _countries / _expertise serve them; the order
 * (rating desc, total_sessions desc, id) is the ix_coach_profiles_rank index;
 * `total` comes from a count subquery in the same statement (one round trip).
 */
import { and, arrayContains, asc, desc, eq, gte, isNotNull, lte, or, type SQL, sql } from "drizzle-orm";
import { type CoachProfile, coachProfiles, users } from "../../drizzle/schema.ts";
import type { CoachListItem } from "../contract/coaches.ts";
import type { CoachProfileBody } from "../contract/profiles.ts";
import type { Executor } from "../db/client.ts";
import { notFound } from "../lib/errors.ts";
import type { Page, Pagination } from "../lib/pagination.ts";
import { serializeCoachProfile } from "./profiles.ts";

/** The columns a list item needs (no availability, no intro video: lists stay small). */
export const listItemColumns = {
  id: coachProfiles.id,
  userId: coachProfiles.userId,
  firstName: coachProfiles.firstName,
  lastName: coachProfiles.lastName,
  photoUrl: coachProfiles.photoUrl,
  bio: coachProfiles.bio,
  expertise: coachProfiles.expertise,
  languages: coachProfiles.languages,
  countries: coachProfiles.countries,
  hourlyRate: coachProfiles.hourlyRate,
  currency: coachProfiles.currency,
  rating: coachProfiles.rating,
  totalSessions: coachProfiles.totalSessions,
  isVerified: coachProfiles.isVerified,
};

/** A list item's source: a drizzle row (numerics as strings) or a matching candidate (numbers). */
export type CoachListRow = Omit<
  Pick<CoachProfile, keyof typeof listItemColumns>,
  "hourlyRate" | "rating" | "expertise" | "languages" | "countries"
> & {
  hourlyRate: string | number | null;
  rating: string | number;
  expertise: readonly string[] | null;
  languages: readonly string[] | null;
  countries: readonly string[] | null;
};

/** Row -> list item; numeric columns arrive as strings and leave as JSON numbers. */
export function toCoachListItem(row: CoachListRow): CoachListItem {
  return {
    id: row.id,
    user_id: row.userId,
    first_name: row.firstName,
    last_name: row.lastName,
    photo_url: row.photoUrl,
    bio: row.bio,
    expertise: [...(row.expertise ?? [])],
    languages: [...(row.languages ?? [])],
    countries: [...(row.countries ?? [])],
    hourly_rate: row.hourlyRate === null ? null : Number(row.hourlyRate),
    currency: row.currency,
    rating: Number(row.rating),
    total_sessions: row.totalSessions,
    is_verified: row.isVerified,
  };
}

export interface CoachFilters {
  /** canonical language names; all must be spoken */
  languages?: string[];
  /** all must be in the coach's countries (exact, as stored) */
  countries?: string[];
  /** all must be in the coach's expertise (exact, as stored) */
  expertise?: string[];
  minRate?: number;
  maxRate?: number;
  minRating?: number;
}

/** Visible in discovery: an active coach account. */
const activeCoach = and(eq(users.isActive, true), eq(users.role, "coach"));

function filterConditions(filters: CoachFilters): SQL[] {
  const conditions: SQL[] = [activeCoach as SQL, isNotNull(coachProfiles.hourlyRate)];
  if (filters.languages?.length) conditions.push(arrayContains(coachProfiles.languages, filters.languages));
  if (filters.countries?.length) conditions.push(arrayContains(coachProfiles.countries, filters.countries));
  if (filters.expertise?.length) conditions.push(arrayContains(coachProfiles.expertise, filters.expertise));
  if (filters.minRate !== undefined) conditions.push(gte(coachProfiles.hourlyRate, filters.minRate.toFixed(2)));
  if (filters.maxRate !== undefined) conditions.push(lte(coachProfiles.hourlyRate, filters.maxRate.toFixed(2)));
  if (filters.minRating !== undefined) conditions.push(gte(coachProfiles.rating, filters.minRating.toFixed(2)));
  return conditions;
}

/**
 * The page statement (exported so the EXPLAIN test checks the very SQL the route runs):
 *   select ... from (select count(*) ...) counted left join (select ... limit/offset) page_rows on true
 * One round trip that always returns a row, so the total is known even for a page past the
 * end; and the page part keeps its LIMIT (a `count(*) over()` window would make Postgres
 * produce and count every matching row before it can stop, ~1.5x slower on broad filters).
 */
export function coachListQuery(db: Executor, filters: CoachFilters, pagination: Pagination) {
  const where = and(...filterConditions(filters));
  const counted = db
    .select({ total: sql<string>`count(*)`.as("total") })
    .from(coachProfiles)
    .innerJoin(users, eq(users.id, coachProfiles.userId))
    .where(where)
    .as("counted");
  const pageRows = db
    .select(listItemColumns)
    .from(coachProfiles)
    .innerJoin(users, eq(users.id, coachProfiles.userId))
    .where(where)
    .orderBy(desc(coachProfiles.rating), desc(coachProfiles.totalSessions), asc(coachProfiles.id))
    .limit(pagination.limit)
    .offset(pagination.skip)
    .as("page_rows");
  return db
    .select()
    .from(counted)
    .leftJoin(pageRows, sql`true`)
    .orderBy(desc(pageRows.rating), desc(pageRows.totalSessions), asc(pageRows.id));
}

/** GET /coaches: one round trip, whatever the page. */
export async function listCoaches(db: Executor, filters: CoachFilters, pagination: Pagination): Promise<Page<CoachListItem>> {
  const rows = await coachListQuery(db, filters, pagination);
  const total = Number(rows[0]?.counted.total ?? 0);
  const items = rows.flatMap((row) => (row.page_rows ? [toCoachListItem(row.page_rows)] : []));
  return { items, total, skip: pagination.skip, limit: pagination.limit };
}

/** GET /coaches/{id}: by coach profile id or user id; 404 when unknown, not a coach, or inactive. */
export async function getCoach(db: Executor, id: string): Promise<CoachProfileBody> {
  const [row] = await db
    .select({ profile: coachProfiles })
    .from(coachProfiles)
    .innerJoin(users, eq(users.id, coachProfiles.userId))
    .where(and(or(eq(coachProfiles.id, id), eq(coachProfiles.userId, id)), activeCoach))
    // A profile id and another coach's user id cannot collide (both random UUIDs), but be deterministic.
    .orderBy(sql`${coachProfiles.id} = ${id} desc`)
    .limit(1);
  if (!row) throw notFound("Coach");
  return serializeCoachProfile(row.profile);
}
