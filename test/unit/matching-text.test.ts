/** Building blocks of the lexical similarity and the availability fit. */
import { describe, expect, it } from "vitest";
import { quizSchema } from "../../src/lib/quiz.ts";
import { conceptMatch, countryVariants } from "../../src/services/matching/candidates.ts";
import { preferredSlots, slotCounts, weeklyAvailability, zoneOffsetMinutes } from "../../src/services/matching/schedule.ts";
import { topicsOf } from "../../src/services/matching/taxonomy.ts";
import { contentStems, countrySpellings, joinList, normalizeCountry, stem } from "../../src/services/matching/text.ts";

describe("text", () => {
  it("stems word families onto one stem", () => {
    expect(stem("integration")).toBe(stem("integrate"));
    expect(stem("families")).toBe(stem("family"));
    expect(stem("cultural")).toBe(stem("culture"));
    expect(stem("adaptation")).toBe(stem("adapting"));
  });

  it("drops stopwords and accents from content stems", () => {
    expect([...contentStems("Help me with the Café culture")]).toEqual([stem("cafe"), stem("culture")]);
  });

  it("folds country aliases", () => {
    expect(normalizeCountry("USA")).toBe(normalizeCountry("United States of America"));
    expect(normalizeCountry(" The Netherlands ")).toBe("netherlands");
    expect(countrySpellings("United Kingdom")).toEqual(expect.arrayContaining(["united kingdom", "uk", "england"]));
  });

  it("joins lists as people write them", () => {
    expect([joinList(["Spanish"]), joinList(["Spanish", "English"]), joinList(["A", "B", "C"])]).toEqual([
      "Spanish",
      "Spanish and English",
      "A, B and C",
    ]);
  });
});

describe("taxonomy", () => {
  it("maps free text onto topics through synonyms", () => {
    expect(topicsOf("Integrate into local culture")).toContain("cultural_adaptation");
    expect(topicsOf("feeling lonely and homesick")).toContain("culture_shock");
    expect(topicsOf("schools for my kids")).toContain("family");
    expect(topicsOf("finding a job")).toContain("career");
    expect(topicsOf("Tax returns").size).toBe(0);
  });

  it("counts modifier words (weak synonyms) only when nothing more specific is said", () => {
    expect([...topicsOf("Cross-cultural negotiation")]).toEqual(["business_culture"]);
    expect([...topicsOf("Family relocation")]).toEqual(["family"]);
    expect([...topicsOf("Conversation confidence in a second language")]).toEqual(["language"]);
    expect([...topicsOf("Building a social network")]).toEqual(["social"]);
    expect([...topicsOf("networking abroad")]).toEqual(["career"]);
    expect(topicsOf("Intercultural coaching")).toContain("cultural_adaptation"); // alone, the modifier still counts
    expect([...topicsOf("career_transition")]).toEqual(["career"]); // raw form tokens split into words
  });

  it("reads reverse culture shock as repatriation", () => {
    const topics = topicsOf("reverse culture shock");
    expect(topics).toContain("repatriation");
    expect(topics).not.toContain("culture_shock");
  });

  it("builds the pre-rank's concept match: the items' topics, LIKE-escaped patterns only for wording outside their synonyms", () => {
    const quiz = quizSchema.parse({
      target_countries: ["Spain"],
      cultural_goals: ["become 100% bilingual_now"],
      preferred_languages: ["English"],
      industry: "x",
      family_status: "single",
      previous_expat_experience: true,
      timeline_urgency: 1,
      budget_range: { min: 0, max: 100 },
      coaching_style: "flexible",
      specific_challenges: ["homesick"],
      home_country: "A",
      current_country: "B",
      relocation_stage: "planning",
      career_level: "student",
      communication_style: "mixed",
      preferred_session_duration: 30,
      session_frequency: "weekly",
      preferred_times: ["evening"],
      timezone: "UTC",
      languages_learning: [],
    });
    // outside the taxonomy: the client's own words, LIKE-escaped
    expect(conceptMatch(quiz.cultural_goals)).toEqual({ topics: [], patterns: ["%become 100\\% bilingual\\_now%"] });
    // a synonym itself: the stored topic ids cover it, no pattern
    expect(conceptMatch(quiz.specific_challenges)).toEqual({ topics: ["culture_shock"], patterns: [] });
    expect(conceptMatch(["Feeling isolated", "career change"])).toEqual({ topics: ["career", "culture_shock"], patterns: [] });
    // the concept by stem ("manage teams" = "managing teams"), but no synonym is a substring of the wording: kept as a pattern
    expect(conceptMatch(["manage teams"])).toEqual({ topics: ["leadership"], patterns: ["%manage teams%"] });
  });

  it("spells countries the ways coaches may have written them", () => {
    expect(countryVariants(["united states"])).toEqual(expect.arrayContaining(["United States", "USA", "US", "united states"]));
    expect(countryVariants(["  Spain "])).toEqual(expect.arrayContaining(["Spain", "spain", "SPAIN"]));
  });
});

describe("schedule", () => {
  it("reads zone offsets at a given instant (DST aware)", () => {
    expect(zoneOffsetMinutes("Europe/Madrid", new Date("2026-01-15T12:00:00Z"))).toBe(60);
    expect(zoneOffsetMinutes("Europe/Madrid", new Date("2026-07-15T12:00:00Z"))).toBe(120);
    expect(zoneOffsetMinutes("Asia/Kathmandu", new Date("2026-07-15T12:00:00Z"))).toBe(345);
    expect(zoneOffsetMinutes("UTC", new Date())).toBe(0);
  });

  it("cuts windows into sessions of the preferred length and buckets them in the client's zone", () => {
    const availability = weeklyAvailability({ timezone: "UTC", monday: ["08:00-10:00"], saturday: ["10:00-11:00"] });
    expect(availability.longestWindow).toBe(120);
    expect(availability.activeDays).toBe(2);
    // 60-minute sessions starting every 30 minutes: 08:00, 08:30, 09:00 on Monday, 10:00 on Saturday
    const sameZone = slotCounts(availability, 0, 60);
    expect(preferredSlots(sameZone, ["morning"])).toBe(4);
    expect(preferredSlots(sameZone, ["weekend"])).toBe(1);
    expect(preferredSlots(sameZone, ["evening"])).toBe(0);
    // seen from UTC+10 the Monday windows are 18:00-20:00: evening
    const tokyoish = slotCounts(availability, 600, 60);
    expect(preferredSlots(tokyoish, ["evening"])).toBe(4);
    // seen from UTC-10, Monday 08:00 UTC is Sunday 22:00 (wraps over the week boundary) and
    // Saturday 10:00 UTC is Saturday 00:00: all four sessions exist, none in a bucket
    const hawaii = slotCounts(availability, -600, 60);
    expect(hawaii.reduce((sum, count) => sum + count, 0)).toBe(4);
    expect(preferredSlots(hawaii, ["morning", "afternoon", "evening", "weekend"])).toBe(0);
    // 90-minute sessions do not fit a 60-minute window
    expect(preferredSlots(slotCounts(availability, 0, 90), ["weekend"])).toBe(0);
  });

  it("ignores malformed stored availability instead of failing", () => {
    const availability = weeklyAvailability({ monday: ["nonsense", 5], tuesday: "09:00-10:00", timezone: 3 });
    expect(availability.intervals).toEqual([]);
    expect(availability.timezone).toBe("UTC");
  });
});
