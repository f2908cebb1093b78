/**
 * The matching engine: pure and deterministic. Input: a complete quiz, the
 * candidate coaches, `now` (only for converting availability between zones)
 * and optionally semantic similarities computed elsewhere. Output: the
 * ranked matches with an integer score, a confidence band and 1-5 reasons.
 *
 * v2 (contract: matches in descending match_score): the two ranking
 * guarantees hold THROUGH the score.
 * - A coach more than 20 % over budget.max is not ranked at all (hard filter),
 *   so it never outranks a coach within budget.
 * - A coach sharing no preferred language scores at most the lowest score of
 *   the coaches who share one (`foldLanguageTier`), and equal scores put the
 *   language-sharing coach first.
 * Order: match_score desc, then shares a language, rating desc,
 * total_sessions desc, profile id. See factors.ts for every factor's role.
 */
import type { Quiz } from "../../lib/quiz.ts";
import {
  BUDGET_EDGE_SCORE,
  BUDGET_TOLERANCE,
  CONFIDENCE_BANDS,
  COVERAGE,
  MAX_REASONS,
  PLACE_WEIGHTS,
  SLOTS_FOR_FULL_TIME_FIT,
  SLOTS_NEEDED_BY_FREQUENCY,
  slotsNeededForUrgency,
  UNRATED_SCORE,
  WEIGHTS,
  type WeightedPart,
} from "./factors.ts";
import {
  type PreferredTime,
  preferredSlots,
  slotCounts,
  type WeeklyAvailability,
  weeklyAvailability,
  zoneOffsetMinutes,
} from "./schedule.ts";
import {
  COACHING_STYLE_WORDS,
  COMMUNICATION_STYLE_WORDS,
  INDUSTRY_SYNONYMS,
  TOPICS,
  type TopicId,
  topicsOf,
} from "./taxonomy.ts";
import {
  containsPhrase,
  contentStems,
  humanize,
  joinList,
  normalizeCountry,
  normalizeText,
  PhraseIndex,
  stemSequence,
  zoneLabel,
} from "./text.ts";

/** What the engine needs to know about a coach (a plain object; the service maps rows to it). */
export interface MatchCoach {
  /** coach profile id */
  id: string;
  bio: string | null;
  expertise: readonly string[];
  languages: readonly string[];
  countries: readonly string[];
  hourlyRate: number | null;
  currency: string;
  availability: unknown;
  rating: number;
  totalSessions: number;
  isVerified: boolean;
}

export type Confidence = "high" | "medium" | "low";

export interface RankedMatch {
  coachId: string;
  matchScore: number;
  confidence: Confidence;
  reasons: string[];
  /** 0 = shares a preferred language, 1 = shares none (filler: its score is folded below every tier-0 score). */
  languageTier: 0 | 1;
  /** Sub-scores in [0, 1] per weighted part (for tests, evaluation and debugging). */
  parts: Record<WeightedPart, number>;
}

/** Per-coach similarity of goals and challenges from text embeddings, each in [0, 1]. */
export interface SemanticScores {
  goals: number;
  challenges: number;
}

export interface RankOptions {
  now: Date;
  semantic?: ReadonlyMap<string, SemanticScores>;
  /** Write reasons only for the first N (the rest get []); default all. */
  explainTop?: number;
}

const WEIGHTED_PARTS = Object.keys(WEIGHTS) as WeightedPart[];

/** Share of the lexical score when a semantic score is available (the rest is the embedding's). */
export const LEXICAL_SHARE_WITH_SEMANTIC = 0.6;

// ---------------------------------------------------------------------------
// Prepared forms: text work done once per coach / client, not per pair.
// ---------------------------------------------------------------------------

interface ExpertiseEntry {
  /** as the coach wrote it, humanized (no raw snake_case tokens) */
  text: string;
  topics: Set<TopicId>;
  stems: Set<string>;
}

export interface PreparedCoach {
  coach: MatchCoach;
  languages: Map<string, string>;
  countries: Map<string, string>;
  expertise: ExpertiseEntry[];
  expertiseTopics: Map<TopicId, string>;
  expertiseStems: Set<string>;
  bioTopics: Set<TopicId>;
  bioStems: Set<string>;
  /** bio + expertise as one stem sequence, entries separated, for vocabulary phrases. */
  sequence: string[];
  stemSet: Set<string>;
  coachingStyles: Set<string>;
  communicationStyles: Set<string>;
  availability: WeeklyAvailability;
  /** slot counts per "shift:duration" (the same coach is seen from many zones in the evaluation). */
  slotCache: Map<string, number[]>;
}

const ENTRY_SEPARATOR = "\u0000";

const COACHING_STYLE_INDEX = new PhraseIndex(COACHING_STYLE_WORDS);
const COMMUNICATION_STYLE_INDEX = new PhraseIndex(COMMUNICATION_STYLE_WORDS);

/** True when the phrase occurs in the coach's text; the stem set rejects most phrases without a scan. */
function coachSays(coach: PreparedCoach, phrase: readonly string[]): boolean {
  for (const stem of phrase) if (!coach.stemSet.has(stem)) return false;
  return phrase.length === 1 || containsPhrase(coach.sequence, phrase);
}

export function prepareCoach(coach: MatchCoach): PreparedCoach {
  const expertise = coach.expertise.map((text) => ({ text: humanize(text), topics: topicsOf(text), stems: contentStems(text) }));
  const expertiseTopics = new Map<TopicId, string>();
  const expertiseStems = new Set<string>();
  for (const entry of expertise) {
    for (const topic of entry.topics) if (!expertiseTopics.has(topic)) expertiseTopics.set(topic, entry.text);
    for (const stem of entry.stems) expertiseStems.add(stem);
  }
  const bio = coach.bio ?? "";
  const sequence: string[] = [];
  for (const text of [bio, ...coach.expertise]) {
    sequence.push(...stemSequence(text), ENTRY_SEPARATOR);
  }
  return {
    coach,
    languages: new Map(coach.languages.map((language) => [normalizeText(language), language])),
    countries: new Map(coach.countries.map((country) => [normalizeCountry(country), country])),
    expertise,
    expertiseTopics,
    expertiseStems,
    bioTopics: topicsOf(bio),
    bioStems: contentStems(bio),
    sequence,
    stemSet: new Set(sequence),
    coachingStyles: COACHING_STYLE_INDEX.labelsIn(sequence),
    communicationStyles: COMMUNICATION_STYLE_INDEX.labelsIn(sequence),
    availability: weeklyAvailability(coach.availability),
    slotCache: new Map(),
  };
}

interface ClientItem {
  /** the client's words, humanized ("career_transition" -> "career transition") */
  text: string;
  topics: Set<TopicId>;
  stems: Set<string>;
}

export interface PreparedClient {
  quiz: Quiz;
  preferredLanguages: string[];
  preferredNormalized: string[];
  learningLanguages: string[];
  learningNormalized: string[];
  targets: Map<string, string>;
  current: string;
  home: string;
  goals: ClientItem[];
  challenges: ClientItem[];
  industryPhrases: string[][];
  offsetMinutes: number;
  now: Date;
  /** zone offsets by coach zone, per prepared client (one `now`) */
  offsetCache: Map<string, number>;
}

function clientItem(text: string): ClientItem {
  return { text: humanize(text), topics: topicsOf(text), stems: contentStems(text) };
}

function industryPhrases(industry: string): string[][] {
  const normalized = normalizeText(industry);
  const words = new Set(normalized.split(/[^a-z0-9]+/).filter(Boolean));
  const phrases = new Set<string>([normalized]);
  for (const synonyms of Object.values(INDUSTRY_SYNONYMS)) {
    if (synonyms.some((synonym) => synonym === normalized || words.has(synonym)))
      for (const synonym of synonyms) phrases.add(synonym);
  }
  return [...phrases].map((phrase) => stemSequence(phrase)).filter((stems) => stems.length > 0);
}

export function prepareClient(quiz: Quiz, now: Date): PreparedClient {
  return {
    quiz,
    preferredLanguages: quiz.preferred_languages,
    preferredNormalized: quiz.preferred_languages.map(normalizeText),
    learningLanguages: quiz.languages_learning,
    learningNormalized: quiz.languages_learning.map(normalizeText),
    targets: new Map(quiz.target_countries.map((country) => [normalizeCountry(country), country])),
    current: normalizeCountry(quiz.current_country),
    home: normalizeCountry(quiz.home_country),
    goals: quiz.cultural_goals.map(clientItem),
    challenges: quiz.specific_challenges.map(clientItem),
    industryPhrases: industryPhrases(quiz.industry),
    offsetMinutes: zoneOffsetMinutes(quiz.timezone, now),
    now,
    offsetCache: new Map(),
  };
}

// ---------------------------------------------------------------------------
// Sub-scores
// ---------------------------------------------------------------------------

type CoverageKind = "expertise-concept" | "bio-concept" | "expertise-words" | "bio-words" | "off-concept-words";

interface Coverage {
  value: number;
  item?: ClientItem;
  kind?: CoverageKind;
  /** the expertise entry that covers it (expertise kinds) */
  entry?: string;
  /** the shared concept (concept kinds) */
  topic?: TopicId;
}

/** Best share of the item's content words found in one expertise entry, with that entry. */
function bestEntryOverlap(item: ClientItem, coach: PreparedCoach): { share: number; entry?: string } {
  let best: { share: number; entry?: string } = { share: 0 };
  if (item.stems.size === 0) return best;
  for (const entry of coach.expertise) {
    let shared = 0;
    for (const stem of item.stems) if (entry.stems.has(stem)) shared++;
    const share = shared / item.stems.size;
    if (share > best.share) best = { share, entry: entry.text };
  }
  return best;
}

/**
 * How well one goal/challenge is covered, by the strongest kind of evidence (COVERAGE).
 * Saturating by construction: sets, not counts, so repeating the client's words adds nothing.
 * An item with a known concept is matched at the concept level: the same need in other
 * words counts fully, the client's words used for another concept barely count.
 */
function coverItem(item: ClientItem, coach: PreparedCoach): Coverage {
  if (item.topics.size > 0) {
    for (const topic of item.topics) {
      const entry = coach.expertiseTopics.get(topic);
      if (entry !== undefined) return { value: COVERAGE.expertiseConcept, item, kind: "expertise-concept", entry, topic };
    }
    let best: Coverage = { value: 0 };
    for (const topic of item.topics)
      if (coach.bioTopics.has(topic)) {
        best = { value: COVERAGE.bioConcept, item, kind: "bio-concept", topic };
        break;
      }
    const words = bestEntryOverlap(item, coach);
    const value = COVERAGE.offConceptWords * words.share;
    if (value > best.value) best = { value, item, kind: "off-concept-words", entry: words.entry };
    return best;
  }
  const words = bestEntryOverlap(item, coach);
  let best: Coverage =
    words.share > 0
      ? { value: COVERAGE.expertiseWords * words.share, item, kind: "expertise-words", entry: words.entry }
      : { value: 0 };
  if (item.stems.size > 0) {
    let sharedBio = 0;
    for (const stem of item.stems) if (coach.bioStems.has(stem)) sharedBio++;
    const bioValue = (COVERAGE.bioWords * sharedBio) / item.stems.size;
    if (bioValue > best.value) best = { value: bioValue, item, kind: "bio-words" };
  }
  return best;
}

function coverage(items: readonly ClientItem[], coach: PreparedCoach): { value: number; covered: Coverage[] } {
  let sum = 0;
  const covered: Coverage[] = [];
  for (const item of items) {
    const result = coverItem(item, coach);
    sum += result.value;
    covered.push(result);
  }
  return { value: items.length > 0 ? sum / items.length : 0, covered };
}

/**
 * The reason for a covered goal/challenge, or undefined when the evidence is not a
 * concrete, relevant overlap: only the same concept in the expertise, or (for a need
 * outside the taxonomy) most of its words in one expertise entry, is named.
 */
function coverageReason(covered: Coverage, what: "goal" | "challenge"): string | undefined {
  const { item, entry, kind } = covered;
  if (!item || !entry) return undefined;
  if (kind === "expertise-concept" || (kind === "expertise-words" && covered.value >= COVERAGE.expertiseWords * 0.5)) {
    return what === "goal"
      ? `Expertise in ${entry} matches your goal: ${item.text}`
      : `Expertise in ${entry} addresses your challenge: ${item.text}`;
  }
  return undefined;
}

function coversAny(coach: PreparedCoach, topics: readonly TopicId[]): TopicId | undefined {
  for (const topic of topics) if (coach.expertiseTopics.has(topic)) return topic;
  for (const topic of topics) if (coach.bioTopics.has(topic)) return topic;
  return undefined;
}

const STAGE_TOPICS: Record<Quiz["relocation_stage"], TopicId[]> = {
  planning: ["relocation", "cultural_adaptation"],
  recently_arrived: ["culture_shock", "cultural_adaptation", "social"],
  settled: ["social", "career", "identity"],
  returning_home: ["repatriation", "identity"],
};

const STAGE_WORDS: Record<Quiz["relocation_stage"], string> = {
  planning: "planning a move",
  recently_arrived: "the first months after arriving",
  settled: "building a settled life",
  returning_home: "returning home",
};

const CAREER_TOPICS: Record<Quiz["career_level"], TopicId[]> = {
  student: ["education"],
  early_career: ["career", "business_culture"],
  mid_career: ["career", "business_culture", "leadership"],
  senior: ["leadership", "business_culture"],
  executive: ["leadership", "business_culture"],
};

const CAREER_WORDS: Record<Quiz["career_level"], string> = {
  student: "students",
  early_career: "early-career professionals",
  mid_career: "mid-career professionals",
  senior: "senior professionals",
  executive: "executives",
};

function familyTopics(status: Quiz["family_status"]): TopicId[] | undefined {
  switch (status) {
    case "married_with_children":
    case "single_parent":
      return ["family"];
    case "partnered":
    case "married":
      return ["family", "relationships"];
    case "single":
      return ["social"];
    default:
      return undefined; // "other": no information, neutral
  }
}

function styleScore(wanted: string, found: ReadonlySet<string>): number {
  if (found.has(wanted)) return 1;
  return found.size === 0 ? 0.4 : 0;
}

function budgetScore(rate: number, max: number): number {
  if (rate <= max) return 1;
  const over = (rate - max) / max;
  return Math.max(0, 1 - ((1 - BUDGET_EDGE_SCORE) * over) / BUDGET_TOLERANCE);
}

/** True when the coach is more than BUDGET_TOLERANCE over the client's max (hard filter). */
export function overBudget(rate: number, max: number): boolean {
  return rate > max * (1 + BUDGET_TOLERANCE) + 1e-9;
}

const CURRENCY_SYMBOLS: Record<string, string> = { USD: "$", EUR: "€", GBP: "£", AUD: "A$", CAD: "C$", JPY: "¥" };

export function formatRate(rate: number, currency: string): string {
  const amount = Number.isInteger(rate) ? String(rate) : rate.toFixed(2);
  const symbol = CURRENCY_SYMBOLS[currency.toUpperCase()];
  return symbol ? `${symbol}${amount}/h` : `${amount} ${currency.toUpperCase()}/h`;
}

const TIME_WORDS: Record<PreferredTime, string> = {
  morning: "mornings",
  afternoon: "afternoons",
  evening: "evenings",
  weekend: "weekends",
};

function coachSlots(client: PreparedClient, coach: PreparedCoach): number[] {
  let coachOffset = client.offsetCache.get(coach.availability.timezone);
  if (coachOffset === undefined) {
    coachOffset = zoneOffsetMinutes(coach.availability.timezone, client.now);
    client.offsetCache.set(coach.availability.timezone, coachOffset);
  }
  const shift = client.offsetMinutes - coachOffset;
  const key = `${shift}:${client.quiz.preferred_session_duration}`;
  let counts = coach.slotCache.get(key);
  if (!counts) {
    counts = slotCounts(coach.availability, shift, client.quiz.preferred_session_duration);
    coach.slotCache.set(key, counts);
  }
  return counts;
}

interface Reason {
  text: string;
  strength: number;
}

/** Scores one coach for one client, with its reasons. Undefined when a hard filter excludes the coach. */
export function scoreCoach(client: PreparedClient, coach: PreparedCoach, semantic?: SemanticScores): RankedMatch | undefined {
  return evaluate(client, coach, semantic, true);
}

/**
 * The scoring itself. Reasons are text work (~40 % of the time): ranking
 * evaluates every candidate without them, then only the returned top again.
 */
function evaluate(
  client: PreparedClient,
  coach: PreparedCoach,
  semantic: SemanticScores | undefined,
  explain: boolean,
): RankedMatch | undefined {
  const { quiz } = client;
  const rate = coach.coach.hourlyRate;
  if (rate === null || !Number.isFinite(rate)) return undefined;
  if (overBudget(rate, quiz.budget_range.max)) return undefined;

  const parts = {} as Record<WeightedPart, number>;
  const reasons: Reason[] = [];
  const reason = (part: WeightedPart | "place", text: string, value: number, weight?: number) => {
    reasons.push({ text, strength: value * (weight ?? (part === "place" ? WEIGHTS.place : WEIGHTS[part])) });
  };

  // 3 preferred_languages: tier + share.
  const sharedLanguages = client.preferredLanguages.filter((_language, index) =>
    coach.languages.has(client.preferredNormalized[index]!),
  );
  parts.preferred_languages = sharedLanguages.length / client.preferredLanguages.length;
  if (explain && sharedLanguages.length > 0)
    reason("preferred_languages", `Speaks ${joinList(sharedLanguages)}`, parts.preferred_languages + 1);

  // 8 budget_range.
  parts.budget_range = budgetScore(rate, quiz.budget_range.max);
  if (explain && rate <= quiz.budget_range.max)
    // Strength 1.4 x its weight: a price the client can pay is named before the availability
    // detail when all five places are taken (it is the question every client asks first).
    reason("budget_range", `Within your budget (${formatRate(rate, coach.coach.currency)})`, 1.4);

  // 2 cultural_goals, 10 specific_challenges.
  const goals = coverage(client.goals, coach);
  const challenges = coverage(client.challenges, coach);
  const lexicalShare = semantic ? LEXICAL_SHARE_WITH_SEMANTIC : 1;
  parts.cultural_goals = lexicalShare * goals.value + (semantic ? (1 - lexicalShare) * clamp01(semantic.goals) : 0);
  parts.specific_challenges =
    lexicalShare * challenges.value + (semantic ? (1 - lexicalShare) * clamp01(semantic.challenges) : 0);
  if (explain) {
    // One reason per part: the first item with a nameable overlap, strength = the part's share of it.
    for (const [part, result, what] of [
      ["cultural_goals", goals, "goal"],
      ["specific_challenges", challenges, "challenge"],
    ] as const) {
      for (const covered of result.covered) {
        const text = coverageReason(covered, what);
        if (text) {
          reason(part, text, covered.value);
          break;
        }
      }
    }
  }

  // 1, 11, 12 countries, split by 13 relocation_stage.
  const place = PLACE_WEIGHTS[quiz.relocation_stage];
  const sharedTargets: string[] = [];
  for (const [normalized] of client.targets) {
    const coachSpelling = coach.countries.get(normalized);
    if (coachSpelling !== undefined) sharedTargets.push(coachSpelling);
  }
  const targetValue = sharedTargets.length === 0 ? 0 : 0.6 + (0.4 * sharedTargets.length) / client.targets.size;
  const currentValue = coach.countries.has(client.current) ? 1 : 0;
  const homeValue = coach.countries.has(client.home) ? 1 : 0;
  parts.place = (place.target * targetValue + place.current * currentValue + place.home * homeValue) / WEIGHTS.place;
  if (explain && sharedTargets.length > 0)
    reason("place", `Has lived and coached in ${joinList(sharedTargets)}`, targetValue, place.target + 1);
  if (explain && currentValue > 0 && !client.targets.has(client.current)) {
    reason("place", `Knows ${coach.countries.get(client.current)}, where you live now`, 1, place.current);
  }
  if (explain && homeValue > 0 && client.home !== client.current && !client.targets.has(client.home)) {
    const country = coach.countries.get(client.home);
    reason(
      "place",
      quiz.relocation_stage === "returning_home"
        ? `Knows ${country}, where you are returning`
        : `Knows your home country, ${country}`,
      1,
      place.home,
    );
  }

  const stageTopic = coversAny(coach, STAGE_TOPICS[quiz.relocation_stage]);
  parts.relocation_stage = stageTopic ? 1 : 0;
  if (explain && stageTopic)
    reason("relocation_stage", `Covers ${TOPICS[stageTopic].label}, which fits ${STAGE_WORDS[quiz.relocation_stage]}`, 1);

  // 4 industry.
  parts.industry = client.industryPhrases.some((phrase) => coachSays(coach, phrase)) ? 1 : 0;
  if (explain && parts.industry > 0) reason("industry", `Knows the ${humanize(quiz.industry)} sector`, 1);

  // 5 family_status.
  const wantedFamilyTopics = familyTopics(quiz.family_status);
  if (wantedFamilyTopics) {
    const topic = coversAny(coach, wantedFamilyTopics);
    parts.family_status = topic ? 1 : 0;
    if (explain && topic) {
      const text =
        topic === "family"
          ? "Supports relocating families"
          : topic === "relationships"
            ? "Works with couples and intercultural relationships"
            : "Helps build a social life abroad";
      reason("family_status", text, 1);
    }
  } else {
    parts.family_status = 0.5;
  }

  // 6 previous_expat_experience.
  if (!quiz.previous_expat_experience) {
    const topic = coversAny(coach, ["culture_shock", "cultural_adaptation", "relocation"]);
    parts.previous_expat_experience = topic ? 1 : 0;
    if (explain && topic) reason("previous_expat_experience", `Guides first-time expats (${TOPICS[topic].label})`, 1);
  } else {
    const broad = coach.coach.countries.length >= 3;
    const topic = coversAny(coach, ["identity", "leadership", "career"]);
    parts.previous_expat_experience = broad || topic ? 1 : 0;
    if (explain && broad)
      reason("previous_expat_experience", `Has lived and worked in ${coach.coach.countries.length} countries`, 1);
  }

  // 14 career_level.
  const careerTopic = coversAny(coach, CAREER_TOPICS[quiz.career_level]);
  parts.career_level = careerTopic ? 1 : 0;
  if (explain && careerTopic)
    reason("career_level", `Coaches ${CAREER_WORDS[quiz.career_level]} (${TOPICS[careerTopic].label})`, 1);

  // 9 coaching_style, 15 communication_style.
  parts.coaching_style = styleScore(quiz.coaching_style, coach.coachingStyles);
  if (explain && parts.coaching_style === 1) reason("coaching_style", `Works in a ${quiz.coaching_style} way, as you prefer`, 1);
  parts.communication_style = styleScore(quiz.communication_style, coach.communicationStyles);
  if (explain && parts.communication_style === 1) {
    const how =
      quiz.communication_style === "direct"
        ? "directly"
        : quiz.communication_style === "indirect"
          ? "tactfully and indirectly"
          : "in a balanced, adaptable way";
    reason("communication_style", `Communicates ${how}, as you prefer`, 1);
  }

  // 20 languages_learning.
  const learning = client.learningLanguages.filter((_language, index) => coach.languages.has(client.learningNormalized[index]!));
  parts.languages_learning = learning.length > 0 ? 1 : 0;
  if (explain && learning.length > 0)
    reason("languages_learning", `Also speaks ${joinList(learning)}, which you are learning`, 1);

  // 18 preferred_times (in 19 timezone), 16 duration, 17 frequency, 7 urgency.
  const counts = coachSlots(client, coach);
  const slots = preferredSlots(counts, quiz.preferred_times);
  parts.preferred_times = Math.min(1, slots / SLOTS_FOR_FULL_TIME_FIT);
  parts.session_frequency = Math.min(1, slots / SLOTS_NEEDED_BY_FREQUENCY[quiz.session_frequency]);
  parts.timeline_urgency = Math.min(1, slots / slotsNeededForUrgency(quiz.timeline_urgency));
  parts.preferred_session_duration = Math.min(1, coach.availability.longestWindow / quiz.preferred_session_duration);
  if (explain && slots > 0) {
    // Name only the preferred times in which the coach really has a slot.
    const open = quiz.preferred_times.filter((time) => preferredSlots(counts, [time]) > 0);
    const times = joinList(open.map((time) => TIME_WORDS[time]));
    reason(
      "preferred_times",
      `Free in your ${times} (${zoneLabel(quiz.timezone)} time): ${slots} ${quiz.preferred_session_duration}-minute ${slots === 1 ? "slot" : "slots"} a week`,
      parts.preferred_times,
    );
  }

  // Quality priors.
  // rating 0 means "no reviews yet" (a review is 1-5): a new coach is neither rewarded nor punished for it.
  parts.rating = coach.coach.rating > 0 ? clamp01(coach.coach.rating / 5) : UNRATED_SCORE;
  parts.total_sessions = Math.min(1, Math.log10(1 + Math.max(0, coach.coach.totalSessions)) / 2);
  parts.is_verified = coach.coach.isVerified ? 1 : 0;
  if (explain && coach.coach.rating >= 4.5 && coach.coach.totalSessions > 0) {
    reason("rating", `Rated ${coach.coach.rating.toFixed(1)}/5 over ${coach.coach.totalSessions} sessions`, 1);
  }
  if (explain && coach.coach.isVerified) reason("is_verified", "Verified coach", 1);

  let total = 0;
  for (const part of WEIGHTED_PARTS) total += WEIGHTS[part] * (parts[part] ?? 0);
  const matchScore = Math.max(0, Math.min(100, Math.round(total)));

  return {
    coachId: coach.coach.id,
    matchScore,
    confidence: confidenceOf(matchScore),
    reasons: explain ? pickReasons(reasons, coach.coach) : [],
    languageTier: sharedLanguages.length > 0 ? 0 : 1,
    parts,
  };
}

function pickReasons(reasons: Reason[], coach: MatchCoach): string[] {
  // Stable: equal strengths keep the order in which the factors were scored.
  const ordered = reasons
    .map((entry, index) => ({ ...entry, index }))
    .sort((a, b) => b.strength - a.strength || a.index - b.index);
  const picked = ordered.slice(0, MAX_REASONS).map((entry) => entry.text);
  if (picked.length === 0) {
    // Never an empty list: name the one concrete thing every ranked coach has.
    picked.push(
      coach.rating > 0
        ? `Rated ${coach.rating.toFixed(1)}/5`
        : `Offers sessions at ${formatRate(coach.hourlyRate ?? 0, coach.currency)}`,
    );
  }
  return picked;
}

export function confidenceOf(score: number): Confidence {
  if (score >= CONFIDENCE_BANDS.high) return "high";
  if (score >= CONFIDENCE_BANDS.medium) return "medium";
  return "low";
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.max(0, Math.min(1, value)) : 0;
}

type Sortable = RankedMatch & { rating: number; totalSessions: number };

/** The total order of ranked matches (see the file comment): score first, so the list is in descending match_score. */
export function compareMatches(a: Sortable, b: Sortable): number {
  return (
    b.matchScore - a.matchScore ||
    a.languageTier - b.languageTier ||
    b.rating - a.rating ||
    b.totalSessions - a.totalSessions ||
    (a.coachId < b.coachId ? -1 : a.coachId > b.coachId ? 1 : 0)
  );
}

/**
 * The language guarantee through the score: a coach sharing no preferred language scores at
 * most the lowest score of the coaches who share one (equal scores: the sharing coach first).
 * Depends only on the other coaches' scores, never lowers a sharing coach, and keeps the
 * filler's own score when it is already lower.
 */
export function foldLanguageTier<T extends RankedMatch>(matches: T[]): T[] {
  let floor = Number.POSITIVE_INFINITY;
  for (const match of matches) if (match.languageTier === 0) floor = Math.min(floor, match.matchScore);
  if (!Number.isFinite(floor)) return matches;
  return matches.map((match) =>
    match.languageTier === 1 && match.matchScore > floor
      ? { ...match, matchScore: floor, confidence: confidenceOf(floor) }
      : match,
  );
}

/** Ranks prepared coaches for a prepared client; reasons are written for the first `explainTop` (default: all). */
export function rankPrepared(
  client: PreparedClient,
  coaches: readonly PreparedCoach[],
  semantic?: ReadonlyMap<string, SemanticScores>,
  explainTop = Number.POSITIVE_INFINITY,
): RankedMatch[] {
  const scored: Array<Sortable & { prepared: PreparedCoach }> = [];
  for (const coach of coaches) {
    const match = evaluate(client, coach, semantic?.get(coach.coach.id), false);
    if (match) scored.push({ ...match, rating: coach.coach.rating, totalSessions: coach.coach.totalSessions, prepared: coach });
  }
  const folded = foldLanguageTier(scored);
  folded.sort(compareMatches);
  return folded.map(({ rating: _rating, totalSessions: _sessions, prepared, ...match }, index) =>
    index < explainTop
      ? { ...match, reasons: evaluate(client, prepared, semantic?.get(prepared.coach.id), true)!.reasons }
      : match,
  );
}

/** The engine's entry point: quiz + candidates -> ranked matches (all of them; the caller slices). */
export function rankCoaches(quiz: Quiz, coaches: readonly MatchCoach[], options: RankOptions): RankedMatch[] {
  return rankPrepared(prepareClient(quiz, options.now), coaches.map(prepareCoach), options.semantic, options.explainTop);
}
