/**
 * Text normalisation shared by the lexical similarity and the taxonomy:
 * lower case, accents folded, split into word tokens, a light suffix
 * stemmer (so "integrate", "integration" and "integrating" meet), stopwords
 * dropped. Deterministic and dependency-free: it runs per request in the
 * Worker and 2.5 million times in the offline evaluation.
 */

const STOPWORDS = new Set([
  "a",
  "an",
  "the",
  "and",
  "or",
  "of",
  "to",
  "in",
  "into",
  "on",
  "for",
  "with",
  "at",
  "by",
  "from",
  "as",
  "my",
  "me",
  "i",
  "we",
  "our",
  "you",
  "your",
  "it",
  "its",
  "is",
  "are",
  "be",
  "been",
  "being",
  "am",
  "was",
  "were",
  "that",
  "this",
  "these",
  "those",
  "who",
  "what",
  "how",
  "when",
  "where",
  "which",
  "new",
  "get",
  "getting",
  "help",
  "helping",
  "want",
  "need",
  "needs",
  "better",
  "more",
  "most",
  "very",
  "about",
  "abroad",
  "life",
  "living",
  "people",
  "person",
  "also",
  "can",
  "will",
  "would",
  "should",
  "do",
  "doing",
  "make",
  "making",
  "find",
  "finding",
  "across",
  "between",
  "over",
  "through",
  "than",
  "then",
  "so",
  "not",
  "no",
  "yes",
  "all",
  "any",
  "some",
  "each",
  "other",
  "others",
  "coach",
  "coaching",
  "coaches",
  "coached",
  "years",
  "year",
  "experience",
  "experienced",
  "specialist",
  "specialising",
  "specializing",
  "specialise",
  "specialize",
  "work",
  "working",
  "works",
  "support",
  "supporting",
  "supports",
  "clients",
  "client",
  "since",
  "many",
  "them",
  "their",
  "they",
  "he",
  "she",
  "his",
  "her",
]);

// Longest first: one suffix is removed per word, keeping a stem of >= 3 letters. No bare "ly":
// it would turn "family" into "fami".
const SUFFIXES = [
  "ational",
  "ations",
  "ation",
  "ments",
  "ment",
  "ness",
  "ings",
  "ing",
  "ities",
  "ity",
  "ates",
  "ated",
  "ate",
  "ally",
  "ers",
  "er",
  "ies",
  "ied",
  "al",
  "es",
  "ed",
  "s",
  "e",
];

/** Lower case, accents removed, whitespace collapsed. */
export function normalizeText(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

export function stem(word: string): string {
  for (const suffix of SUFFIXES) {
    if (word.length - suffix.length >= 3 && word.endsWith(suffix)) {
      const base = word.slice(0, word.length - suffix.length);
      // "families" -> "family", "studied" -> "study": the plural meets its singular.
      return suffix === "ies" || suffix === "ied" ? `${base}y` : base;
    }
  }
  return word;
}

const stemCache = new Map<string, string>();

function cachedStem(word: string): string {
  let value = stemCache.get(word);
  if (value === undefined) {
    value = stem(word);
    // Bounded: a hostile bio cannot grow this without limit.
    if (stemCache.size < 50_000) stemCache.set(word, value);
  }
  return value;
}

/** Word stems of a text in order, stopwords included (phrase matching needs positions). */
export function stemSequence(text: string): string[] {
  const words = normalizeText(text).split(/[^a-z0-9]+/);
  const result: string[] = [];
  for (const word of words) if (word.length > 0) result.push(cachedStem(word));
  return result;
}

/** The content stems of a text (stopwords and 1-2 letter words dropped), de-duplicated. */
export function contentStems(text: string): Set<string> {
  const result = new Set<string>();
  for (const word of normalizeText(text).split(/[^a-z0-9]+/)) {
    if (word.length < 3 || STOPWORDS.has(word)) continue;
    result.add(cachedStem(word));
  }
  return result;
}

/** True when `phrase` (a stem sequence) occurs contiguously in `sequence`. */
export function containsPhrase(sequence: readonly string[], phrase: readonly string[]): boolean {
  if (phrase.length === 0 || phrase.length > sequence.length) return false;
  outer: for (let i = 0; i + phrase.length <= sequence.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (sequence[i + j] !== phrase[j]) continue outer;
    return true;
  }
  return false;
}

const COUNTRY_ALIASES: Record<string, string> = {
  usa: "united states",
  us: "united states",
  "u.s.": "united states",
  "u.s.a.": "united states",
  america: "united states",
  "united states of america": "united states",
  uk: "united kingdom",
  "u.k.": "united kingdom",
  britain: "united kingdom",
  "great britain": "united kingdom",
  england: "united kingdom",
  uae: "united arab emirates",
  emirates: "united arab emirates",
  holland: "netherlands",
  "the netherlands": "netherlands",
  "south korea": "korea",
  "republic of korea": "korea",
  czechia: "czech republic",
  "mainland china": "china",
  prc: "china",
  turkiye: "turkey",
};

/** A country name in a comparable form ("The Netherlands" = "holland" = "netherlands"). */
export function normalizeCountry(name: string): string {
  const value = normalizeText(name);
  return COUNTRY_ALIASES[value] ?? value;
}

/**
 * Words for a reason sentence: raw tokens as a form or an old client sends them
 * ("career_transition", "family-relocation") become words ("career transition").
 * Hyphens inside words people write ("cross-cultural") stay.
 */
export function humanize(text: string): string {
  return text.replace(/_+/g, " ").replace(/\s+/g, " ").trim();
}

/** "America/New_York" -> "New York", "UTC" -> "UTC": a zone as a person names it. */
export function zoneLabel(zone: string): string {
  const last = zone.split("/").pop() ?? zone;
  return humanize(last);
}

/** "Spanish", "Spanish and English", "Spanish, French and English". */
export function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Every lower-cased spelling that normalizes to the same country (for SQL comparisons, which cannot fold aliases). */
export function countrySpellings(name: string): string[] {
  const canonical = normalizeCountry(name);
  const spellings = new Set<string>([canonical, normalizeText(name)]);
  for (const [alias, target] of Object.entries(COUNTRY_ALIASES)) if (target === canonical) spellings.add(alias);
  return [...spellings];
}

/**
 * A set of phrases grouped under labels, matched against stem sequences in
 * one pass: phrases are indexed by their first stem, so the cost is
 * O(text length x phrases sharing a first stem) instead of O(text x all phrases).
 */
export class PhraseIndex<Label extends string> {
  private readonly byFirstStem = new Map<string, Array<{ label: Label; stems: string[] }>>();

  constructor(groups: Record<Label, readonly string[]>) {
    for (const [label, phrases] of Object.entries(groups) as Array<[Label, readonly string[]]>) {
      for (const phrase of phrases) {
        const stems = stemSequence(phrase);
        const first = stems[0];
        if (first === undefined) continue;
        let list = this.byFirstStem.get(first);
        if (!list) {
          list = [];
          this.byFirstStem.set(first, list);
        }
        list.push({ label, stems });
      }
    }
  }

  /** Labels with at least one phrase occurring in `sequence`. */
  labelsIn(sequence: readonly string[]): Set<Label> {
    const found = new Set<Label>();
    for (let i = 0; i < sequence.length; i++) {
      const candidates = this.byFirstStem.get(sequence[i]!);
      if (!candidates) continue;
      candidate: for (const { label, stems } of candidates) {
        if (found.has(label) || i + stems.length > sequence.length) continue;
        for (let j = 1; j < stems.length; j++) if (sequence[i + j] !== stems[j]) continue candidate;
        found.add(label);
      }
    }
    return found;
  }
}
