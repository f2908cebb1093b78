/**
 * Offline evaluation of the matching engine (npm run eval:matching), v2 (issue 17).
 *
 * An adversarial market, generated from a seeded PRNG (the same figures on every run) and
 * deliberately unlike the demo data (drizzle/seed.ts: other countries, vocabulary, zones,
 * rates and bios). PERSONAS client personas, each with explicit needs — preferred
 * language(s), a target country with a coherent current/home country for the relocation
 * stage, one or two goals and challenges (a concept each, worded as a client would; a quarter
 * as raw form tokens such as "career_transition"), a budget, preferred times in their own
 * zone — and, planted for each of them:
 * - the IDEAL coach: meets every need, the goals and challenges PARAPHRASED (coach wording,
 *   never the client's words), lived in the target country, modest rating;
 * - decoys that must never rank above the ideal coach, each better on the coach-quality
 *   priors (rating 4.7-5, hundreds of sessions, verified):
 *   - `keyword_stuffer` (x2): bio repeats the client's goal and challenge words verbatim,
 *     expertise on another topic, never lived in the target country;
 *   - `paraphrased_twin`: the ideal's concepts in yet other words, but no experience of the
 *     target country (a paraphrase of the ideal minus the decisive evidence);
 *   - `night_only`: the ideal's profile, free only 00:00-05:00 in the client's zone;
 *   - `over_budget`: the ideal's profile at 1.3-2x the budget max;
 *   - `no_shared_language`: the ideal's profile in none of the client's languages;
 * - a NEW coach (0 sessions, no reviews, not verified) who fits as well as the ideal but
 *   for the coaching style: it must be in the top 3.
 * BACKGROUND random coaches complete the market (every persona's planted coaches are
 * background for the others). The engine ranks the whole market for each persona (the
 * SQL prefilter's 300-row cap is measured by the benchmark, not here), lexically.
 *
 * Metrics: hit@1 / hit@3 of the ideal coach; NDCG@10 with graded relevance from the
 * generator's ground truth (0 when a hard need fails — no shared language or > 20 % over
 * budget — else one point each for target country lived in, goal concept in expertise,
 * challenge concept in expertise, >= 2 bookable sessions in the preferred times; the ideal 5;
 * gain 2^rel - 1); decoys above the ideal per kind; the new coach's rank; order and guarantee
 * violations; and a reason audit of every reason in every top 10, checked against the
 * generator's truth (independently of the engine): raw tokens, a goal/challenge paired with
 * expertise of another concept, availability overclaims (a named time without a slot, or
 * more slots than there are), and false language/country/price claims.
 *
 * Usage: npm run eval:matching [-- --personas 60 --background 400 --seed 1 --holdout]
 */
import { type Quiz, quizSchema } from "../src/lib/quiz.ts";
import { type MatchCoach, prepareClient, prepareCoach, type RankedMatch, rankPrepared } from "../src/services/matching/engine.ts";

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const PERSONAS = argument("personas", 60);
const BACKGROUND = argument("background", 400);
const SEED = argument("seed", 1);
const NOW = new Date("2026-05-12T09:00:00Z"); // summer time in the northern zones

function mulberry32(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
function pickSome<T>(list: readonly T[], count: number): T[] {
  const copy = [...list];
  const out: T[] = [];
  while (out.length < count && copy.length > 0) out.push(copy.splice(Math.floor(random() * copy.length), 1)[0]!);
  return out;
}
function weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): T {
  const total = pairs.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [value, weight] of pairs) {
    roll -= weight;
    if (roll <= 0) return value;
  }
  return pairs[pairs.length - 1]![0];
}
const between = (low: number, high: number) => low + random() * (high - low);
const unique = <T>(list: readonly T[]) => [...new Set(list)];

const LANGUAGES: ReadonlyArray<readonly [string, number]> = [
  ["English", 40],
  ["Spanish", 12],
  ["French", 9],
  ["German", 7],
  ["Turkish", 4],
  ["Arabic", 5],
  ["Portuguese", 5],
  ["Polish", 3],
  ["Japanese", 3],
  ["Russian", 3],
  ["Hindi", 2],
  ["Vietnamese", 2],
  ["Greek", 2],
  ["Indonesian", 2],
];
const COUNTRIES = [
  "Turkey",
  "Poland",
  "Vietnam",
  "Greece",
  "Chile",
  "Colombia",
  "Morocco",
  "Egypt",
  "Norway",
  "Denmark",
  "Finland",
  "Austria",
  "Belgium",
  "New Zealand",
  "Indonesia",
  "Malaysia",
  "Philippines",
  "Peru",
  "Czech Republic",
  "Hungary",
  "Qatar",
  "Saudi Arabia",
  "Israel",
  "Ghana",
  "Ethiopia",
  "Uruguay",
  "Taiwan",
  "Luxembourg",
];
const ZONES = [
  "Europe/Istanbul",
  "Europe/Warsaw",
  "Asia/Ho_Chi_Minh",
  "America/Santiago",
  "America/Bogota",
  "Africa/Casablanca",
  "Europe/Oslo",
  "Pacific/Auckland",
  "Asia/Jakarta",
  "America/Chicago",
  "America/Denver",
  "Asia/Riyadh",
  "Asia/Taipei",
  "Africa/Accra",
];

/**
 * Concepts as the generator knows them: how clients say it (free text and raw form tokens),
 * how coaches write it (paraphrases: no content word of the client phrasings on purpose).
 */
const CONCEPTS = {
  adaptation: {
    client: ["understand how things work here", "feel at home in a foreign country", "adjust to the local way of life"],
    token: "cultural_integration",
    coach: ["Cultural integration", "Intercultural competence", "Acculturation coaching", "Navigating unfamiliar cultural norms"],
  },
  shock: {
    client: ["stop feeling so lonely", "cope with homesickness", "get through the first hard months"],
    token: "culture_shock",
    coach: [
      "Culture shock recovery",
      "Isolation and adjustment support",
      "Transition blues after a move",
      "Overcoming expat isolation",
    ],
  },
  career: {
    client: ["restart my career", "land a job in my field", "get my qualifications recognised"],
    token: "career_transition",
    coach: [
      "Career transition",
      "Job search strategy for newcomers",
      "Employability and interview preparation",
      "Professional reinvention",
    ],
  },
  leadership: {
    client: ["lead a team from several countries", "manage people with different values", "become a better manager abroad"],
    token: "global_leadership",
    coach: ["Global leadership", "Leading multicultural teams", "Executive coaching", "Cross-border team management"],
  },
  family: {
    client: ["help my kids settle into school", "support my partner who followed me", "keep the family happy during the move"],
    token: "family_relocation",
    coach: ["Family relocation", "Expat families and schooling", "Trailing spouse support", "Parenting across cultures"],
  },
  repatriation: {
    client: ["go back home after many years away", "handle reverse culture shock", "readjust to my home country"],
    token: "repatriation",
    coach: ["Repatriation coaching", "Re-entry after life abroad", "Returning home transitions", "Homecoming support"],
  },
  language: {
    client: [
      "overcome the language barrier",
      "speak the local language with confidence",
      "stop freezing up when I speak the language",
    ],
    token: "language_barrier",
    coach: ["Language learning strategies", "Fluency and speaking practice", "Conversation confidence in a second language"],
  },
  wellbeing: {
    client: ["manage the stress of moving", "avoid burning out", "stay emotionally balanced"],
    token: "stress_management",
    coach: ["Resilience and wellbeing", "Burnout prevention", "Mindfulness for expats", "Anxiety and self-care coaching"],
  },
  social: {
    client: ["make friends", "build a social circle", "meet people outside work"],
    token: "social_life",
    coach: ["Building a social network", "Community and belonging", "Friendship building after a move"],
  },
  business: {
    client: ["understand business etiquette", "speak up in meetings", "negotiate with local clients"],
    token: "business_etiquette",
    coach: ["Business culture and etiquette", "Cross-cultural negotiation", "Workplace norms and office politics"],
  },
  bureaucracy: {
    client: ["deal with visas and paperwork", "sort out residence permits", "handle the red tape"],
    token: "relocation_logistics",
    coach: ["Relocation logistics", "Immigration admin and permits", "Housing and registration guidance"],
  },
  identity: {
    client: ["figure out where I belong", "make sense of my mixed background", "make peace with having no single home"],
    token: "cultural_identity",
    coach: ["Third culture identity", "Bicultural identity work", "Multicultural identity coaching"],
  },
} as const;
type Concept = keyof typeof CONCEPTS;
/**
 * A second vocabulary for the same concepts (`--holdout`), written after the taxonomy was
 * extended and never used to tune it: how much of the result is vocabulary overlap between
 * this generator and the taxonomy (both written by the same hand) rather than the method.
 */
const HOLDOUT: Record<keyof typeof CONCEPTS, { client: readonly string[]; coach: readonly string[] }> = {
  adaptation: {
    client: ["get used to the customs", "stop feeling like an outsider"],
    coach: ["Cultural onboarding for newcomers", "Decoding local customs"],
  },
  shock: {
    client: ["I feel isolated since the move", "deal with feeling out of place"],
    coach: ["Emotional transition after relocation", "Support through the loneliness of a move"],
  },
  career: {
    client: ["find work that matches my experience", "re-enter the job market"],
    coach: ["Career coaching for internationals", "CV and interview coaching"],
  },
  leadership: {
    client: ["run a diverse team well", "grow into a leadership role"],
    coach: ["Leadership development", "Managing international teams"],
  },
  family: {
    client: ["help my children adjust", "balance family life after moving"],
    coach: ["Support for expat parents", "Relocating with children"],
  },
  repatriation: {
    client: ["prepare for moving back", "fit in again at home"],
    coach: ["Reverse culture shock coaching", "Coming home after an assignment"],
  },
  language: {
    client: ["communicate without a translator", "get past the language gap"],
    coach: ["Accent and pronunciation coaching", "Language immersion strategies"],
  },
  wellbeing: {
    client: ["sleep better and worry less", "keep my mental health in check"],
    coach: ["Mental health and resilience", "Stress reduction coaching"],
  },
  social: {
    client: ["stop spending weekends alone", "find my people"],
    coach: ["Social integration and friendships", "Building community abroad"],
  },
  business: {
    client: ["understand how meetings work here", "work better with local colleagues"],
    coach: ["Corporate culture coaching", "Business communication across cultures"],
  },
  bureaucracy: {
    client: ["get my visa sorted", "understand the tax and admin system"],
    coach: ["Visa and paperwork support", "Practical relocation support"],
  },
  identity: {
    client: ["feel whole with two cultures", "understand who I am after years abroad"],
    coach: ["Identity coaching for global nomads", "Third culture kid coaching"],
  },
};
const USE_HOLDOUT = process.argv.includes("--holdout");
const words = (concept: keyof typeof CONCEPTS) => (USE_HOLDOUT ? HOLDOUT[concept] : CONCEPTS[concept]);

const CONCEPT_NAMES = Object.keys(CONCEPTS) as Concept[];

/** Ground truth for the audit: which concept a text (client or coach wording, humanized) belongs to. */
const CONCEPT_OF_TEXT = new Map<string, Concept>();
for (const name of CONCEPT_NAMES) {
  const concept = CONCEPTS[name];
  for (const text of [
    ...concept.client,
    ...concept.coach,
    ...HOLDOUT[name].client,
    ...HOLDOUT[name].coach,
    concept.token,
    concept.token.replace(/_/g, " "),
  ])
    CONCEPT_OF_TEXT.set(text.toLowerCase(), name);
}

const STYLE_WORDS: Record<string, string> = {
  directive: "clear, practical advice and concrete steps",
  collaborative: "a collaborative partnership",
  reflective: "reflective, self-awareness work",
  structured: "a structured roadmap with milestones",
  flexible: "a flexible, tailored approach",
};
const COMMUNICATION_WORDS: Record<string, string> = {
  direct: "candid feedback",
  indirect: "patient, empathetic conversations",
  mixed: "a balanced tone",
};
const INDUSTRIES = ["technology", "finance", "healthcare", "education", "consulting", "energy", "non-profit", "marketing"];

const BUCKETS = ["morning", "afternoon", "evening", "weekend"] as const;
type Bucket = (typeof BUCKETS)[number];
/** Client-local hours where the planted windows go, inside each bucket. */
const BUCKET_HOURS: Record<Bucket, [number, number]> = {
  morning: [8, 11],
  afternoon: [13, 16],
  evening: [18, 21],
  weekend: [10, 13],
};
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

const offsetCache = new Map<string, number>();
/** Minutes east of UTC at NOW (an independent computation from the engine's). */
function offsetMinutes(zone: string): number {
  let value = offsetCache.get(zone);
  if (value === undefined) {
    const local = new Date(NOW.toLocaleString("en-US", { timeZone: zone }));
    const utc = new Date(NOW.toLocaleString("en-US", { timeZone: "UTC" }));
    value = Math.round((local.getTime() - utc.getTime()) / 60_000);
    offsetCache.set(zone, value);
  }
  return value;
}

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

/** Windows given in CLIENT-local minutes of the week, written into the coach's zone (split at coach-local midnight). */
function windowsInCoachZone(coachZone: string, clientZone: string, clientWindows: Array<[number, number]>) {
  const shift = offsetMinutes(coachZone) - offsetMinutes(clientZone);
  const week = 7 * 1440;
  const result: Record<string, string[] | string> = { timezone: coachZone };
  for (const [start, end] of clientWindows) {
    let from = (((start + shift) % week) + week) % week;
    let to = from + (end - start);
    while (from < to) {
      const dayEnd = (Math.floor(from / 1440) + 1) * 1440;
      const pieceEnd = Math.min(to, dayEnd);
      const day = DAYS[Math.floor(from / 1440) % 7]!;
      const list = (result[day] as string[] | undefined) ?? [];
      list.push(`${hhmm(from % 1440)}-${pieceEnd === dayEnd ? "24:00" : hhmm(pieceEnd % 1440)}`);
      result[day] = list;
      from = pieceEnd;
      if (from >= week) {
        from -= week;
        to -= week;
      }
    }
  }
  return result;
}

function bucketWindows(buckets: readonly Bucket[]): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  for (const bucket of buckets) {
    const [start, end] = BUCKET_HOURS[bucket];
    const days = bucket === "weekend" ? [5, 6] : [0, 2, 3];
    for (const day of days) windows.push([day * 1440 + start * 60, day * 1440 + end * 60]);
  }
  return windows;
}

const NIGHT_WINDOWS: Array<[number, number]> = [0, 1, 2, 3, 4].map((day) => [day * 1440, day * 1440 + 5 * 60]);

// ---------------------------------------------------------------------------

interface Truth {
  concepts: Set<Concept>;
}
const truth = new Map<string, Truth>();

let counter = 0;
const nextId = () => `00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`;

function coach(fields: Omit<MatchCoach, "id" | "currency">, concepts: Iterable<Concept>): MatchCoach {
  const value: MatchCoach = { id: nextId(), currency: "USD", ...fields };
  truth.set(value.id, { concepts: new Set(concepts) });
  return value;
}

function randomAvailability(): Record<string, unknown> {
  const result: Record<string, unknown> = { timezone: pick(ZONES) };
  for (const day of pickSome(DAYS, 1 + Math.floor(random() * 5))) {
    const start = 6 + Math.floor(random() * 14);
    result[day] = [`${hhmm(start * 60)}-${hhmm(Math.min(24, start + 1 + Math.floor(random() * 4)) * 60)}`];
  }
  return result;
}

function backgroundCoach(): MatchCoach {
  const concepts = pickSome(CONCEPT_NAMES, 1 + Math.floor(random() * 3));
  return coach(
    {
      bio: `Coaching with ${pick(Object.values(STYLE_WORDS))} and ${pick(Object.values(COMMUNICATION_WORDS))}.${random() < 0.4 ? ` Former ${pick(INDUSTRIES)} professional.` : ""}`,
      expertise: concepts.map((concept) => pick(words(concept).coach)),
      languages: unique([weighted(LANGUAGES), ...(random() < 0.5 ? [weighted(LANGUAGES)] : [])]),
      countries: pickSome(COUNTRIES, 1 + Math.floor(random() * 4)),
      hourlyRate: Math.max(25, Math.min(500, Math.round(Math.exp(Math.log(110) + (random() - 0.5) * 1.6)))),
      availability: randomAvailability(),
      rating: random() < 0.1 ? 0 : Math.round(between(3, 5) * 100) / 100,
      totalSessions: Math.floor(random() * 400),
      isVerified: random() < 0.3,
    },
    concepts,
  );
}

type DecoyKind = "keyword_stuffer" | "paraphrased_twin" | "night_only" | "over_budget" | "no_shared_language";
const DECOY_KINDS: DecoyKind[] = ["keyword_stuffer", "paraphrased_twin", "night_only", "over_budget", "no_shared_language"];

interface Persona {
  quiz: Quiz;
  goalConcepts: Concept[];
  challengeConcepts: Concept[];
  ideal: string;
  newCoach: string;
  decoys: Map<string, DecoyKind>;
}

function persona(): { persona: Persona; planted: MatchCoach[] } {
  const first = weighted(LANGUAGES);
  const second = random() < 0.35 ? weighted(LANGUAGES) : undefined;
  const languages = unique(second ? [first, second] : [first]);
  const target = pick(COUNTRIES);
  const stage = pick(["planning", "recently_arrived", "settled", "returning_home"] as const);
  const elsewhere = () => pick(COUNTRIES.filter((country) => country !== target));
  const home = stage === "returning_home" ? target : elsewhere();
  const current = stage === "planning" ? home : stage === "returning_home" ? elsewhere() : target;
  const concepts = pickSome(CONCEPT_NAMES, 4);
  const goalConcepts = concepts.slice(0, random() < 0.4 ? 2 : 1);
  const challengeConcepts = concepts.slice(2, random() < 0.4 ? 4 : 3);
  const say = (concept: Concept) => (random() < 0.25 ? CONCEPTS[concept].token : pick(words(concept).client));
  const zone = pick(ZONES);
  const buckets = pickSome(BUCKETS, random() < 0.3 ? 2 : 1);
  const max = pick([70, 90, 120, 150, 200, 260]);
  const style = pick(Object.keys(STYLE_WORDS));
  const communication = pick(Object.keys(COMMUNICATION_WORDS));
  const industry = pick(INDUSTRIES);
  const quiz = quizSchema.parse({
    target_countries: [target],
    cultural_goals: goalConcepts.map(say),
    preferred_languages: languages,
    industry,
    family_status: pick(["single", "partnered", "married", "married_with_children", "single_parent", "other"]),
    previous_expat_experience: random() < 0.5,
    timeline_urgency: 1 + Math.floor(random() * 5),
    budget_range: { min: Math.round(max * 0.3), max },
    coaching_style: style,
    specific_challenges: challengeConcepts.map(say),
    home_country: home,
    current_country: current,
    relocation_stage: stage,
    career_level: pick(["student", "early_career", "mid_career", "senior", "executive"]),
    communication_style: communication,
    preferred_session_duration: pick([30, 60, 60, 90]),
    session_frequency: pick(["weekly", "biweekly", "monthly", "ad_hoc"]),
    preferred_times: buckets,
    timezone: zone,
    languages_learning: random() < 0.4 ? [weighted(LANGUAGES)] : [],
  });
  const needed = [...goalConcepts, ...challengeConcepts];
  const placeCountries = unique([target, ...(stage === "planning" || stage === "returning_home" ? [] : [current])]);
  const good = (clientWindows: Array<[number, number]>) => windowsInCoachZone(pick(ZONES), zone, clientWindows);
  const paraphrase = (concept: Concept, avoid: string[] = []) =>
    pick(words(concept).coach.filter((text) => !avoid.includes(text)));
  const idealExpertise = needed.map((concept) => paraphrase(concept));
  const otherLanguages = LANGUAGES.map(([language]) => language).filter(
    (language) => !(languages as readonly string[]).includes(language),
  );
  const stars = () => ({
    rating: Math.round(between(4.7, 5) * 100) / 100,
    totalSessions: 200 + Math.floor(random() * 300),
    isVerified: true,
  });
  const profile = (expertise: readonly string[], countries: readonly string[], extra: Partial<MatchCoach> = {}) =>
    ({
      bio: `I offer ${STYLE_WORDS[style]} with ${COMMUNICATION_WORDS[communication]}. Background in ${industry}.`,
      expertise,
      languages: unique([...languages, ...(random() < 0.5 ? ["English"] : [])]),
      countries,
      hourlyRate: Math.max(25, Math.round(max * between(0.55, 0.95))),
      availability: good(bucketWindows(buckets)),
      rating: Math.round(between(3.8, 4.4) * 100) / 100,
      totalSessions: 15 + Math.floor(random() * 120),
      isVerified: random() < 0.3,
      ...extra,
    }) satisfies Omit<MatchCoach, "id" | "currency">;

  const ideal = coach(profile(idealExpertise, unique([...placeCountries, ...pickSome(COUNTRIES, 1)])), needed);
  const newcomer = coach(
    profile(
      needed.map((concept) => paraphrase(concept)),
      unique([...placeCountries]),
      {
        bio: `I offer sessions with ${COMMUNICATION_WORDS[communication]}. Background in ${industry}.`,
        rating: 0,
        totalSessions: 0,
        isVerified: false,
      },
    ),
    needed,
  );
  const decoys = new Map<string, DecoyKind>();
  const planted: MatchCoach[] = [ideal, newcomer];
  const add = (value: MatchCoach, kind: DecoyKind) => {
    planted.push(value);
    decoys.set(value.id, kind);
  };
  const notPlace = COUNTRIES.filter((country) => !placeCountries.includes(country) && country !== home && country !== current);
  for (let i = 0; i < 2; i++) {
    const words = [...quiz.cultural_goals, ...quiz.specific_challenges];
    const otherConcepts = pickSome(
      CONCEPT_NAMES.filter((concept) => !needed.includes(concept)),
      2,
    );
    add(
      coach(
        profile(
          otherConcepts.map((concept) => paraphrase(concept)),
          pickSome(notPlace, 2),
          {
            bio:
              `${words.join(". ")}. I help clients ${words.join(", ")}. ${words.join("! ")}! ` +
              `${STYLE_WORDS[style]}, ${COMMUNICATION_WORDS[communication]}, ${industry}.`,
            ...stars(),
          },
        ),
        otherConcepts,
      ),
      "keyword_stuffer",
    );
  }
  add(
    coach(
      profile(
        needed.map((concept, index) => paraphrase(concept, [idealExpertise[index]!])),
        pickSome(notPlace, 2),
        stars(),
      ),
      needed,
    ),
    "paraphrased_twin",
  );
  add(
    coach(
      profile(idealExpertise, ideal.countries, {
        availability: windowsInCoachZone(pick(ZONES), zone, NIGHT_WINDOWS),
        ...stars(),
      }),
      needed,
    ),
    "night_only",
  );
  add(
    coach(profile(idealExpertise, ideal.countries, { hourlyRate: Math.round(max * between(1.3, 2)), ...stars() }), needed),
    "over_budget",
  );
  add(
    coach(profile(idealExpertise, ideal.countries, { languages: pickSome(otherLanguages, 2), ...stars() }), needed),
    "no_shared_language",
  );
  return {
    persona: { quiz, goalConcepts, challengeConcepts, ideal: ideal.id, newCoach: newcomer.id, decoys },
    planted,
  };
}

// ---------------------------------------------------------------------------
// Ground truth, independent of the engine
// ---------------------------------------------------------------------------

const BUCKET_RANGES: Record<Bucket, [number, number]> = {
  morning: [360, 720],
  afternoon: [720, 1020],
  evening: [1020, 1320],
  weekend: [480, 1200],
};

/** Session starts per preferred bucket, client-local (30-minute steps, whole session inside a window). */
function slotsByBucket(c: MatchCoach, quiz: Quiz): Record<Bucket, number> {
  const stored = c.availability as Record<string, unknown>;
  const zone = typeof stored.timezone === "string" ? stored.timezone : "UTC";
  const shift = offsetMinutes(quiz.timezone) - offsetMinutes(zone);
  const counts: Record<Bucket, number> = { morning: 0, afternoon: 0, evening: 0, weekend: 0 };
  DAYS.forEach((day, index) => {
    const windows = stored[day];
    if (!Array.isArray(windows)) return;
    for (const window of windows as string[]) {
      const [from, to] = window.split("-").map((part) => {
        const [h, m] = part.split(":").map(Number);
        return h! * 60 + m!;
      }) as [number, number];
      for (let start = from; start + quiz.preferred_session_duration <= to; start += 30) {
        const local = (((index * 1440 + start + shift) % (7 * 1440)) + 7 * 1440) % (7 * 1440);
        const minute = local % 1440;
        const weekend = Math.floor(local / 1440) >= 5;
        for (const bucket of BUCKETS) {
          const [low, high] = BUCKET_RANGES[bucket];
          if (minute >= low && minute < high && (bucket !== "weekend" || weekend)) counts[bucket]++;
        }
      }
    }
  });
  return counts;
}

function relevance(c: MatchCoach, p: Persona): number {
  if (c.id === p.ideal) return 5;
  const quiz = p.quiz;
  if (!c.languages.some((language) => (quiz.preferred_languages as readonly string[]).includes(language))) return 0;
  if ((c.hourlyRate ?? Infinity) > quiz.budget_range.max * 1.2) return 0;
  const concepts = truth.get(c.id)!.concepts;
  const slots = slotsByBucket(c, quiz);
  let rel = 0;
  if (c.countries.includes(quiz.target_countries[0]!)) rel++;
  if (p.goalConcepts.every((concept) => concepts.has(concept))) rel++;
  if (p.challengeConcepts.every((concept) => concepts.has(concept))) rel++;
  if (quiz.preferred_times.reduce((sum, time) => sum + slots[time], 0) >= 2) rel++;
  return rel;
}

// ---------------------------------------------------------------------------

interface Audit {
  reasons: number;
  rawTokens: number;
  unrelatedPairings: number;
  availabilityOverclaims: number;
  falseClaims: number;
  reasonCount: number; // matches with < 1 or > 5 reasons
  examples: string[];
}

const RAW_TOKEN = /\b[a-z]+_[a-z_]+\b/i;
const PAIRING = /^Expertise in (.+) (?:matches your goal|addresses your challenge): (.+)$/;
const TIMES = /^Free in your (.+) \((.+) time\): (\d+) (\d+)-minute slots? a week$/;
const OLD_TIMES = /^Available in your (.+) \((.+) time\): (\d+) (\d+)-minute slots a week$/;
const OLD_GOAL = /^Expertise in (.+) fits your goal "(.+)"$|^Works on (.+), your goal "(.+)"$|^Helps with "(.+)" \((.+)\)$/;
const TIME_WORD: Record<string, Bucket> = {
  mornings: "morning",
  afternoons: "afternoon",
  evenings: "evening",
  weekends: "weekend",
};

function auditReasons(match: RankedMatch, c: MatchCoach, quiz: Quiz, audit: Audit): void {
  if (match.reasons.length < 1 || match.reasons.length > 5) audit.reasonCount++;
  const flag = (counter: "rawTokens" | "unrelatedPairings" | "availabilityOverclaims" | "falseClaims", reason: string) => {
    audit[counter]++;
    if (audit.examples.length < 12) audit.examples.push(`${counter}: ${reason}`);
  };
  for (const reason of match.reasons) {
    audit.reasons++;
    if (RAW_TOKEN.test(reason)) flag("rawTokens", reason);
    const pairing = PAIRING.exec(reason);
    const old = OLD_GOAL.exec(reason);
    if (pairing || old) {
      // Which side is the coach's expertise and which the client's item, in either wording.
      const [entry, item] = pairing
        ? [pairing[1]!, pairing[2]!]
        : old![1]
          ? [old![1]!, old![2]!]
          : old![3]
            ? [old![3]!, old![4]!]
            : [old![6]!, old![5]!];
      const entryConcept = CONCEPT_OF_TEXT.get(entry.toLowerCase());
      const itemConcept = CONCEPT_OF_TEXT.get(item.toLowerCase());
      if (!entryConcept || !itemConcept || entryConcept !== itemConcept) flag("unrelatedPairings", reason);
    }
    const times = TIMES.exec(reason) ?? OLD_TIMES.exec(reason);
    if (times) {
      const slots = slotsByBucket(c, quiz);
      const named = times[1]!.split(/, | and /).map((word) => TIME_WORD[word]);
      const claimed = Number(times[3]);
      let any = 0;
      for (const bucket of named) if (!bucket || slots[bucket] === 0) flag("availabilityOverclaims", reason);
      // slots in at least one preferred bucket (a Saturday morning is morning and weekend: counted once)
      const preferredTotal = countPreferred(c, quiz);
      any = preferredTotal;
      if (claimed > any) flag("availabilityOverclaims", reason);
    }
    const speaks = /^Speaks (.+)$/.exec(reason);
    if (speaks)
      for (const language of speaks[1]!.split(/, | and /))
        if (!c.languages.includes(language) || !(quiz.preferred_languages as readonly string[]).includes(language))
          flag("falseClaims", reason);
    const lived = /^Has lived and coached in (.+)$/.exec(reason);
    if (lived) for (const country of lived[1]!.split(/, | and /)) if (!c.countries.includes(country)) flag("falseClaims", reason);
    const budget = /^Within your budget \(\$(\d+(?:\.\d+)?)\/h\)$/.exec(reason);
    if (budget && (Number(budget[1]) !== c.hourlyRate || c.hourlyRate! > quiz.budget_range.max)) flag("falseClaims", reason);
  }
}

function countPreferred(c: MatchCoach, quiz: Quiz): number {
  // Same walk as slotsByBucket, counting a start once if it is in any preferred bucket.
  const stored = c.availability as Record<string, unknown>;
  const zone = typeof stored.timezone === "string" ? stored.timezone : "UTC";
  const shift = offsetMinutes(quiz.timezone) - offsetMinutes(zone);
  let total = 0;
  DAYS.forEach((day, index) => {
    const windows = stored[day];
    if (!Array.isArray(windows)) return;
    for (const window of windows as string[]) {
      const [from, to] = window.split("-").map((part) => {
        const [h, m] = part.split(":").map(Number);
        return h! * 60 + m!;
      }) as [number, number];
      for (let start = from; start + quiz.preferred_session_duration <= to; start += 30) {
        const local = (((index * 1440 + start + shift) % (7 * 1440)) + 7 * 1440) % (7 * 1440);
        const minute = local % 1440;
        const weekend = Math.floor(local / 1440) >= 5;
        if (
          quiz.preferred_times.some((bucket) => {
            const [low, high] = BUCKET_RANGES[bucket];
            return minute >= low && minute < high && (bucket !== "weekend" || weekend);
          })
        )
          total++;
      }
    }
  });
  return total;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};

function main() {
  const started = performance.now();
  const personas: Persona[] = [];
  const market: MatchCoach[] = [];
  for (let i = 0; i < PERSONAS; i++) {
    const { persona: p, planted } = persona();
    personas.push(p);
    market.push(...planted);
  }
  for (let i = 0; i < BACKGROUND; i++) market.push(backgroundCoach());
  const byId = new Map(market.map((c) => [c.id, c]));
  const prepared = market.map(prepareCoach);

  let hit1 = 0;
  let hit3 = 0;
  let ndcg = 0;
  const idealRanks: number[] = [];
  const newRanks: number[] = [];
  let newInTop3 = 0;
  const decoysAbove: Record<DecoyKind, number> = {
    keyword_stuffer: 0,
    paraphrased_twin: 0,
    night_only: 0,
    over_budget: 0,
    no_shared_language: 0,
  };
  const decoysPlanted: Record<DecoyKind, number> = { ...decoysAbove };
  const listed: Record<DecoyKind, number> = { ...decoysAbove };
  let orderViolations = 0;
  let languageViolations = 0;
  let budgetViolations = 0;
  let lowTop = 0;
  const audit: Audit = {
    reasons: 0,
    rawTokens: 0,
    unrelatedPairings: 0,
    availabilityOverclaims: 0,
    falseClaims: 0,
    reasonCount: 0,
    examples: [],
  };
  const misses: string[] = [];

  for (const p of personas) {
    const ranked = rankPrepared(prepareClient(p.quiz, NOW), prepared, undefined, 10);
    const ids = ranked.map((match) => match.coachId);
    const idealRank = ids.indexOf(p.ideal) + 1 || ids.length + 1;
    idealRanks.push(idealRank);
    if (idealRank === 1) hit1++;
    else if (misses.length < 6) {
      const top = byId.get(ids[0]!)!;
      misses.push(
        `persona ${personas.indexOf(p)} (${p.quiz.target_countries[0]}, ${p.quiz.cultural_goals.join("/")} | ` +
          `${p.quiz.specific_challenges.join("/")}): ideal #${idealRank} ${ranked[idealRank - 1]?.matchScore}, ` +
          `#1 ${p.decoys.get(top.id) ?? (top.id === p.newCoach ? "new coach" : "background")} ` +
          `${ranked[0]!.matchScore} [${top.expertise.join("; ")}] in ${top.countries.join(", ")}`,
      );
    }
    if (idealRank <= 3) hit3++;
    if ((ranked[idealRank - 1]?.matchScore ?? 0) < 60) lowTop++;
    const newRank = ids.indexOf(p.newCoach) + 1 || ids.length + 1;
    newRanks.push(newRank);
    if (newRank <= 3) newInTop3++;
    for (const [id, kind] of p.decoys) {
      decoysPlanted[kind]++;
      const rank = ids.indexOf(id) + 1;
      if (rank > 0) listed[kind]++;
      if (rank > 0 && rank < idealRank) decoysAbove[kind]++;
    }
    // NDCG@10, graded
    const gains = market.map((c) => relevance(c, p));
    const dcg = ids
      .slice(0, 10)
      .reduce((sum, id, index) => sum + (2 ** relevance(byId.get(id)!, p) - 1) / Math.log2(index + 2), 0);
    const ideal = [...gains]
      .sort((a, b) => b - a)
      .slice(0, 10)
      .reduce((sum, rel, index) => sum + (2 ** rel - 1) / Math.log2(index + 2), 0);
    ndcg += dcg / ideal;
    // order and guarantees over the whole list
    const preferred = new Set<string>(p.quiz.preferred_languages);
    let seenFiller = false;
    let seenOver = false;
    ranked.forEach((match, index) => {
      if (index > 0 && match.matchScore > ranked[index - 1]!.matchScore) orderViolations++;
      const c = byId.get(match.coachId)!;
      const shares = c.languages.some((language) => preferred.has(language));
      if (!shares) seenFiller = true;
      else if (seenFiller) languageViolations++;
      const over = (c.hourlyRate ?? 0) > p.quiz.budget_range.max * 1.2;
      if (over) seenOver = true;
      else if (seenOver) budgetViolations++;
    });
    for (const match of ranked.slice(0, 10)) auditReasons(match, byId.get(match.coachId)!, p.quiz, audit);
  }

  const n = personas.length;
  console.log(
    `Matching evaluation v2${USE_HOLDOUT ? " (HOLDOUT vocabulary)" : ""}: ${market.length} coaches ` +
      `(${BACKGROUND} background + 8 planted per persona), ${n} personas, seed ${SEED}`,
  );
  console.log("\n| metric | value |\n|---|---|");
  console.log(`| hit@1 (ideal coach first) | ${(hit1 / n).toFixed(3)} |`);
  console.log(`| hit@3 | ${(hit3 / n).toFixed(3)} |`);
  console.log(`| NDCG@10 (graded) | ${(ndcg / n).toFixed(3)} |`);
  console.log(`| ideal coach: median rank (worst) | ${median(idealRanks)} (${Math.max(...idealRanks)}) |`);
  console.log(`| ideal coach scored "low" (< 60) | ${lowTop} of ${n} |`);
  console.log(
    `| new coach (no sessions, no reviews, fits best) in the top 3 | ${newInTop3} of ${n} (median rank ` +
      `${median(newRanks)}, worst ${Math.max(...newRanks)}) |`,
  );
  for (const kind of DECOY_KINDS)
    console.log(
      `| decoys above the ideal: ${kind} | ${decoysAbove[kind]} of ${decoysPlanted[kind]} (listed at all: ${listed[kind]}) |`,
    );
  console.log(`| lists with a higher score below a lower one (pairs) | ${orderViolations} |`);
  console.log(`| language guarantee violations | ${languageViolations} |`);
  console.log(`| budget guarantee violations | ${budgetViolations} |`);
  console.log(`\nReason audit over every top 10 (${audit.reasons} sentences):\n\n| check | count |\n|---|---|`);
  console.log(`| raw enum tokens (e.g. "career_transition") | ${audit.rawTokens} |`);
  console.log(`| goal/challenge paired with expertise of another concept | ${audit.unrelatedPairings} |`);
  console.log(`| availability overclaims | ${audit.availabilityOverclaims} |`);
  console.log(`| false language / country / price claims | ${audit.falseClaims} |`);
  console.log(`| matches without 1-5 reasons | ${audit.reasonCount} |`);
  if (audit.examples.length > 0) console.log(`\nexamples:\n${audit.examples.map((line) => `  ${line}`).join("\n")}`);
  if (misses.length > 0) console.log(`\nfirst misses:\n${misses.map((line) => `  ${line}`).join("\n")}`);
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

main();
