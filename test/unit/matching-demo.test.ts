/**
 * The demo market (drizzle/seed.ts) as a new user meets it: a Spanish + English speaker
 * moving to Spain gets a Spanish-speaking coach who knows Spain first, and good matches
 * are not all "low" (issue 17). The seed is run against a recording stand-in for the
 * database, so this sees exactly the coaches `npm start` creates.
 */
import { describe, expect, it } from "vitest";
import { seedDemoData } from "../../drizzle/seed.ts";
import { type Quiz, quizSchema } from "../../src/lib/quiz.ts";
import { type MatchCoach, rankCoaches } from "../../src/services/matching/engine.ts";

type Row = Record<string, unknown>;

/** Just enough of drizzle's insert chain for seedDemoData: records the rows, returns fake ids. */
function recordingDb() {
  const inserted = new Map<unknown, Row[]>();
  let next = 0;
  const db = {
    // The demo reviews' rating recomputation is one SQL statement; the ranking here reads the
    // inserted profiles (their imported ratings), so the statement is accepted and ignored.
    execute: () => Promise.resolve({ rows: [] }),
    // The demo's paid history (seedDemoBookings) marks coach2's connected account and reads the
    // coaches' rates; with no rates read it books nothing, which the ranking here does not use.
    update: () => ({ set: () => ({ where: () => Promise.resolve() }) }),
    select: () => ({ from: () => ({ where: () => Promise.resolve([]) }) }),
    insert(table: unknown) {
      return {
        values(values: Row | Row[]) {
          const rows = Array.isArray(values) ? values : [values];
          inserted.set(table, [...(inserted.get(table) ?? []), ...rows]);
          const ids = rows.map(() => ({ id: `00000000-0000-4000-8000-${String(++next).padStart(12, "0")}` }));
          const result = Promise.resolve(ids);
          return Object.assign(result, { returning: () => Promise.resolve(ids) });
        },
      };
    },
  };
  return { db, inserted };
}

async function demoCoaches(): Promise<MatchCoach[]> {
  const { db, inserted } = recordingDb();
  const schema = await import("../../drizzle/schema.ts");
  await seedDemoData(db as never);
  return (inserted.get(schema.coachProfiles) ?? []).map((row, index) => ({
    id: `00000000-0000-4000-9000-${String(index).padStart(12, "0")}`,
    bio: row.bio as string,
    expertise: row.expertise as string[],
    languages: row.languages as string[],
    countries: row.countries as string[],
    hourlyRate: Number(row.hourlyRate),
    currency: row.currency as string,
    availability: row.availability,
    rating: Number(row.rating),
    totalSessions: row.totalSessions as number,
    isVerified: row.isVerified as boolean,
  }));
}

function movingToSpain(overrides: Partial<Record<keyof Quiz, unknown>> = {}): Quiz {
  return quizSchema.parse({
    target_countries: ["Spain"],
    // the demo's own vocabulary (drizzle/seed.ts GOALS / CHALLENGES), as its client quizzes use it
    cultural_goals: ["integrate into local culture", "build a professional network"],
    preferred_languages: ["Spanish", "English"],
    industry: "technology",
    family_status: "partnered",
    previous_expat_experience: false,
    timeline_urgency: 3,
    budget_range: { min: 50, max: 250 },
    coaching_style: "collaborative",
    specific_challenges: ["bureaucracy", "language barrier"],
    home_country: "Mexico",
    current_country: "Mexico",
    relocation_stage: "planning",
    career_level: "mid_career",
    communication_style: "mixed",
    preferred_session_duration: 60,
    session_frequency: "biweekly",
    preferred_times: ["morning", "afternoon"],
    timezone: "Europe/Madrid",
    languages_learning: [],
    ...overrides,
  });
}

describe("the demo market, as a new user", () => {
  it("gives a Spanish + English speaker moving to Spain a Spanish-speaking coach with Spain experience first, not all 'low'", async () => {
    const coaches = await demoCoaches();
    expect(coaches.length).toBeGreaterThan(20);
    const ranked = rankCoaches(movingToSpain(), coaches, { now: new Date("2026-03-02T12:00:00Z") });
    const byId = new Map(coaches.map((coach) => [coach.id, coach]));
    const first = byId.get(ranked[0]!.coachId)!;
    expect(first.languages).toContain("Spanish");
    expect(first.countries).toContain("Spain");
    expect(ranked[0]!.confidence).not.toBe("low");
    expect(ranked[0]!.reasons).toContain("Has lived and coached in Spain");
    expect(ranked.slice(0, 10).some((match) => match.confidence !== "low")).toBe(true);
    // the list is in descending match_score
    for (let i = 1; i < ranked.length; i++) expect(ranked[i]!.matchScore).toBeLessThanOrEqual(ranked[i - 1]!.matchScore);
  });
});
