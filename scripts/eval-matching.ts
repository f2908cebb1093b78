/**
 * Offline evaluation of the matching engine (npm run eval:matching).
 *
 * A generated market: 5,000 coaches and 500 clients, all from a seeded PRNG
 * (the same figures on every run). Each client has explicit needs — a
 * preferred language, a target country, a goal topic, a challenge topic, a
 * budget, a time of day in their own zone — and 3 coaches are planted for
 * them that meet all of these needs (rated modestly: 3.5-4.4). The other
 * 3,500 coaches are random and may meet some needs by chance. Goals and
 * coach expertise are worded differently (the client says "feel less
 * homesick", a coach writes "Culture shock recovery") as in real data.
 *
 * Reported for the engine (lexical, no embeddings) and two baselines:
 * - top-rated: everyone gets the globally best-rated coaches;
 * - filtered top-rated: best-rated among coaches who share a language and
 *   are within budget (what a plain filter UI gives).
 * Metrics: hit-rate@3 (a planted fit among the first 3), NDCG@10 (planted
 * fits relevant), the rank of the best planted fit and of all planted fits.
 *
 * Pure Node, engine only: candidates are every coach sharing a language (what
 * the SQL prefilter passes; its 300-row pre-rank cap is measured by the
 * benchmark, not here). Usage: npm run eval:matching [-- --clients 500 --coaches 5000 --seed 1]
 */
import { type Quiz, quizSchema } from "../src/lib/quiz.ts";
import {
  type MatchCoach,
  type PreparedCoach,
  prepareClient,
  prepareCoach,
  rankPrepared,
} from "../src/services/matching/engine.ts";

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const CLIENTS = argument("clients", 500);
const COACHES = argument("coaches", 5000);
const PLANTED_PER_CLIENT = 3;
const SEED = argument("seed", 1);
const NOW = new Date("2026-03-02T12:00:00Z");

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
/** Weighted choice: [value, weight] pairs. */
function weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): T {
  const total = pairs.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [value, weight] of pairs) {
    roll -= weight;
    if (roll <= 0) return value;
  }
  return pairs[pairs.length - 1]![0];
}

const LANGUAGES: ReadonlyArray<readonly [string, number]> = [
  ["English", 45],
  ["Spanish", 14],
  ["French", 10],
  ["German", 7],
  ["Mandarin Chinese", 5],
  ["Arabic", 5],
  ["Portuguese", 4],
  ["Japanese", 3],
  ["Italian", 3],
  ["Russian", 2],
  ["Hindi", 2],
  ["Dutch", 2],
  ["Korean", 1],
  ["Turkish", 1],
];
const COUNTRIES = [
  "Spain",
  "France",
  "Germany",
  "United States",
  "United Kingdom",
  "Netherlands",
  "Japan",
  "Singapore",
  "United Arab Emirates",
  "Canada",
  "Australia",
  "Brazil",
  "Mexico",
  "China",
  "India",
  "Kenya",
  "South Africa",
  "Switzerland",
  "Sweden",
  "Italy",
  "Portugal",
  "Korea",
  "Thailand",
  "Argentina",
  "Ireland",
];
const ZONES = [
  "Europe/Madrid",
  "Europe/London",
  "America/New_York",
  "America/Los_Angeles",
  "Asia/Singapore",
  "Asia/Tokyo",
  "Asia/Dubai",
  "Australia/Sydney",
  "America/Sao_Paulo",
  "Africa/Nairobi",
];

/** Topics as the generator knows them: how clients say it, how coaches write it. */
const TOPICS = {
  adaptation: {
    client: [
      "integrate into local culture",
      "understand local customs",
      "adapt to the way people live here",
      "fit in with the locals",
    ],
    coach: ["Cultural integration", "Cross-cultural adaptation", "Intercultural competence", "Acculturation coaching"],
  },
  shock: {
    client: ["feel less homesick", "cope with loneliness", "overcome culture shock", "stop feeling isolated"],
    coach: ["Culture shock recovery", "Homesickness and adjustment", "Loneliness abroad", "First-year adjustment"],
  },
  career: {
    client: ["find a job in my new country", "restart my career", "grow my professional network", "prepare for job interviews"],
    coach: ["Career transition", "Job search abroad", "Professional networking", "International career development"],
  },
  leadership: {
    client: ["lead a multicultural team", "manage people from other cultures", "build executive presence"],
    coach: ["Global leadership", "Leading multicultural teams", "Executive coaching"],
  },
  family: {
    client: ["help my children settle in", "find good schools for the kids", "support my trailing spouse"],
    coach: ["Family relocation", "Expat families and schooling", "Dual-career couples and trailing spouses"],
  },
  repatriation: {
    client: ["return home smoothly", "deal with reverse culture shock", "move back after ten years abroad"],
    coach: ["Repatriation coaching", "Reverse culture shock", "Re-entry after life abroad"],
  },
  language: {
    client: ["overcome the language barrier", "learn the language faster", "speak with more confidence at work"],
    coach: ["Language learning strategies", "Intercultural communication", "Language barrier coaching"],
  },
  wellbeing: {
    client: ["manage stress", "avoid burnout", "build resilience"],
    coach: ["Resilience and wellbeing", "Stress and burnout prevention", "Mindfulness for expats"],
  },
  social: {
    client: ["make friends", "build a social life", "find a community"],
    coach: ["Building a social network", "Community and belonging", "Making friends abroad"],
  },
  business: {
    client: ["understand business etiquette", "negotiate across cultures", "navigate office politics"],
    coach: ["Business culture and etiquette", "Cross-cultural negotiation", "Workplace culture"],
  },
} as const;
type Topic = keyof typeof TOPICS;
const TOPIC_NAMES = Object.keys(TOPICS) as Topic[];

const STYLE_WORDS: Record<string, string> = {
  directive: "practical advice and clear action steps",
  collaborative: "a collaborative partnership",
  reflective: "reflective, self-awareness work",
  structured: "a structured, step-by-step roadmap",
  flexible: "a flexible, tailored approach",
};
const COMMUNICATION_WORDS: Record<string, string> = {
  direct: "candid, direct feedback",
  indirect: "patient and empathetic conversations",
  mixed: "a balanced, adaptable tone",
};
const INDUSTRIES = ["technology", "finance", "healthcare", "education", "consulting", "energy", "diplomacy", "marketing"];

const BUCKET_HOURS = { morning: [8, 12], afternoon: [13, 17], evening: [18, 21], weekend: [10, 14] } as const;
type Bucket = keyof typeof BUCKET_HOURS;
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

function zoneOffsetHours(zone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    hour: "numeric",
    day: "numeric",
  }).formatToParts(NOW);
  const hour = Number(parts.find((part) => part.type === "hour")!.value);
  const day = Number(parts.find((part) => part.type === "day")!.value);
  let offset = hour - NOW.getUTCHours() + (day - NOW.getUTCDate()) * 24;
  if (offset > 14) offset -= 24 * 30; // month boundary guard (not hit on NOW)
  return offset;
}

const pad = (hour: number) => `${String(((hour % 24) + 24) % 24).padStart(2, "0")}:00`;

/** Weekly windows of a coach; when `forClient` is given they are placed in the client's bucket, written in the coach's zone. */
function availability(coachZone: string, forClient?: { zone: string; bucket: Bucket }): Record<string, unknown> {
  const result: Record<string, unknown> = { timezone: coachZone };
  if (forClient) {
    const [start, end] = BUCKET_HOURS[forClient.bucket];
    const shift = zoneOffsetHours(coachZone) - zoneOffsetHours(forClient.zone);
    const days = forClient.bucket === "weekend" ? ["saturday", "sunday"] : ["monday", "wednesday", "thursday"];
    for (const day of days) {
      let index = DAYS.indexOf(day as (typeof DAYS)[number]);
      let from = start + shift;
      let to = end + shift;
      // keep the window inside one coach-local day
      if (from < 0) {
        from += 24;
        to += 24;
        index = (index + 6) % 7;
      }
      if (to > 24) {
        from -= 24;
        to -= 24;
        index = (index + 1) % 7;
      }
      if (from < 0) {
        from = 0;
      }
      result[DAYS[index]!] = [`${pad(from)}-${to === 24 ? "24:00" : pad(to)}`];
    }
    return result;
  }
  for (const day of pickSome(DAYS, 1 + Math.floor(random() * 5))) {
    const start = 6 + Math.floor(random() * 13);
    result[day] = [`${pad(start)}-${pad(Math.min(23, start + 1 + Math.floor(random() * 4)))}`];
  }
  return result;
}

function rate(max = 500): number {
  const value = Math.round(Math.exp(Math.log(120) + (random() - 0.5) * 1.6));
  return Math.max(25, Math.min(max, value));
}

let coachCounter = 0;
function coachId(): string {
  return `00000000-0000-4000-8000-${String(++coachCounter).padStart(12, "0")}`;
}

function randomCoach(): MatchCoach {
  const topics = pickSome(TOPIC_NAMES, 1 + Math.floor(random() * 3));
  const languages = [...new Set([weighted(LANGUAGES), ...(random() < 0.5 ? [weighted(LANGUAGES)] : [])])];
  return {
    id: coachId(),
    bio: `I offer ${pick(Object.values(STYLE_WORDS))} with ${pick(Object.values(COMMUNICATION_WORDS))}.${random() < 0.4 ? ` Background in ${pick(INDUSTRIES)}.` : ""}`,
    expertise: topics.map((topic) => pick(TOPICS[topic].coach)),
    languages,
    countries: pickSome(COUNTRIES, 1 + Math.floor(random() * 4)),
    hourlyRate: rate(),
    currency: "USD",
    availability: availability(pick(ZONES)),
    rating: Math.round((3 + random() * 2) * 100) / 100,
    totalSessions: Math.floor(random() * 400),
    isVerified: random() < 0.3,
  };
}

interface Client {
  quiz: Quiz;
  planted: Set<string>;
}

function makeClient(): { client: Client; plantedCoaches: MatchCoach[] } {
  const language = weighted(LANGUAGES);
  const second = random() < 0.3 ? weighted(LANGUAGES) : undefined;
  const target = pick(COUNTRIES);
  const [goalTopic, challengeTopic] = pickSome(TOPIC_NAMES, 2) as [Topic, Topic];
  const zone = pick(ZONES);
  const bucket = pick(["morning", "afternoon", "evening", "weekend"] as const);
  const max = pick([80, 100, 120, 150, 200, 250]);
  const style = pick(Object.keys(STYLE_WORDS));
  const communication = pick(Object.keys(COMMUNICATION_WORDS));
  const industry = pick(INDUSTRIES);
  // A coherent story: where the client is now and comes from follows the relocation stage.
  const stage = pick(["planning", "recently_arrived", "settled", "returning_home"] as const);
  const elsewhere = () => pick(COUNTRIES.filter((country) => country !== target));
  const home = stage === "returning_home" ? target : elsewhere();
  const current = stage === "planning" ? home : stage === "returning_home" ? elsewhere() : target;
  const quiz = quizSchema.parse({
    target_countries: [target],
    cultural_goals: [pick(TOPICS[goalTopic].client)],
    preferred_languages: second && second !== language ? [language, second] : [language],
    industry,
    family_status: pick(["single", "partnered", "married", "married_with_children", "single_parent", "other"]),
    previous_expat_experience: random() < 0.5,
    timeline_urgency: 1 + Math.floor(random() * 5),
    budget_range: { min: Math.round(max * 0.4), max },
    coaching_style: style,
    specific_challenges: [pick(TOPICS[challengeTopic].client)],
    home_country: home,
    current_country: current,
    relocation_stage: stage,
    career_level: pick(["student", "early_career", "mid_career", "senior", "executive"]),
    communication_style: communication,
    preferred_session_duration: pick([30, 60, 60, 90]),
    session_frequency: pick(["weekly", "biweekly", "monthly", "ad_hoc"]),
    preferred_times: [bucket],
    timezone: zone,
    languages_learning: random() < 0.5 ? [weighted(LANGUAGES)] : [],
  });
  const plantedCoaches: MatchCoach[] = Array.from({ length: PLANTED_PER_CLIENT }, () => ({
    id: coachId(),
    bio: `I offer ${STYLE_WORDS[style]} with ${COMMUNICATION_WORDS[communication]}.`,
    expertise: [pick(TOPICS[goalTopic].coach), pick(TOPICS[challengeTopic].coach)],
    languages: [language, ...(random() < 0.5 ? ["English"] : [])].filter((value, index, list) => list.indexOf(value) === index),
    countries: [target, ...pickSome(COUNTRIES, Math.floor(random() * 2))].filter(
      (value, index, list) => list.indexOf(value) === index,
    ),
    hourlyRate: Math.max(25, Math.round(max * (0.5 + random() * 0.5))),
    currency: "USD",
    availability: availability(pick(ZONES), { zone, bucket }),
    rating: Math.round((3.5 + random() * 0.9) * 100) / 100,
    totalSessions: Math.floor(random() * 120),
    isVerified: random() < 0.3,
  }));
  return { client: { quiz, planted: new Set(plantedCoaches.map((coach) => coach.id)) }, plantedCoaches };
}

// ---------------------------------------------------------------------------

interface Metrics {
  hitAt3: number;
  ndcg10: number;
  bestRanks: number[];
  allRanks: number[];
}

function evaluate(ranking: readonly string[], planted: Set<string>, metrics: Metrics): void {
  const ranks: number[] = [];
  ranking.forEach((id, index) => {
    if (planted.has(id)) ranks.push(index + 1);
  });
  if (ranks.some((rank) => rank <= 3)) metrics.hitAt3++;
  let dcg = 0;
  for (const rank of ranks) if (rank <= 10) dcg += 1 / Math.log2(rank + 1);
  let ideal = 0;
  for (let rank = 1; rank <= Math.min(planted.size, 10); rank++) ideal += 1 / Math.log2(rank + 1);
  metrics.ndcg10 += dcg / ideal;
  // a planted fit not in the list at all (filtered) counts as rank "beyond the list"
  const beyond = ranking.length + 1;
  const all = [...ranks, ...Array.from({ length: planted.size - ranks.length }, () => beyond)];
  metrics.bestRanks.push(Math.min(...all));
  metrics.allRanks.push(...all);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const percent = (value: number) => `${(100 * value).toFixed(1)} %`;

function main() {
  const started = performance.now();
  const clients: Client[] = [];
  const coaches: MatchCoach[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const { client, plantedCoaches } = makeClient();
    clients.push(client);
    coaches.push(...plantedCoaches);
  }
  while (coaches.length < COACHES) coaches.push(randomCoach());
  const prepared = coaches.map(prepareCoach);
  const byLanguage = new Map<string, PreparedCoach[]>();
  for (const coach of prepared)
    for (const language of coach.coach.languages) {
      let list = byLanguage.get(language);
      if (!list) {
        list = [];
        byLanguage.set(language, list);
      }
      list.push(coach);
    }
  const globalTopRated = [...coaches]
    .sort((a, b) => b.rating - a.rating || b.totalSessions - a.totalSessions || (a.id < b.id ? -1 : 1))
    .map((coach) => coach.id);

  const engine: Metrics = { hitAt3: 0, ndcg10: 0, bestRanks: [], allRanks: [] };
  const topRated: Metrics = { hitAt3: 0, ndcg10: 0, bestRanks: [], allRanks: [] };
  const filteredTopRated: Metrics = { hitAt3: 0, ndcg10: 0, bestRanks: [], allRanks: [] };
  let candidateTotal = 0;

  for (const client of clients) {
    const candidates = [...new Set(client.quiz.preferred_languages.flatMap((language) => byLanguage.get(language) ?? []))];
    candidateTotal += candidates.length;
    const ranked = rankPrepared(prepareClient(client.quiz, NOW), candidates, undefined, 0).map((match) => match.coachId);
    evaluate(ranked, client.planted, engine);
    evaluate(globalTopRated, client.planted, topRated);
    const filtered = candidates
      .map((coach) => coach.coach)
      .filter((coach) => (coach.hourlyRate ?? Infinity) <= client.quiz.budget_range.max)
      .sort((a, b) => b.rating - a.rating || b.totalSessions - a.totalSessions || (a.id < b.id ? -1 : 1))
      .map((coach) => coach.id);
    evaluate(filtered, client.planted, filteredTopRated);
  }

  const rows = [
    ["engine (lexical, no embeddings)", engine],
    ["baseline: top-rated", topRated],
    ["baseline: top-rated sharing a language, within budget", filteredTopRated],
  ] as const;
  console.log(
    `Matching evaluation: ${coaches.length} coaches, ${clients.length} clients, ${PLANTED_PER_CLIENT} planted fits each, seed ${SEED}`,
  );
  console.log(`(mean candidates per client after the language prefilter: ${Math.round(candidateTotal / clients.length)})\n`);
  console.log("| ranking | hit-rate@3 | NDCG@10 | best planted fit: median rank (mean) | all planted fits: median rank |");
  console.log("|---|---|---|---|---|");
  for (const [name, metrics] of rows) {
    console.log(
      `| ${name} | ${percent(metrics.hitAt3 / clients.length)} | ${(metrics.ndcg10 / clients.length).toFixed(3)} | ${median(metrics.bestRanks)} (${mean(metrics.bestRanks).toFixed(1)}) | ${median(metrics.allRanks)} |`,
    );
  }
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

main();
