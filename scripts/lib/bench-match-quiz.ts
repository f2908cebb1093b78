/** The coach countries, zones and client quizzes of `npm run bench:match` (shared with scripts/explain-match.ts). */
import { type Quiz, quizSchema } from "../../src/lib/quiz.ts";

export const BENCH_COUNTRIES = [
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
];
export const BENCH_ZONES = [
  "Europe/Madrid",
  "Europe/London",
  "America/New_York",
  "Asia/Singapore",
  "Asia/Tokyo",
  "Australia/Sydney",
];

/** The quiz of bench client `index` (0..39): languages, countries, stage, budget and topics vary. */
export function benchQuiz(index: number): Quiz {
  const languages = [["English"], ["Spanish"], ["English", "French"], ["Japanese"], ["German", "English"], ["Arabic"]][
    index % 6
  ]!;
  return quizSchema.parse({
    target_countries: [BENCH_COUNTRIES[index % BENCH_COUNTRIES.length]],
    cultural_goals: [["integrate into local culture", "find a job in my new country", "help my children settle in"][index % 3]],
    preferred_languages: languages,
    industry: "technology",
    family_status: "married_with_children",
    previous_expat_experience: index % 2 === 0,
    timeline_urgency: 1 + (index % 5),
    budget_range: { min: 40, max: [80, 120, 200, 300][index % 4] },
    coaching_style: "structured",
    specific_challenges: [["feeling lonely", "language barrier", "reverse culture shock"][index % 3]],
    home_country: BENCH_COUNTRIES[(index + 3) % BENCH_COUNTRIES.length],
    current_country: BENCH_COUNTRIES[index % BENCH_COUNTRIES.length],
    relocation_stage: ["planning", "recently_arrived", "settled", "returning_home"][index % 4],
    career_level: "mid_career",
    communication_style: "direct",
    preferred_session_duration: 60,
    session_frequency: "weekly",
    preferred_times: ["morning"],
    timezone: BENCH_ZONES[index % BENCH_ZONES.length],
    languages_learning: [],
  });
}
