/**
 * The concepts (taxonomy topics) of a coach's expertise as the SQL pre-rank sees them,
 * stored per coach in `coach_profiles.expertise_topics`: a generated column over the
 * IMMUTABLE function `coach_expertise_topics(expertise)`, whose body this file writes from
 * taxonomy.ts (`node scripts/gen-expertise-topics.ts` prints it for a migration; a unit test fails
 * when the newest migration's body differs from the taxonomy). Being a generated column, it
 * is right after every write of `expertise` (PUT /profile, admin import, seeds, tests)
 * without any of them knowing about it.
 *
 * The rule is the pre-rank's substring rule, not the engine's stemmed phrase match: a topic is
 * in the array when the lower-cased expertise entries, joined, contain one of the topic's
 * synonyms (weak ones included) of at least 3 characters. The pre-rank's concept points are
 * therefore exactly what the `LIKE ANY` over all synonyms of the quiz's topics gave before
 * (see conceptMatch in candidates.ts), now an array overlap per row instead of dozens of
 * substring scans.
 *
 * When taxonomy.ts changes: add a custom migration with the new body (the unit test prints
 * it) followed by `UPDATE coach_profiles SET expertise = expertise`, which recomputes the
 * stored column (Postgres recomputes stored generated columns on every UPDATE of the row).
 */
import { synonymPhrases, TOPIC_IDS, type TopicId } from "./taxonomy.ts";
import { normalizeText } from "./text.ts";

/** The separator of the joined expertise entries (no synonym contains it, so no match spans two entries). */
export const EXPERTISE_JOIN = " | ";

/** Phrases shorter than this are not matched as substrings ("cv", "it" would be inside any word). */
export const MIN_PHRASE = 3;

/**
 * Keeps only the shortest phrases: a phrase containing another listed one adds nothing to a
 * yes/no substring match ("career change" when "career" is listed).
 */
export function minimalPhrases(phrases: Iterable<string>): string[] {
  const sorted = [...new Set(phrases)]
    .filter((phrase) => phrase.length >= MIN_PHRASE)
    .sort((a, b) => a.length - b.length || a.localeCompare(b));
  const minimal: string[] = [];
  for (const phrase of sorted) if (!minimal.some((shorter) => phrase.includes(shorter))) minimal.push(phrase);
  return minimal;
}

/** The lower-cased substrings that put `topic` into a coach's expertise_topics. */
export function topicSubstrings(topic: TopicId): string[] {
  return minimalPhrases(synonymPhrases([topic]).map(normalizeText));
}

/** Escapes LIKE's wildcards and its escape character. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The function body's SQL (CREATE OR REPLACE FUNCTION), generated from the taxonomy. */
export function expertiseTopicsFunctionSql(): string {
  const cases = TOPIC_IDS.map((topic) => {
    const patterns = topicSubstrings(topic).map((phrase) => literal(`%${escapeLike(phrase)}%`));
    return `    CASE WHEN t.text LIKE ANY (ARRAY[${patterns.join(", ")}]) THEN ${literal(topic)} END`;
  });
  return `-- Generated from src/services/matching/taxonomy.ts by src/services/matching/expertise-topics.ts
-- (node scripts/gen-expertise-topics.ts). Do not edit by hand: test/unit/matching-expertise-topics.test.ts
-- compares this body with the taxonomy.
-- The taxonomy topics whose synonyms (weak ones included, >= ${MIN_PHRASE} characters) occur in the
-- lower-cased expertise entries: the concept ids of the POST /match pre-rank, stored per coach in the
-- generated column coach_profiles.expertise_topics. IMMUTABLE: lower() and LIKE depend on the input
-- alone, and array_to_string over text[] too (it is only STABLE for arrays of other element types).
CREATE OR REPLACE FUNCTION coach_expertise_topics(expertise text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT coalesce(array_remove(ARRAY[
${cases.join(",\n")}
  ], NULL), '{}'::text[])
  FROM (SELECT lower(array_to_string(expertise, ${literal(EXPERTISE_JOIN)})) AS text) t
$$;`;
}

/** The same rule in TypeScript (tests compare it with the stored column). */
export function expertiseTopics(expertise: readonly string[]): TopicId[] {
  // toLowerCase, not normalizeText: SQL lower() folds case only, accents stay.
  const text = expertise.join(EXPERTISE_JOIN).toLowerCase();
  return TOPIC_IDS.filter((topic) => topicSubstrings(topic).some((phrase) => text.includes(phrase)));
}
