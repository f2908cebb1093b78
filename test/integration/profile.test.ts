/**
 * GET /profile and PUT /profile: happy, error and security cases.
 */
import { afterAll, describe, expect, it } from "vitest";
import { expectEnvelope, get, type Json, put } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { completeQuiz, createClient, createCoach, createUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const CLIENT_KEYS = [
  "created_at",
  "first_name",
  "id",
  "last_name",
  "phone",
  "photo_url",
  "preferences",
  "quiz_data",
  "timezone",
  "updated_at",
  "user_id",
];
const COACH_KEYS = [
  "availability",
  "bio",
  "countries",
  "created_at",
  "currency",
  "expertise",
  "first_name",
  "hourly_rate",
  "id",
  "intro_video_url",
  "is_verified",
  "languages",
  "last_name",
  "photo_url",
  "rating",
  "review_count",
  "total_sessions",
  "updated_at",
  "user_id",
];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

async function coachesVersion(): Promise<number> {
  const [row] = await query<{ value: string }>("SELECT value FROM app_counters WHERE name = 'coaches_version'");
  return Number(row?.value ?? 0);
}

function errorFields(body: Json): string[] {
  return (body.error.details.errors as Json[]).map((error) => error.field);
}

describe("GET /profile", () => {
  describe("happy", () => {
    it("answers a client without a profile yet with profile null", async () => {
      const user = await createUser("client");
      const result = await get("/profile", { token: user.token });
      expect(result.status).toBe(200);
      expect(result.body).toEqual({
        user_id: user.id,
        email: user.email,
        role: "client",
        is_active: true,
        email_verified: true,
        profile: null,
      });
    });

    it("answers a coach's profile with exactly the contract's fields, money as numbers", async () => {
      const coach = await createCoach({ hourlyRate: 120.5, rating: 4.25, languages: ["Spanish", "English"] });
      const result = await get("/profile", { token: coach.token });
      expect(result.status).toBe(200);
      const profile = result.body.profile;
      expect(Object.keys(profile).sort()).toEqual(COACH_KEYS);
      expect(profile).toMatchObject({
        id: coach.profileId,
        user_id: coach.id,
        hourly_rate: 120.5,
        rating: 4.25,
        currency: "USD",
        languages: ["Spanish", "English"],
        total_sessions: 0,
        is_verified: false,
      });
      expect(profile.created_at).toMatch(ISO);
    });

    it("answers a client's profile with exactly the contract's fields", async () => {
      const client = await createClient();
      const result = await get("/profile", { token: client.token });
      expect(Object.keys(result.body.profile).sort()).toEqual(CLIENT_KEYS);
      expect(result.body.profile.quiz_data).toEqual(completeQuiz());
    });

    it("answers an admin with profile null", async () => {
      const admin = await createUser("admin");
      const result = await get("/profile", { token: admin.token });
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ role: "admin", profile: null });
    });
  });

  describe("security", () => {
    it("needs a token (401) and never shows a password hash", async () => {
      expectEnvelope(await get("/profile"), 401, "UNAUTHORIZED");
      const user = await createUser("coach");
      const result = await get("/profile", { token: user.token });
      expect(result.text).not.toContain("password");
      expect(result.text).not.toContain("$2");
    });
  });
});

describe("PUT /profile (client)", () => {
  describe("happy", () => {
    it("creates the profile on the first PUT and answers the profile object", async () => {
      const user = await createUser("client");
      const result = await put(
        "/profile",
        {
          first_name: " Ana ",
          last_name: "García",
          phone: "+34 600 123 456",
          timezone: "Europe/Madrid",
          quiz_data: completeQuiz({ preferred_languages: ["spanish", "ENGLISH"] }),
          preferences: { newsletter: true },
        },
        { token: user.token },
      );
      expect(result.status, result.text).toBe(200);
      expect(Object.keys(result.body).sort()).toEqual(CLIENT_KEYS);
      expect(result.body).toMatchObject({
        user_id: user.id,
        first_name: "Ana",
        last_name: "García",
        phone: "+34 600 123 456",
        timezone: "Europe/Madrid",
        photo_url: null,
        preferences: { newsletter: true },
      });
      // languages canonicalised
      expect(result.body.quiz_data.preferred_languages).toEqual(["Spanish", "English"]);
      const [row] = await query<{ n: string }>("SELECT count(*) AS n FROM client_profiles WHERE user_id = $1", [user.id]);
      expect(Number(row?.n)).toBe(1);
    });

    it("updates partially: absent fields stay, null clears", async () => {
      const client = await createClient({ firstName: "Kept" });
      await put("/profile", { phone: "+49 30 1234567" }, { token: client.token });
      const result = await put("/profile", { last_name: "Changed", phone: null }, { token: client.token });
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ first_name: "Kept", last_name: "Changed", phone: null, timezone: "Europe/Madrid" });
      expect(result.body.quiz_data).toEqual(completeQuiz());
      expect(result.body.id).toBe(client.profileId);
    });

    it("replaces the quiz when a complete new one is sent", async () => {
      const client = await createClient();
      const quiz = completeQuiz({ timeline_urgency: 5, preferred_times: ["evening", "weekend"], languages_learning: [] });
      const result = await put("/profile", { quiz_data: quiz }, { token: client.token });
      expect(result.status).toBe(200);
      expect(result.body.quiz_data).toEqual(quiz);
    });
  });

  describe("error", () => {
    it("refuses a quiz missing one of the 20 factors, naming it, and changes nothing", async () => {
      const client = await createClient();
      const quiz = completeQuiz();
      delete quiz.communication_style;
      const result = await put("/profile", { first_name: "Changed", quiz_data: quiz }, { token: client.token });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(errorFields(result.body)).toContain("quiz_data.communication_style");
      const [row] = await query<{ first_name: string; quiz_data: Json }>(
        "SELECT first_name, quiz_data FROM client_profiles WHERE user_id = $1",
        [client.id],
      );
      expect(row?.first_name).toBe("Test");
      expect(row?.quiz_data).toEqual(completeQuiz());
    });

    it.each([
      ["family_status", "divorced"],
      ["timeline_urgency", 6],
      ["budget_range", { min: 200, max: 100 }],
      ["preferred_languages", ["Klingon"]],
      ["preferred_languages", []],
      ["preferred_session_duration", 45],
      ["preferred_times", ["night"]],
      ["timezone", "Mars/Olympus"],
      ["previous_expat_experience", "yes"],
      ["target_countries", []],
    ])("refuses the quiz factor %s = %j", async (factor, value) => {
      const client = await createClient();
      const result = await put("/profile", { quiz_data: completeQuiz({ [factor]: value }) }, { token: client.token });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(errorFields(result.body).some((field) => field.startsWith(`quiz_data.${factor}`))).toBe(true);
    });

    it.each([
      [{ timezone: "Europe/Atlantis" }, "timezone"],
      [{ phone: "call me maybe" }, "phone"],
      [{ phone: "+1 234 567 890 123 456 789" }, "phone"],
      [{ first_name: "x".repeat(101) }, "first_name"],
      [{ first_name: "   " }, "first_name"],
      [{ preferences: "dark mode" }, "preferences"],
    ])("refuses %j", async (body, field) => {
      const client = await createClient();
      const result = await put("/profile", body, { token: client.token });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(errorFields(result.body)).toContain(field);
    });

    it("refuses coach fields from a client", async () => {
      const client = await createClient();
      const result = await put("/profile", { bio: "I am a client", hourly_rate: 100 }, { token: client.token });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(errorFields(result.body).sort()).toEqual(["bio", "hourly_rate"]);
    });
  });
});

describe("PUT /profile (coach)", () => {
  describe("happy", () => {
    it("creates a coach profile, canonicalises languages, answers money as numbers and bumps the coaches version", async () => {
      const user = await createUser("coach");
      const before = await coachesVersion();
      const availability = { timezone: "Europe/Madrid", monday: ["09:00-12:00", "14:00-17:30"], friday: ["10:00-11:00"] };
      const result = await put(
        "/profile",
        {
          first_name: "Carmen",
          last_name: "Ruiz",
          bio: "Helping expats settle in Spain.",
          intro_video_url: "https://video.example/intro",
          expertise: ["relocation", " career "],
          languages: ["spanish", "English", "Spanish"],
          countries: ["Spain", "Mexico"],
          hourly_rate: 99.5,
          currency: "eur",
          availability,
        },
        { token: user.token },
      );
      expect(result.status, result.text).toBe(200);
      expect(Object.keys(result.body).sort()).toEqual(COACH_KEYS);
      expect(result.body).toMatchObject({
        user_id: user.id,
        first_name: "Carmen",
        hourly_rate: 99.5,
        currency: "EUR",
        languages: ["Spanish", "English"],
        expertise: ["relocation", "career"],
        availability,
        rating: 0,
        total_sessions: 0,
        is_verified: false,
        photo_url: null,
      });
      expect(await coachesVersion()).toBeGreaterThan(before);
    });

    it("updates partially and bumps the coaches version on every change", async () => {
      const coach = await createCoach({ hourlyRate: 100, languages: ["English"] });
      const before = await coachesVersion();
      const result = await put("/profile", { hourly_rate: 25 }, { token: coach.token });
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ hourly_rate: 25, languages: ["English"], bio: "Intercultural coach" });
      expect(await coachesVersion()).toBeGreaterThan(before);
      const upper = await put("/profile", { hourly_rate: 500, bio: null }, { token: coach.token });
      expect(upper.body).toMatchObject({ hourly_rate: 500, bio: null });
    });
  });

  describe("error", () => {
    it.each([
      [{ hourly_rate: 24.99 }, "hourly_rate"],
      [{ hourly_rate: 500.01 }, "hourly_rate"],
      [{ hourly_rate: "120" }, "hourly_rate"],
      [{ languages: ["English", "Elvish"] }, "languages.1"],
      [{ intro_video_url: "javascript:alert(1)" }, "intro_video_url"],
      [{ intro_video_url: "not a url" }, "intro_video_url"],
      [{ currency: "EURO" }, "currency"],
      [{ bio: "x".repeat(5001) }, "bio"],
      [{ expertise: Array.from({ length: 21 }, (_, i) => `topic ${i}`) }, "expertise"],
      [{ countries: [""] }, "countries.0"],
      [{ availability: { monday: ["09:00-10:15"] } }, "availability.monday.0"],
      [{ availability: { monday: ["09:00-11:00", "10:30-12:00"] } }, "availability.monday"],
      [{ availability: { monday: ["12:00-09:00"] } }, "availability.monday.0"],
      [{ availability: { funday: ["09:00-10:00"] } }, "availability.funday"],
      [{ availability: { timezone: "Nowhere/Town" } }, "availability.timezone"],
    ])("refuses %j naming the field, and changes nothing", async (body, field) => {
      const coach = await createCoach({ hourlyRate: 100 });
      const result = await put("/profile", body, { token: coach.token });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(errorFields(result.body)).toContain(field);
      const [row] = await query<{ hourly_rate: string; bio: string }>(
        "SELECT hourly_rate, bio FROM coach_profiles WHERE user_id = $1",
        [coach.id],
      );
      expect(Number(row?.hourly_rate)).toBe(100);
      expect(row?.bio).toBe("Intercultural coach");
    });

    it("refuses client fields from a coach", async () => {
      const coach = await createCoach();
      const result = await put("/profile", { quiz_data: completeQuiz() }, { token: coach.token });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(errorFields(result.body)).toEqual(["quiz_data"]);
    });

    it("refuses a body that is not an object", async () => {
      const coach = await createCoach();
      expectEnvelope(await put("/profile", ["bio"], { token: coach.token }), 400, "VALIDATION_ERROR");
    });
  });

  describe("security", () => {
    it.each([
      { rating: 5 },
      { is_verified: true },
      { total_sessions: 1000 },
      { user_id: "00000000-0000-0000-0000-000000000000" },
      { id: "00000000-0000-0000-0000-000000000000" },
      { photo_url: "https://evil.example/x.png" },
      { created_at: "2000-01-01T00:00:00Z" },
    ])("refuses the read-only field %j (no mass assignment) and changes nothing", async (body) => {
      const coach = await createCoach({ rating: 3 });
      const result = await put("/profile", { first_name: "Sneaky", ...body }, { token: coach.token });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(errorFields(result.body)).toEqual(Object.keys(body));
      const [row] = await query<{
        rating: string;
        is_verified: boolean;
        total_sessions: number;
        first_name: string;
        photo_url: string | null;
      }>("SELECT rating, is_verified, total_sessions, first_name, photo_url FROM coach_profiles WHERE user_id = $1", [coach.id]);
      expect(row).toMatchObject({ is_verified: false, total_sessions: 0, first_name: "Test", photo_url: null });
      expect(Number(row?.rating)).toBe(3);
    });

    it("refuses admins (403) and anonymous callers (401)", async () => {
      const admin = await createUser("admin");
      expectEnvelope(await put("/profile", { first_name: "Root" }, { token: admin.token }), 403, "FORBIDDEN");
      expectEnvelope(await put("/profile", { first_name: "Nobody" }), 401, "UNAUTHORIZED");
    });
  });
});
