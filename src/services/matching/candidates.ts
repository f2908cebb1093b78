/**
 * Candidate selection in Postgres: never load every coach into the Worker.
 *
 * One statement (see candidateSql for its bounded parts): coaches sharing a
 * preferred language, active, priced at most 20 % over the budget, pre-ranked
 * by a cheap SQL version of the engine's heaviest parts (countries by stage,
 * goal and challenge topics in the expertise, shared languages, budget,
 * rating), LIMIT CANDIDATE_LIMIT; plus fillers sharing no language when too
 * few share one. The engine then scores this bounded set exactly.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import type { Quiz } from "../../lib/quiz.ts";
import type { MatchCoach } from "./engine.ts";
import { EXPERTISE_JOIN, escapeLike, minimalPhrases, topicSubstrings } from "./expertise-topics.ts";
import { BUDGET_TOLERANCE, PLACE_WEIGHTS, WEIGHTS } from "./factors.ts";
import { type TopicId, topicsOf } from "./taxonomy.ts";
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

/**
 * How the pre-rank recognises the quiz items' concepts in a coach's expertise: the items'
 * taxonomy topics, matched against the stored `expertise_topics` (an array overlap), and
 * LIKE patterns only for item wording that contains none of those topics' synonyms (an item
 * outside the taxonomy, or worded in a form no synonym is a substring of). The same yes/no as
 * a LIKE over every synonym of the topics and every item: `expertise_topics` holds a topic
 * exactly when the lower-cased expertise contains one of its synonyms (expertise-topics.ts),
 * and an item containing a synonym can only match where the synonym does.
 */
export interface ConceptMatch {
  topics: TopicId[];
  /** '%phrase%' patterns for the lower-cased expertise (usually none). */
  patterns: string[];
}

export function conceptMatch(items: readonly string[]): ConceptMatch {
  const topics = new Set<TopicId>();
  for (const item of items) for (const topic of topicsOf(item)) topics.add(topic);
  const synonyms = [...topics].flatMap(topicSubstrings);
  const wording = minimalPhrases(items.map(normalizeText)).filter(
    (phrase) => !synonyms.some((synonym) => phrase.includes(synonym)),
  );
  return { topics: [...topics].sort(), patterns: wording.map((phrase) => `%${escapeLike(phrase)}%`) };
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

/**
 * When at least this many language-sharing coaches know the stage's main country, the pre-rank
 * looks only at them (index path); below it, at every language-sharing coach (full path).
 */
export const FOCUS_ENOUGH = 200;

/** Countries whose place weight makes them decisive for the stage (>= 8 of the 22 place points). */
export function focusCountries(quiz: Quiz): string[] {
  const place = PLACE_WEIGHTS[quiz.relocation_stage];
  const names: string[] = [];
  if (place.target >= 8) names.push(...quiz.target_countries);
  if (place.current >= 8) names.push(quiz.current_country);
  if (place.home >= 8) names.push(quiz.home_country);
  return countryVariants(names);
}

/**
 * The candidate statement (exported for the EXPLAIN test and the benchmark).
 *
 * Three bounded parts, each walked along an index, so that the work does not grow with the
 * number of coaches who speak a common language:
 * 1. `focus`: language-sharing coaches who know the stage's main country (bitmap AND of the
 *    GIN indexes on languages and countries: a few thousand rows at 100,000 coaches), pre-ranked;
 * 2. `broad`: every language-sharing coach, pre-ranked — only when `focus` has fewer than
 *    FOCUS_ENOUGH rows (a rare country or a small market), `(select count(*) from focus) < N`
 *    being a one-time filter;
 * 3. fillers sharing no language, best rated first along ix_coach_profiles_rank — only when
 *    fewer than FILLER_LIMIT share one.
 * Why `focus` suffices when it is full: the place points of the decisive country (>= 8, up to
 * 18) are more than a coach without it can make up elsewhere in the pre-rank; the engine then
 * scores the set exactly.
 */
export function candidateSql(quiz: Quiz, options: { focusFrom?: "keys" | "profiles" } = {}): SQL {
  const place = PLACE_WEIGHTS[quiz.relocation_stage];
  const languages = quiz.preferred_languages;
  const max = quiz.budget_range.max;
  const bound = max * (1 + BUDGET_TOLERANCE);
  const goals = conceptMatch(quiz.cultural_goals);
  const challenges = conceptMatch(quiz.specific_challenges);

  // Weights and limits are code constants: inlined, so the planner sees plain numbers.
  const constant = (value: number) => sql.raw(String(value));
  // sql.param: one array parameter (a bare array in drizzle's sql`` expands into a list of parameters).
  const textArray = (values: readonly string[]) => sql`${sql.param(values)}::text[]`;
  const langs = textArray(languages);
  // The pre-rank over a row of coach_profiles (`cp`) or of coach_match_keys (`k`, same column
  // names; it has no expertise, so the key path is taken only when no LIKE pattern is needed).
  const prescoreOf = (alias: "cp" | "k") => {
    const t = sql.raw(alias);
    // Array overlap (&&) on small arrays costs far less per row than unnest() subqueries.
    const knows = (names: readonly string[], points: number) =>
      sql`(case when ${t}.countries && ${textArray(countryVariants(names))} then ${constant(points)} else 0 end)`;
    // The concept points: the stored topic ids overlap the items' topics (a few array elements
    // per row), or, only for item wording outside the synonyms, a LIKE on the lower-cased expertise.
    const covers = ({ topics, patterns }: ConceptMatch, points: number) => {
      const tests: SQL[] = [];
      if (topics.length > 0) tests.push(sql`${t}.expertise_topics && ${textArray(topics)}`);
      if (patterns.length > 0)
        tests.push(sql`lower(array_to_string(${t}.expertise, ${EXPERTISE_JOIN})) like any (${textArray(patterns)})`);
      return tests.length > 0 ? sql`(case when ${sql.join(tests, sql` or `)} then ${constant(points)} else 0 end)` : sql`0`;
    };
    const sharedLanguages = sql.join(
      languages.map((language) => sql`(${t}.languages @> ${textArray([language])})::int`),
      sql` + `,
    );
    return sql`${knows(quiz.target_countries, place.target)} + ${knows([quiz.current_country], place.current)}
        + ${knows([quiz.home_country], place.home)} + ${covers(goals, WEIGHTS.cultural_goals)}
        + ${covers(challenges, WEIGHTS.specific_challenges)}
        + ${constant(WEIGHTS.preferred_languages)}.0 * (${sharedLanguages}) / ${constant(languages.length)}
        + (case when ${t}.hourly_rate <= ${max}::numeric then ${constant(WEIGHTS.budget_range)} else 0 end)
        + ${constant(WEIGHTS.rating)} * ${t}.rating / 5`;
  };
  const prescore = prescoreOf("cp");

  const columns = sql`cp.id, cp.user_id, cp.first_name, cp.last_name, cp.photo_url, cp.bio, cp.expertise, cp.languages,
    cp.countries, cp.hourly_rate, cp.currency, cp.availability, cp.rating, cp.total_sessions, cp.is_verified, cp.updated_at,
    cp.review_count`;
  const priced = sql`cp.hourly_rate is not null and cp.hourly_rate <= ${bound}::numeric`;
  const order = sql`order by prescore desc, cp.rating desc, cp.total_sessions desc, cp.id`;
  const take = constant(CANDIDATE_LIMIT + OVERFETCH);

  // The top-N sorts run on coach_profiles alone; `users` (active coach accounts) is joined only
  // for the few hundred survivors: a join before the sort would hash every user per request.
  // current_schema() is PARALLEL UNSAFE (pg_proc.proparallel = 'u') and side-effect free: naming
  // it keeps the whole statement serial. Every part is a bounded index walk that gains nothing
  // from workers, and a Gather launches its workers even when a one-time filter then skips the
  // scan below it (measured: the idle `broad` part cost more than the `focus` part it guards).
  const focusVariants = textArray(focusCountries(quiz));
  // The focus pre-rank reads coach_match_keys' covering primary key (country, coach_id): the
  // coaches of the decisive country are one contiguous run of index tuples (index-only), then
  // only the best `take` are fetched from coach_profiles. DISTINCT ON: a coach listing two of the
  // variants ("Spain", "spain", or two target countries) has a row for each, all with the same
  // prescore. Quiz wording outside the taxonomy needs the expertise text (LIKE): coach_profiles.
  // (options.focusFrom: the tests compare both paths on the same data)
  const keyed = options.focusFrom === "profiles" ? false : goals.patterns.length === 0 && challenges.patterns.length === 0;
  if (options.focusFrom === "keys" && !keyed) throw new Error("the keys path cannot match LIKE patterns");
  const focus = keyed
    ? sql`
      select ${columns}, best.prescore
        from (select * from (
                select distinct on (k.coach_id) k.coach_id, k.rating, k.total_sessions, ${prescoreOf("k")} as prescore
                  from coach_match_keys k
                 where k.country = any(${focusVariants}) and k.hourly_rate is not null
                   and k.hourly_rate <= ${bound}::numeric and k.languages && ${langs}
                 order by k.coach_id) keys
               order by keys.prescore desc, keys.rating desc, keys.total_sessions desc, keys.coach_id
               limit ${take}) best
        join coach_profiles cp on cp.id = best.coach_id`
    : sql`
      select ${columns}, ${prescore} as prescore
        from coach_profiles cp
       where ${priced} and cp.languages && ${langs} and cp.countries && ${focusVariants}
       ${order}
       limit ${take}`;

  return sql`
    with focus as materialized (${focus}),
    broad as materialized (
      select ${columns}, ${prescore} as prescore
        from coach_profiles cp
       where (select count(*) from focus) < ${constant(FOCUS_ENOUGH)} and current_schema() is not null
         and ${priced} and cp.languages && ${langs}
       ${order}
       limit ${take}),
    sharing as materialized (
      select ranked.*, 0 as tier from (
          select * from broad
          union all
          select * from focus where not exists (select 1 from broad)) ranked
        -- lateral + limit: an index probe per survivor (a plain join here was planned as a hash of every user)
        cross join lateral (select 1 from users u where u.id = ranked.user_id and u.is_active and u.role = 'coach' limit 1) active
        order by ranked.prescore desc, ranked.rating desc, ranked.total_sessions desc, ranked.id
        limit ${constant(CANDIDATE_LIMIT)})
    select * from sharing
    union all
    (select ${columns}, 0 as prescore, 1 as tier
       from coach_profiles cp join users u on u.id = cp.user_id
      where (select count(*) from sharing) < ${constant(FILLER_LIMIT)}
        and ${priced} and u.is_active and u.role = 'coach' and not (cp.languages && ${langs})
      -- the order of ix_coach_profiles_rank (desc nulls last): an index walk that stops after a few rows
      order by cp.rating desc nulls last, cp.total_sessions desc nulls last, cp.id
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
