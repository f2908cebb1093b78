/**
 * Coach discovery (contract: Coach discovery): the filtered, paginated list
 * and the single coach. Only active users of role coach are visible; the list
 * also requires an hourly rate (a coach without one cannot be booked).
 *
 * Array filters are written as containment (`@>`) so that the GIN indexes
 * ix_coach_profiles_languages / _countries / _expertise serve them; `q` is a
 * prefix full-text match over ix_coach_profiles_search; the order (rating desc,
 * total_sessions desc, id) is the ix_coach_profiles_rank index, walked with the
 * index's own NULLS LAST so that a page stops after its rows (docs/SEARCH.md).
 *
 * The total is exact and costs little (docs/SEARCH.md has the figures). A pure language and/or
 * country filter reads it from coach_list_totals (kept by triggers). Other filters: a narrow one
 * (at most EXACT_COUNT_THRESHOLD matches) is counted on every request, which is cheap; a
 * broader filter's total is counted once per coaches version and kept in coach_list_counts,
 * where later requests (other pages, other users) read it. Lookup, count and the write of a
 * new total are one statement (each step gated by a one-time filter on the one before), so
 * a read stays one round trip.
 */
import { and, arrayContains, eq, gte, lte, or, type SQL, sql } from "drizzle-orm";
import { type CoachProfile, coachProfiles, users } from "../../drizzle/schema.ts";
import type { CoachListItem, CoachPage } from "../contract/coaches.ts";
import type { CoachProfileBody } from "../contract/profiles.ts";
import type { Executor } from "../db/client.ts";
import { notFound } from "../lib/errors.ts";
import type { Pagination } from "../lib/pagination.ts";
import { serializeCoachProfile } from "./profiles.ts";

/** Up to this many matches the total is counted on every request (cheap); above it, once per coaches version. */
export const EXACT_COUNT_THRESHOLD = 1000;

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
  reviewCount: coachProfiles.reviewCount,
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
    review_count: Number(row.reviewCount),
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
  /** v2: only verified (true) or only unverified (false) coaches */
  verified?: boolean;
  /** v2: words that must all occur (as word prefixes) in the name, bio or expertise */
  words?: string[];
}

/** Visible in discovery: an active coach account. */
const activeCoach = and(eq(users.isActive, true), eq(users.role, "coach"));

/**
 * Words of a `q` search: runs of letters and digits (any script), at most 10. They are the only
 * characters that reach to_tsquery, so no query syntax can be injected and none can fail.
 */
export function searchWords(q: string): string[] {
  return [...new Set(q.match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, 10);
}

/** The tsquery text of the words: every word, as a prefix (`coach` finds "coaching"). */
const tsqueryText = (words: readonly string[]) => words.map((word) => `${word}:*`).join(" & ");

/**
 * The conditions on coach_profiles that the coach_list_keys range (`range`: its language, country
 * and the rating bound, all exact copies) does not already imply. Repeating an implied condition
 * would be harmless for the result but not for the plan: Postgres multiplies the selectivities,
 * underestimates the rows and sorts a bitmap scan instead of walking the range in order.
 * Visibility (active coach, hourly rate set) is membership in the range.
 */
function residualConditions(filters: CoachFilters, range: { language: string; country: string }): SQL[] {
  const conditions: SQL[] = [];
  const languages = [...new Set(filters.languages ?? [])].filter((value) => !range.language || value !== range.language);
  const countries = [...new Set(filters.countries ?? [])].filter((value) => !range.country || value !== range.country);
  if (languages.length) conditions.push(arrayContains(coachProfiles.languages, languages));
  if (countries.length) conditions.push(arrayContains(coachProfiles.countries, countries));
  if (filters.expertise?.length) conditions.push(arrayContains(coachProfiles.expertise, filters.expertise));
  if (filters.minRate !== undefined) conditions.push(gte(coachProfiles.hourlyRate, filters.minRate.toFixed(2)));
  if (filters.maxRate !== undefined) conditions.push(lte(coachProfiles.hourlyRate, filters.maxRate.toFixed(2)));
  if (filters.verified !== undefined) conditions.push(eq(coachProfiles.isVerified, filters.verified));
  if (filters.words?.length) {
    // The very expression of ix_coach_profiles_search (migration coach_search_vector), so the index serves it.
    conditions.push(
      sql`coach_search_vector(${coachProfiles.firstName}, ${coachProfiles.lastName}, ${coachProfiles.bio}, ${coachProfiles.expertise}) @@ to_tsquery('simple', ${tsqueryText(filters.words)})`,
    );
  }
  return conditions;
}

/** The filters in one canonical form (sorted sets, fixed decimals): equal filters, equal key. */
export function canonicalFilters(filters: CoachFilters): string {
  const set = (values: readonly string[] | undefined) => [...new Set(values ?? [])].sort();
  return JSON.stringify({
    l: set(filters.languages),
    c: set(filters.countries),
    e: set(filters.expertise),
    min: filters.minRate?.toFixed(2) ?? null,
    max: filters.maxRate?.toFixed(2) ?? null,
    r: filters.minRating?.toFixed(2) ?? null,
    v: filters.verified ?? null,
    w: set(filters.words?.map((word) => word.toLowerCase())),
  });
}

/** SHA-256 hex of the canonical filters: the coach_list_counts key. */
export async function filterKey(filters: CoachFilters): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalFilters(filters)));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The longest filter value coach_list_keys holds (the API's own limit for `language`/`country` values). */
export const LIST_KEY_MAX_LENGTH = 100;

/**
 * The coach_list_keys range a filter reads: one of its languages and one of its countries ('' =
 * any), and whether that key alone is the whole filter (`pure`): then a page is a slice of the
 * range and the total its length. Otherwise the other conditions are checked on coach_profiles.
 * A value longer than the table holds is never a key (it stays a plain condition).
 */
export function listKey(filters: CoachFilters): { language: string; country: string; pure: boolean } {
  const pick = (values: readonly string[] | undefined) => {
    const distinct = [...new Set(values ?? [])];
    const key = distinct.find((value) => value.length >= 1 && value.length <= LIST_KEY_MAX_LENGTH) ?? "";
    return { key, rest: distinct.length - (key ? 1 : 0) };
  };
  const language = pick(filters.languages);
  const country = pick(filters.countries);
  const pure =
    language.rest === 0 &&
    country.rest === 0 &&
    !filters.expertise?.length &&
    filters.minRate === undefined &&
    filters.maxRate === undefined &&
    filters.minRating === undefined &&
    filters.verified === undefined &&
    !filters.words?.length;
  return { language: language.key, country: country.key, pure };
}

/**
 * A list item's columns under the contract's names, typed as JSON wants them (numerics as float8,
 * whose shortest text is JavaScript's number text at these scales; arrays never null), so that
 * row_to_json of a row is byte for byte JSON.stringify(toCoachListItem(row)) (the same key order,
 * compact, the same escaping). The same list as coach_list_page_rows (migration 0021) selects.
 */
const itemJsonColumns = sql`${coachProfiles.id} as id, ${coachProfiles.userId} as user_id,
  ${coachProfiles.firstName} as first_name, ${coachProfiles.lastName} as last_name,
  ${coachProfiles.photoUrl} as photo_url, ${coachProfiles.bio} as bio,
  coalesce(${coachProfiles.expertise}, '{}') as expertise, coalesce(${coachProfiles.languages}, '{}') as languages,
  coalesce(${coachProfiles.countries}, '{}') as countries, ${coachProfiles.hourlyRate}::float8 as hourly_rate,
  ${coachProfiles.currency} as currency, ${coachProfiles.rating}::float8 as rating,
  ${coachProfiles.totalSessions} as total_sessions, ${coachProfiles.isVerified} as is_verified,
  ${coachProfiles.reviewCount} as review_count`;

/**
 * How the database's backends live, which decides the cheaper form of a pure filter's page:
 * - "warm": a pool keeps them (Hyperdrive, a transaction pooler): one call of coach_list_page, a
 *   plpgsql function whose generic plan the backend keeps, so a call plans nothing;
 * - "fresh": a new backend per request (the Neon serverless driver without Hyperdrive): the same
 *   page as a plain statement (coach_list_page_rows is inlined), since a new backend would compile
 *   the function and plan its statement anyway, and pays for the plpgsql library on top
 *   (docs/SEARCH.md has the figures). The Worker joins the rows' JSON texts.
 */
export type BackendKind = "warm" | "fresh";

/**
 * The list statement (exported so that tests run the very SQL the route runs). One row, `body`:
 * the answer's JSON text (CoachPage), built by Postgres, so the Worker sends it as it comes.
 *
 * A pure language/country filter (the common search, and no filter at all) is one call of
 * coach_list_page (migration coach_list_totals_sync): a range of ix_coach_list_keys_rank, the
 * page's profiles by primary key, the total from coach_list_totals (kept by triggers, so the read
 * neither counts nor writes). `key` is not used for it. Other filters:
 *
 *   ver      the coaches version (one primary-key read)
 *   hit      a total stored for these filters at this version
 *   counted  only without a hit: the exact count
 *   saved    ... stored for the next request when over the threshold; stale versions pruned
 *   page     a range of ix_coach_list_keys_rank (the list's order within the filter's language
 *            and country), filtered by the other conditions on coach_profiles, stopped after `limit`
 *
 * The visible coaches (active users of role coach with a rate) are exactly those with
 * coach_list_keys rows, so no join to users is needed.
 *
 * `not exists (select 1 from hit)` and `(select n from counted) > THRESHOLD` are uncorrelated
 * subqueries: Postgres runs them once, before the scan or write they gate, and skips it when false.
 */
export function coachListSql(filters: CoachFilters, pagination: Pagination, key: string): SQL {
  const threshold = sql.raw(String(EXACT_COUNT_THRESHOLD));
  const range = listKey(filters);
  if (range.pure) {
    return sql`select coach_list_page(${range.language}, ${range.country}, ${pagination.limit}::int,
      ${pagination.skip}::int) as body`;
  }
  // NULLS LAST as in the index (both columns are NOT NULL anyway): a plain `desc` would not match it.
  const order = sql`k.rating desc nulls last, k.total_sessions desc nulls last, k.coach_id`;
  // The rating bound is part of the range (k.rating is the coach's rating, kept by the triggers).
  const bound = filters.minRating !== undefined ? sql` and k.rating >= ${filters.minRating.toFixed(2)}` : sql``;
  const keyed = sql`k.language = ${range.language} and k.country = ${range.country}${bound}`;
  const residual = residualConditions(filters, range);
  let matching: SQL;
  let pageRows: SQL;
  if (residual.length === 0) {
    // The range alone decides (e.g. a language and a rating bound): count it, slice it, then read the page's profiles.
    matching = sql`from coach_list_keys k where ${keyed}`;
    pageRows = sql`select ${itemJsonColumns}
      from (select k.coach_id, k.rating, k.total_sessions ${matching} order by ${order}
             limit ${pagination.limit} offset ${pagination.skip}) k
      join ${coachProfiles} on ${coachProfiles.id} = k.coach_id`;
  } else {
    matching = sql`from coach_list_keys k join ${coachProfiles} on ${coachProfiles.id} = k.coach_id where ${keyed} and ${and(...residual)}`;
    pageRows = sql`select ${itemJsonColumns} ${matching} order by ${order} limit ${pagination.limit} offset ${pagination.skip}`;
  }
  return sql`
    with ver as (select coalesce((select value from app_counters where name = 'coaches_version'), 0) as v),
    hit as (select total from coach_list_counts where filter_key = ${key} and version = (select v from ver)),
    counted as (select count(*) as n ${matching} and not exists (select 1 from hit)),
    pruned as (
      delete from coach_list_counts
       where version < (select v from ver) and filter_key <> ${key} and (select n from counted) > ${threshold}
      returning 1),
    saved as (
      insert into coach_list_counts (filter_key, version, total)
      select ${key}::varchar, (select v from ver), (select n from counted)::int where (select n from counted) > ${threshold}
      on conflict (filter_key) do update set version = excluded.version, total = excluded.total
        where coach_list_counts.version < excluded.version
      returning 1),
    page_rows as (${pageRows})
    select '{"items":[' || coalesce((select string_agg(row_to_json(p)::text, ',' order by p.rating desc, p.total_sessions desc, p.id)
                                       from page_rows p), '')
           || '],"total":' || coalesce((select total from hit), (select n from counted))
           || ',"skip":' || ${pagination.skip}::int || ',"limit":' || ${pagination.limit}::int || '}' as body`;
}

/** A pure filter's page as rows, for fresh backends (BackendKind): ordered, at least one row. */
export function coachPageRowsSql(filters: CoachFilters, pagination: Pagination): SQL {
  const range = listKey(filters);
  if (!range.pure) throw new Error("coachPageRowsSql: only a pure language/country filter has a page of rows");
  return sql`select total, item from coach_list_page_rows(${range.language}, ${range.country}, ${pagination.limit}::int,
    ${pagination.skip}::int) order by rating desc, sessions desc, coach_id`;
}

/** The rows of coachPageRowsSql joined into the answer's text, exactly as coach_list_page builds it. */
export function pageBodyFromRows(rows: ReadonlyArray<{ total: number; item: string | null }>, pagination: Pagination): string {
  const items = rows.flatMap((row) => (row.item === null ? [] : [row.item]));
  const total = rows[0]?.total;
  if (typeof total !== "number") throw new Error("the coach page statement returned no total");
  return `{"items":[${items.join(",")}],"total":${total},"skip":${pagination.skip},"limit":${pagination.limit}}`;
}

/**
 * GET /coaches: one round trip, whatever the page; the answer's JSON text (a CoachPage, as
 * c.json would send it: coach-list-keys.test.ts compares the bytes).
 */
export async function listCoachesJson(
  db: Executor,
  filters: CoachFilters,
  pagination: Pagination,
  backend: BackendKind = "warm",
): Promise<string> {
  const range = listKey(filters);
  if (range.pure && backend === "fresh") {
    const result = await db.execute<{ total: number; item: string | null }>(coachPageRowsSql(filters, pagination));
    return pageBodyFromRows(result.rows, pagination);
  }
  // The stored-total key serves the other filters only (a pure filter's total is coach_list_totals').
  const key = range.pure ? "" : await filterKey(filters);
  const result = await db.execute<{ body: string }>(coachListSql(filters, pagination, key));
  const body = result.rows[0]?.body;
  if (typeof body !== "string") throw new Error("the coach list statement returned no body");
  return body;
}

/** GET /coaches as an object (scripts, tests). */
export async function listCoaches(db: Executor, filters: CoachFilters, pagination: Pagination): Promise<CoachPage> {
  return JSON.parse(await listCoachesJson(db, filters, pagination)) as CoachPage;
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
