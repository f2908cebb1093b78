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
import { sql, type SQL } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import type { Quiz } from "../../lib/quiz.ts";
import { BUDGET_TOLERANCE, PLACE_WEIGHTS, WEIGHTS } from "./factors.ts";
import { synonymPhrases, topicsOf, type TopicId } from "./taxonomy.ts";
import { countrySpellings, normalizeText } from "./text.ts";
import type { MatchCoach } from "./engine.ts";

/** Language-sharing candidates scored by the engine. */
export const CANDIDATE_LIMIT = 300;
/** Coaches sharing no language, considered only to fill a short list. */
export const FILLER_LIMIT = 50;

export interface CandidateRow extends MatchCoach {
  userId: string;
  firstName: string | null;
  lastName: string | null;
  photoUrl: string | null;
  updatedAt: Date;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A Postgres regex (ARE) matching any synonym of the client's goal/challenge topics, or the items themselves. */
export function topicPattern(quiz: Quiz): string | null {
  const topics = new Set<TopicId>();
  const items = [...quiz.cultural_goals, ...quiz.specific_challenges];
  for (const item of items) for (const topic of topicsOf(item)) topics.add(topic);
  const phrases = new Set<string>(synonymPhrases(topics).map((phrase) => phrase.toLowerCase()));
  for (const item of items) phrases.add(normalizeText(item));
  if (phrases.size === 0) return null;
  // Longest first so the alternation prefers the specific phrase; sorted for a stable statement text.
  return [...phrases].sort((a, b) => b.length - a.length || a.localeCompare(b)).map(escapeRegex).join("|");
}

/** The candidate statement (exported for the EXPLAIN test and the benchmark). */
export function candidateSql(quiz: Quiz): SQL {
  const place = PLACE_WEIGHTS[quiz.relocation_stage];
  const languages = quiz.preferred_languages;
  const targets = [...new Set(quiz.target_countries.flatMap(countrySpellings))];
  const current = countrySpellings(quiz.current_country);
  const home = countrySpellings(quiz.home_country);
  const max = quiz.budget_range.max;
  const bound = max * (1 + BUDGET_TOLERANCE);
  const pattern = topicPattern(quiz);
  const textWeight = WEIGHTS.cultural_goals + WEIGHTS.specific_challenges;

  // Weights and limits are code constants: inlined, so the planner sees plain numbers.
  const constant = (value: number) => sql.raw(String(value));
  // sql.param: one array parameter (a bare array in drizzle's sql`` expands into a list of parameters).
  const textArray = (values: readonly string[]) => sql`${sql.param(values)}::text[]`;
  const langs = textArray(languages);
  const hasCountry = (spellings: string[]) =>
    sql`exists (select 1 from unnest(cp.countries) as c(name) where lower(c.name) = any(${textArray(spellings)}))`;
  const topicMatch = pattern
    ? sql`(case when lower(array_to_string(cp.expertise, ' | ')) ~ ${pattern} then ${constant(textWeight)} else 0 end)`
    : sql`0`;

  const columns = sql`cp.id, cp.user_id, cp.first_name, cp.last_name, cp.photo_url, cp.bio, cp.expertise, cp.languages,
    cp.countries, cp.hourly_rate, cp.currency, cp.availability, cp.rating, cp.total_sessions, cp.is_verified, cp.updated_at`;
  const eligible = sql`u.is_active and u.role = 'coach' and cp.hourly_rate is not null and cp.hourly_rate <= ${bound}::numeric`;

  return sql`
    (select ${columns}, 0 as tier
       from coach_profiles cp join users u on u.id = cp.user_id
      where ${eligible} and cp.languages && ${langs}
      order by
        (case when ${hasCountry(targets)} then ${constant(place.target)} else 0 end)
        + (case when ${hasCountry(current)} then ${constant(place.current)} else 0 end)
        + (case when ${hasCountry(home)} then ${constant(place.home)} else 0 end)
        + ${topicMatch}
        + ${constant(WEIGHTS.preferred_languages)}.0 * (select count(*) from unnest(cp.languages) as l(name) where l.name = any(${langs})) / ${constant(languages.length)}
        + (case when cp.hourly_rate <= ${max}::numeric then ${constant(WEIGHTS.budget_range)} else 0 end)
        + ${constant(WEIGHTS.rating)} * cp.rating / 5
        desc,
        cp.rating desc, cp.total_sessions desc, cp.id
      limit ${constant(CANDIDATE_LIMIT)})
    union all
    (select ${columns}, 1 as tier
       from coach_profiles cp join users u on u.id = cp.user_id
      where ${eligible} and not (cp.languages && ${langs})
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
  }));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
