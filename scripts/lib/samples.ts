/**
 * Sample data shared by the test fixtures and the fuzzer (which also runs
 * outside vitest): a complete, valid 20-factor quiz and an all-week
 * availability. Plain data, no imports, so any runner can load it.
 */
export const SAMPLE_QUIZ = {
  target_countries: ["Spain"],
  cultural_goals: ["integrate into local culture"],
  preferred_languages: ["English"],
  industry: "technology",
  family_status: "single",
  previous_expat_experience: false,
  timeline_urgency: 3,
  budget_range: { min: 50, max: 150 },
  coaching_style: "collaborative",
  specific_challenges: ["language barrier"],
  home_country: "Germany",
  current_country: "Spain",
  relocation_stage: "recently_arrived",
  career_level: "mid_career",
  communication_style: "direct",
  preferred_session_duration: 60,
  session_frequency: "weekly",
  preferred_times: ["morning"],
  timezone: "Europe/Madrid",
  languages_learning: ["Spanish"],
};

export const WEEK_AVAILABILITY = {
  timezone: "UTC",
  monday: ["00:00-23:30"],
  tuesday: ["00:00-23:30"],
  wednesday: ["00:00-23:30"],
  thursday: ["00:00-23:30"],
  friday: ["00:00-23:30"],
  saturday: ["00:00-23:30"],
  sunday: ["00:00-23:30"],
};
