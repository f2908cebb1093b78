import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { conceptMatch } from "../../src/services/matching/candidates.ts";
import {
  EXPERTISE_JOIN,
  expertiseTopics,
  expertiseTopicsFunctionSql,
  minimalPhrases,
} from "../../src/services/matching/expertise-topics.ts";
import { synonymPhrases, TOPIC_IDS, TOPICS, type TopicId, topicsOf } from "../../src/services/matching/taxonomy.ts";
import { normalizeText } from "../../src/services/matching/text.ts";

// vitest runs from the repository root
const migrationsDir = join(process.cwd(), "migrations");

/** The body of coach_expertise_topics() in the newest migration that (re)defines it. */
function newestMigrationBody(): string | undefined {
  const files = readdirSync(migrationsDir)
    .filter((file) => file.endsWith(".sql"))
    .sort();
  let body: string | undefined;
  for (const file of files) {
    const text = readFileSync(join(migrationsDir, file), "utf8");
    const match = /CREATE OR REPLACE FUNCTION coach_expertise_topics[\s\S]*?\$\$[\s\S]*?\$\$;/.exec(text);
    if (match) body = match[0];
  }
  return body;
}

/** The pre-rank's concept rule before the stored column: one LIKE over every synonym of the items' topics and the items. */
function oldRule(expertise: readonly string[], items: readonly string[]): boolean {
  const topics = new Set<TopicId>();
  for (const item of items) for (const topic of topicsOf(item)) topics.add(topic);
  const phrases = minimalPhrases([...synonymPhrases(topics).map(normalizeText), ...items.map(normalizeText)]);
  const text = expertise.join(EXPERTISE_JOIN).toLowerCase();
  return phrases.some((phrase) => text.includes(phrase));
}

function newRule(expertise: readonly string[], items: readonly string[]): boolean {
  const { topics, patterns } = conceptMatch(items);
  const stored = new Set(expertiseTopics(expertise));
  const text = expertise.join(EXPERTISE_JOIN).toLowerCase();
  // the patterns are '%phrase%' with LIKE escapes; unescape for a substring test
  const phrases = patterns.map((pattern) => pattern.slice(1, -1).replace(/\\(.)/g, "$1"));
  return topics.some((topic) => stored.has(topic)) || phrases.some((phrase) => text.includes(phrase));
}

describe("expertise topics (the stored concept ids of the match pre-rank)", () => {
  it("the newest migration's coach_expertise_topics() is the one generated from the taxonomy", () => {
    const expected = /CREATE OR REPLACE FUNCTION[\s\S]*\$\$;/.exec(expertiseTopicsFunctionSql())![0];
    // On failure: add a custom migration with `node scripts/gen-expertise-topics.ts` (see expertise-topics.ts).
    expect(newestMigrationBody()).toBe(expected);
  });

  it("finds topics by their synonyms as substrings of the lower-cased expertise", () => {
    expect(expertiseTopics(["Reverse culture shock", "Career change"])).toEqual(["culture_shock", "career", "repatriation"]);
    expect(expertiseTopics(["Kids' school choice"])).toEqual(["family"]);
    expect(expertiseTopics([])).toEqual([]);
    expect(expertiseTopics(["CV writing"])).toEqual([]); // a 2-letter synonym is not matched inside words
  });

  it("gives the pre-rank the same yes/no as the LIKE over all synonyms and items it replaces", () => {
    // Deterministic pseudo-random texts from synonyms, their stems' other forms and noise words.
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
    const synonyms = TOPIC_IDS.flatMap((topic) => [...TOPICS[topic].synonyms]);
    const noise = ["help with", "Expert in", "managing", "teams", "abroad", "integrating", "100% bilingual_now", "Madrid"];
    const phrase = () =>
      Array.from({ length: 1 + Math.floor(random() * 3) }, () => (random() < 0.6 ? pick(synonyms) : pick(noise))).join(" ");
    let checked = 0;
    let matched = 0;
    for (let i = 0; i < 3000; i++) {
      const expertise = Array.from({ length: Math.floor(random() * 4) }, phrase);
      const items = Array.from({ length: 1 + Math.floor(random() * 2) }, phrase);
      const old = oldRule(expertise, items);
      expect({ expertise, items, result: newRule(expertise, items) }).toEqual({ expertise, items, result: old });
      checked++;
      if (old) matched++;
    }
    expect(checked).toBe(3000);
    expect(matched).toBeGreaterThan(300);
    expect(matched).toBeLessThan(2700);
  });
});
