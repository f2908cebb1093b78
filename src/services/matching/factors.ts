/**
 * THE factor table: the part each of the 20 quiz factors plays in matching
 * (contract: "every one of the 20 factors plays a documented part"), plus the
 * coach-quality priors. docs/MATCHING.md reproduces it; a unit test checks
 * that both list every quiz factor and that the weights add up to 100.
 *
 * Roles:
 * - hard filter:  the coach is not returned at all;
 * - ranking tier: v2, through the score: a coach sharing no preferred language
 *                 scores at most the lowest score of those who share one
 *                 (engine.ts foldLanguageTier), and comes after them on a tie;
 * - weighted:     a sub-score in [0, 1] times the weight, summed to 0-100;
 * - tie-break:    orders coaches with equal integer scores.
 */
import type { RELOCATION_STAGES } from "../../lib/quiz.ts";

export type FactorRole = "hard filter" | "ranking tier" | "weighted" | "tie-break";

export interface FactorSpec {
  /** Quiz factor number (contract table), null for coach-quality priors. */
  quiz: number | null;
  factor: string;
  roles: readonly FactorRole[];
  /** Points out of 100 (a range where another factor redistributes them). */
  weight: string;
  /** What it is compared with, and how the sub-score moves. */
  rule: string;
}

/**
 * Weights of the weighted parts (points out of 100; they sum to 100). v2 (issue 17): evidence
 * that is hard to fake weighs most — the target country lived in (place), the client's goal
 * and challenge concepts in the coach's structured expertise, bookable hours in the client's
 * preferred times — and free text counts less than structured fields.
 */
export const WEIGHTS = {
  preferred_languages: 10,
  budget_range: 8,
  cultural_goals: 14,
  specific_challenges: 12,
  /** target_countries + current_country + home_country, split by relocation_stage (PLACE_WEIGHTS). */
  place: 22,
  relocation_stage: 3,
  industry: 2,
  family_status: 2,
  previous_expat_experience: 1,
  career_level: 2,
  coaching_style: 2,
  communication_style: 1,
  languages_learning: 1,
  preferred_times: 10,
  preferred_session_duration: 1,
  session_frequency: 2,
  timeline_urgency: 2,
  rating: 3,
  total_sessions: 1,
  is_verified: 1,
} as const;

export type WeightedPart = keyof typeof WEIGHTS;

type RelocationStage = (typeof RELOCATION_STAGES)[number];

/** How the 22 "place" points are split between target, current and home country, by relocation stage. */
export const PLACE_WEIGHTS: Record<RelocationStage, { target: number; current: number; home: number }> = {
  planning: { target: 18, current: 2, home: 2 },
  recently_arrived: { target: 12, current: 8, home: 2 },
  settled: { target: 8, current: 12, home: 2 },
  returning_home: { target: 4, current: 4, home: 14 },
};

/** Over budget_range.max by more than this share: hard filter (never outranks a coach within budget). */
export const BUDGET_TOLERANCE = 0.2;

/** Sub-score of a coach priced exactly at max * (1 + BUDGET_TOLERANCE); linear from 1 at max. */
export const BUDGET_EDGE_SCORE = 0.25;

/**
 * Goal/challenge coverage by kind of evidence (saturating: each client item counts once,
 * however often a coach repeats its words). A concept named in the structured expertise is
 * full evidence; the same concept only in the free-text bio is a claim anyone can write.
 */
export const COVERAGE = {
  /** the item's concept (taxonomy topic) in an expertise entry */
  expertiseConcept: 1,
  /** the item's concept only in the bio */
  bioConcept: 0.4,
  /** no concept known for the item: shared content words with one expertise entry, x share of the item's words */
  expertiseWords: 0.8,
  /** the same with the bio, x share */
  bioWords: 0.3,
  /** word overlap when the item HAS a concept the coach does not cover: weak (the words may mean something else) */
  offConceptWords: 0.25,
} as const;

/** Bookable sessions a week (in the client's preferred times) that make a part full. */
export const SLOTS_FOR_FULL_TIME_FIT = 4;
export const SLOTS_NEEDED_BY_FREQUENCY = { weekly: 8, biweekly: 5, monthly: 3, ad_hoc: 5 } as const;
/** timeline_urgency u needs 2u + 2 slots a week: 4 at u = 1, 12 at u = 5. */
export const slotsNeededForUrgency = (urgency: number) => 2 * urgency + 2;

/** Rating sub-score of a coach with no reviews yet (rating 0 means "no reviews", never "rated 0"). */
export const UNRATED_SCORE = 0.8;

export const CONFIDENCE_BANDS = { high: 75, medium: 60 } as const;

/** Maximum number of reasons per match (contract: 1-5). */
export const MAX_REASONS = 5;

export const FACTOR_TABLE: readonly FactorSpec[] = [
  {
    quiz: 3,
    factor: "preferred_languages",
    roles: ["ranking tier", "weighted", "tie-break"],
    weight: "10",
    rule: "Sub-score: share of the preferred languages the coach speaks. Tier through the score: a coach sharing none scores at most the lowest score of the coaches who share one, and on equal scores the sharing coach comes first.",
  },
  {
    quiz: 8,
    factor: "budget_range",
    roles: ["hard filter", "weighted"],
    weight: "8",
    rule: "hourly_rate <= max: 1 (cheaper than min is fine); up to 20 % over max: linear 1 -> 0.25; more than 20 % over: excluded, so it never outranks a coach within budget. No FX conversion: rate and budget compared as numbers.",
  },
  {
    quiz: 2,
    factor: "cultural_goals",
    roles: ["weighted"],
    weight: "14",
    rule: "Mean over goals of the strongest evidence (each goal counts once, repetition adds nothing): the goal's concept (taxonomy topic) in an expertise entry 1; only in the bio 0.4; goal with no known concept: shared words with one expertise entry 0.8 x share, with the bio 0.3 x share; a goal with a known concept the coach lacks: shared words 0.25 x share. With Workers AI: 0.6 x that + 0.4 x embedding similarity with the expertise.",
  },
  {
    quiz: 10,
    factor: "specific_challenges",
    roles: ["weighted"],
    weight: "12",
    rule: "Same evidence scale as cultural_goals, over the challenges.",
  },
  {
    quiz: 1,
    factor: "target_countries",
    roles: ["weighted"],
    weight: "4-18 (by relocation_stage)",
    rule: "Coach countries vs target countries (aliases folded): any shared 0.6 + 0.4 x share covered. The heaviest single factor while planning a move (18).",
  },
  {
    quiz: 12,
    factor: "current_country",
    roles: ["weighted"],
    weight: "2-12 (by relocation_stage)",
    rule: "1 when the coach's countries include the current country.",
  },
  {
    quiz: 11,
    factor: "home_country",
    roles: ["weighted"],
    weight: "2-14 (by relocation_stage)",
    rule: "1 when the coach's countries include the home country (weighs most when returning home).",
  },
  {
    quiz: 13,
    factor: "relocation_stage",
    roles: ["weighted"],
    weight: "3 (+ splits the 22 place points)",
    rule: "Splits the place points (planning: target 18/current 2/home 2; recently_arrived 12/8/2; settled 8/12/2; returning_home 4/4/14) and scores 1 when the coach covers the stage's topics (planning: relocation logistics, cultural adaptation; recently_arrived: culture shock, cultural adaptation, social life; settled: social life, career, identity; returning_home: repatriation, identity).",
  },
  {
    quiz: 4,
    factor: "industry",
    roles: ["weighted"],
    weight: "2",
    rule: "1 when the coach's expertise or bio names the client's industry or a synonym of it (technology = tech, software ...).",
  },
  {
    quiz: 5,
    factor: "family_status",
    roles: ["weighted"],
    weight: "2",
    rule: "With children: family relocation topic; partnered/married: family or intercultural-relationship topic; single: social-life topic; other: neutral 0.5 for every coach.",
  },
  {
    quiz: 6,
    factor: "previous_expat_experience",
    roles: ["weighted"],
    weight: "1",
    rule: "First-timers (false): 1 for coaches covering culture shock, cultural adaptation or relocation logistics. Experienced (true): 1 for coaches with >= 3 countries or identity/leadership/career topics.",
  },
  {
    quiz: 14,
    factor: "career_level",
    roles: ["weighted"],
    weight: "2",
    rule: "1 when the coach covers the level's topics (student: study abroad; early/mid career: career development, business culture; senior/executive: leadership, business culture).",
  },
  {
    quiz: 9,
    factor: "coaching_style",
    roles: ["weighted"],
    weight: "2",
    rule: "Style vocabulary in bio/expertise: the preferred style 1; no style named 0.4; only other styles 0.",
  },
  {
    quiz: 15,
    factor: "communication_style",
    roles: ["weighted"],
    weight: "1",
    rule: "Same scheme as coaching_style with direct / indirect / mixed vocabulary.",
  },
  {
    quiz: 20,
    factor: "languages_learning",
    roles: ["weighted"],
    weight: "1",
    rule: "1 when the coach also speaks a language the client is learning (empty list: 0 for every coach, no effect on the order).",
  },
  {
    quiz: 18,
    factor: "preferred_times",
    roles: ["weighted"],
    weight: "10",
    rule: "Bookable sessions a week whose start falls in the preferred buckets (morning 06-12, afternoon 12-17, evening 17-22, weekend Sat/Sun 08-20, client-local): min(1, slots / 4). A coach free only at night in the client's zone scores 0 here and on frequency and urgency (14 points).",
  },
  {
    quiz: 19,
    factor: "timezone",
    roles: ["weighted"],
    weight: "through preferred_times, session_frequency, timeline_urgency (14)",
    rule: "The coach's windows are converted from the coach's zone into this zone (offsets at request time) before any slot is put into a bucket.",
  },
  {
    quiz: 16,
    factor: "preferred_session_duration",
    roles: ["weighted"],
    weight: "1",
    rule: "Slots are cut at this length (a 90-minute session needs a 90-minute window); sub-score min(1, longest window / duration).",
  },
  {
    quiz: 17,
    factor: "session_frequency",
    roles: ["weighted"],
    weight: "2",
    rule: "min(1, preferred-time slots / need), need: weekly 8, biweekly 5, ad_hoc 5, monthly 3.",
  },
  {
    quiz: 7,
    factor: "timeline_urgency",
    roles: ["weighted"],
    weight: "2",
    rule: "min(1, preferred-time slots / (2 x urgency + 2)): the more urgent, the more open slots a coach needs to score full.",
  },
  {
    quiz: null,
    factor: "rating, total_sessions, is_verified (coach-quality priors)",
    roles: ["weighted", "tie-break"],
    weight: "3 + 1 + 1",
    rule: "rating / 5, no reviews yet (rating 0) 0.8 (neutral: a new coach is not punished); min(1, log10(1 + sessions) / 2) (100 sessions = full); verified 1. Equal integer scores: shares a language first, then rating desc, total_sessions desc, coach profile id.",
  },
];
