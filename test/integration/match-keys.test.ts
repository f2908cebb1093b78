/**
 * The match pre-rank's stored inputs (issue 14): coach_profiles.expertise_topics (a generated
 * column) and coach_match_keys (rows per coach and country, kept by triggers) follow every write
 * of a coach profile, and the candidate statement gives the same candidates through
 * coach_match_keys as through coach_profiles.
 */
import { PgDialect } from "drizzle-orm/pg-core";
import { afterAll, describe, expect, it } from "vitest";
import { quizSchema } from "../../src/lib/quiz.ts";
import { candidateSql } from "../../src/services/matching/candidates.ts";
import { expertiseTopics } from "../../src/services/matching/expertise-topics.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { completeQuiz, createCoach } from "../helpers/fixtures.ts";

afterAll(async () => {
  await closeTestPool();
});

interface KeyRow {
  country: string;
  languages: string[];
  countries: string[];
  expertise_topics: string[];
  hourly_rate: string | null;
  rating: string;
  total_sessions: number;
}

const keysOf = async (profileId: string) =>
  query<KeyRow>(
    `SELECT country, languages, countries, expertise_topics, hourly_rate::text, rating::text, total_sessions
       FROM coach_match_keys WHERE coach_id = $1 ORDER BY country`,
    [profileId],
  );

describe("stored pre-rank inputs", () => {
  it("expertise_topics and coach_match_keys follow inserts, updates and deletes of coach profiles", async () => {
    const long = "x".repeat(70);
    const coach = await createCoach({
      countries: ["Spain", "France", long, "Spain"],
      expertise: ["Reverse culture shock", "Career change"],
      languages: ["English", "Spanish"],
      rating: 4.2,
      hourlyRate: 90,
    });
    const profileId = coach.profileId!;
    const [profile] = await query<{ expertise_topics: string[] }>("SELECT expertise_topics FROM coach_profiles WHERE id = $1", [
      profileId,
    ]);
    expect(profile!.expertise_topics).toEqual(expertiseTopics(["Reverse culture shock", "Career change"]));
    expect(profile!.expertise_topics).toEqual(["culture_shock", "career", "repatriation"]);

    // one row per distinct country; a 70-character "country" is left out
    let keys = await keysOf(profileId);
    expect(keys.map((key) => key.country)).toEqual(["France", "Spain"]);
    expect(keys[0]).toMatchObject({
      languages: ["English", "Spanish"],
      countries: ["Spain", "France", "Spain"],
      expertise_topics: ["culture_shock", "career", "repatriation"],
      hourly_rate: "90.00",
      rating: "4.20",
      total_sessions: 0,
    });

    // every copied column, in one update as PUT /profile or a review would write them
    await query(
      `UPDATE coach_profiles SET countries = ARRAY['Japan'], expertise = ARRAY['Family relocation'], languages = ARRAY['Japanese'],
              hourly_rate = 120, rating = 4.9, total_sessions = 7 WHERE id = $1`,
      [profileId],
    );
    keys = await keysOf(profileId);
    expect(keys).toEqual([
      {
        country: "Japan",
        languages: ["Japanese"],
        countries: ["Japan"],
        expertise_topics: ["family", "relocation"], // "relocation" is a weak synonym: a substring all the same
        hourly_rate: "120.00",
        rating: "4.90",
        total_sessions: 7,
      },
    ]);

    // an update of other columns leaves the rows alone
    const before = await query<{ ctid: string }>("SELECT ctid::text FROM coach_match_keys WHERE coach_id = $1", [profileId]);
    await query("UPDATE coach_profiles SET bio = 'New bio' WHERE id = $1", [profileId]);
    const after = await query<{ ctid: string }>("SELECT ctid::text FROM coach_match_keys WHERE coach_id = $1", [profileId]);
    expect(after).toEqual(before);

    // deleting the account removes the profile and its keys
    await query("DELETE FROM users WHERE id = $1", [coach.id]);
    expect(await keysOf(profileId)).toEqual([]);
  });

  it("the candidate statement ranks the same candidates through coach_match_keys as through coach_profiles", async () => {
    // A market of its own (a language no other test uses) large enough for the focus path.
    const language = "Latvian";
    const expertisePool = [
      ["Cultural integration"],
      ["Career change", "Job search"],
      ["Culture shock recovery"],
      ["Language learning", "Cultural integration"],
      ["Leadership"],
    ];
    const countryPool = [["Iceland"], ["Iceland", "Norway"], ["Norway"], ["iceland"], ["Denmark", "ICELAND"]];
    for (let i = 0; i < 260; i++) {
      await createCoach({
        languages: i % 7 === 0 ? [language] : [language, "English"],
        countries: countryPool[i % countryPool.length]!,
        expertise: expertisePool[i % expertisePool.length]!,
        hourlyRate: 40 + ((i * 37) % 200),
        rating: 3 + ((i * 13) % 200) / 100,
      });
    }
    const quiz = quizSchema.parse(
      completeQuiz({
        preferred_languages: [language],
        target_countries: ["Iceland"],
        current_country: "Norway",
        relocation_stage: "planning",
        cultural_goals: ["integrate into local culture"],
        specific_challenges: ["feeling lonely"],
        budget_range: { min: 0, max: 150 },
      }),
    );
    const dialect = new PgDialect();
    const run = async (focusFrom: "keys" | "profiles") => {
      const statement = dialect.sqlToQuery(candidateSql(quiz, { focusFrom }));
      return (await query<{ id: string; prescore: string }>(statement.sql, statement.params)).map(
        (row) => `${row.id}:${Number(row.prescore).toFixed(4)}`,
      );
    };
    const viaKeys = await run("keys");
    expect(viaKeys.length).toBeGreaterThan(150);
    expect(viaKeys).toEqual(await run("profiles"));
  }, 120_000);
});
