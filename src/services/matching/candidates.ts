/**
 * Candidate selection in Postgres: never load every coach into the Worker.
 *
 * One statement, two bounded parts (UNION ALL):
 * 1. coaches sharing a preferred language (`languages && $langs`, served by
 *    the GIN index ix_coach_profiles_languages), active, with a rate at most
 *    20 % over the budget, pre-ranked by a cheap SQL version of the engine's
 *    heaviest parts (countries by stage, goal/challenge topics in expertise,
 *    shared languages, budget, rating), LIMIT CANDIDATE_LIMIT;
 * 2. fillers sharing no language (the engine ranks them below every coach of
 *    part 1), the best rated within the budget bound, LIMIT FILLER_LIMIT;
 *    walked along ix_coach_profiles_rank, so it stops after a few rows.
 * The engine then scores this bounded set exactly.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import type { Quiz } from "../../lib/quiz.ts";
import type { MatchCoach } from "./engine.ts";
import { BUDGET_TOLERANCE, PLACE_WEIGHTS, WEIGHTS } from "./factors.ts";
import { synonymPhrases, type TopicId, topicsOf } from "./taxonomy.ts";
import { countrySpellings, normalizeText } from "./text.ts";

/** Language-sharing candidates scored by the engine. */
export const CANDIDATE_LIMIT = 300;
/** Coaches sharing no language, fetched only when fewer than this many share one (to fill a short list). */
export const FILLER_LIMIT = 50;

export interface CandidateRow extends MatchCoach {
  userId: string;
  firstName: string | null;
  lastName: string | null;
  photoUrl: string | null;
  updatedAt: Date;
  /** v2: shown on the match's coach list item */
  reviewCount: number;
}

/** Escapes LIKE's wildcards and its escape character. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}

/**
 * LIKE patterns ('%phrase%') for the synonyms of the client's goal/challenge
 * topics and the client's own words, matched against the lower-cased
 * expertise. Minimal: a phrase that contains another listed phrase adds
 * nothing to a yes/no match ("career change" when "career" is listed), and
 * every pattern costs a substring scan per candidate row.
 */
export function topicPatterns(quiz: Quiz): string[] {
  const topics = new Set<TopicId>();
  const items = [...quiz.cultural_goals, ...quiz.specific_challenges];
  for (const item of items) for (const topic of topicsOf(item)) topics.add(topic);
  const phrases = [...new Set([...synonymPhrases(topics).map(normalizeText), ...items.map(normalizeText)])]
    .filter((phrase) => phrase.length >= 3)
    .sort((a, b) => a.length - b.length || a.localeCompare(b));
  const minimal: string[] = [];
  for (const phrase of phrases) if (!minimal.some((shorter) => phrase.includes(shorter))) minimal.push(phrase);
  return minimal.map((phrase) => `%${escapeLike(phrase)}%`);
}

/** How a country may be written in coach_profiles.countries (exact-match arrays cannot fold case or aliases). */
export function countryVariants(names: readonly string[]): string[] {
  const variants = new Set<string>();
  for (const name of names) {
    variants.add(name.trim());
    for (const spelling of countrySpellings(name)) {
      variants.add(spelling);
      variants.add(
        spelling.replace(/(^|[\s-])(\p{L})/gu, (_, separator: string, letter: string) => separator + letter.toUpperCase()),
      );
      variants.add(spelling.toUpperCase());
    }
  }
  return [...variants];
}

/** Pre-ranked rows taken before the active-account join (which then drops the few inactive ones). */
const OVERFETCH = 60;

/** The candidate statement (exported for the EXPLAIN test and the benchmark). */
export function candidateSql(quiz: Quiz): SQL {
  const place = PLACE_WEIGHTS[quiz.relocation_stage];
  const languages = quiz.preferred_languages;
  const max = quiz.budget_range.max;
  const bound = max * (1 + BUDGET_TOLERANCE);
  const patterns = topicPatterns(quiz);

  // Weights and limits are code constants: inlined, so the planner sees plain numbers.
  const constant = (value: number) => sql.raw(String(value));
  // sql.param: one array parameter (a bare array in drizzle's sql`` expands into a list of parameters).
  const textArray = (values: readonly string[]) => sql`${sql.param(values)}::text[]`;
  const langs = textArray(languages);
  // Array overlap (&&) on small arrays costs far less per row than unnest() subqueries.
  const knows = (names: readonly string[], points: number) =>
    sql`(case when cp.countries && ${textArray(countryVariants(names))} then ${constant(points)} else 0 end)`;
  const topicMatch =
    patterns.length > 0
      ? sql`(case when lower(array_to_string(cp.expertise, ' | ')) like any (${textArray(patterns)}) then ${constant(WEIGHTS.cultural_goals + WEIGHTS.specific_challenges)} else 0 end)`
      : sql`0`;
  const sharedLanguages = sql.join(
    languages.map((language) => sql`(cp.languages @> ${textArray([language])})::int`),
    sql` + `,
  );
  const prescore = sql`${knows(quiz.target_countries, place.target)} + ${knows([quiz.current_country], place.current)}
        + ${knows([quiz.home_country], place.home)} + ${topicMatch}
        + ${constant(WEIGHTS.preferred_languages)}.0 * (${sharedLanguages}) / ${constant(languages.length)}
        + (case when cp.hourly_rate <= ${max}::numeric then ${constant(WEIGHTS.budget_range)} else 0 end)
        + ${constant(WEIGHTS.rating)} * cp.rating / 5`;

  const columns = sql`cp.id, cp.user_id, cp.first_name, cp.last_name, cp.photo_url, cp.bio, cp.expertise, cp.languages,
    cp.countries, cp.hourly_rate, cp.currency, cp.availability, cp.rating, cp.total_sessions, cp.is_verified, cp.updated_at,
    cp.review_count`;
  const priced = sql`cp.hourly_rate is not null and cp.hourly_rate <= ${bound}::numeric`;

  // Part 1 ranks coach_profiles alone (GIN bitmap scan or, for a language most coaches speak,
  // a parallel scan + top-N sort) and joins users only for the few hundred survivors: a join
  // before the sort would hash every user on every request.
  // Part 2 (fillers) runs only when part 1 is short: `(select count(*) from sharing) < N` is a
  // one-time filter, so a full list costs no scan of the coaches who share no language.
  return sql`
    with sharing as materialized (
      select ranked.*, 0 as tier from (
         select ${columns}, ${prescore} as prescore
           from coach_profiles cp
          where ${priced} and cp.languages && ${langs}
          order by prescore desc, cp.rating desc, cp.total_sessions desc, cp.id
          limit ${constant(CANDIDATE_LIMIT + OVERFETCH)}) ranked
        join users u on u.id = ranked.user_id and u.is_active and u.role = 'coach'
        order by ranked.prescore desc, ranked.rating desc, ranked.total_sessions desc, ranked.id
        limit ${constant(CANDIDATE_LIMIT)})
    select * from sharing
    union all
    (select ${columns}, 0 as prescore, 1 as tier
       from coach_profiles cp join users u on u.id = cp.user_id
      where (select count(*) from sharing) < ${constant(FILLER_LIMIT)}
        and ${priced} and u.is_active and u.role = 'coach' and not (cp.languages && ${langs})
      order by cp.rating desc, cp.total_sessions desc, cp.id
      limit ${constant(FILLER_LIMIT)})`;
}

interface RawCandidate {
  id: string;
  user_id: string;
  first_name: string | null;
  last_name: string | null;
  photo_url: string | null;
  bio: string | null;
  expertise: string[] | null;
  languages: string[] | null;
  countries: string[] | null;
  hourly_rate: string | number | null;
  currency: string;
  availability: unknown;
  rating: string | number;
  total_sessions: number;
  is_verified: boolean;
  updated_at: string | Date;
  review_count: number;
}

/** One round trip: the bounded candidate set for a quiz. */
export async function loadCandidates(db: Executor, quiz: Quiz): Promise<CandidateRow[]> {
  const result = await db.execute<Record<string, unknown>>(candidateSql(quiz));
  return (result.rows as unknown as RawCandidate[]).map((row) => ({
    id: row.id,
    userId: row.user_id,
    firstName: row.first_name,
    lastName: row.last_name,
    photoUrl: row.photo_url,
    bio: row.bio,
    expertise: row.expertise ?? [],
    languages: row.languages ?? [],
    countries: row.countries ?? [],
    hourlyRate: row.hourly_rate === null ? null : Number(row.hourly_rate),
    currency: row.currency,
    availability: typeof row.availability === "string" ? safeJson(row.availability) : row.availability,
    rating: Number(row.rating),
    totalSessions: Number(row.total_sessions),
    isVerified: Boolean(row.is_verified),
    updatedAt: row.updated_at instanceof Date ? row.updated_at : new Date(row.updated_at),
    reviewCount: Number(row.review_count ?? 0),
  }));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
