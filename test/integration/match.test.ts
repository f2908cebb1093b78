/**
 * POST /match, GET /match/cache/info, DELETE /match/cache over HTTP.
 *
 * The database is shared with every other test file (and, on a real
 * Postgres, with earlier runs), so each test gives its client a rare
 * preferred language and a unique target country and asserts on the coaches
 * it created itself: their relative order, presence and absence.
 */
import { afterAll, describe, expect, it } from "vitest";
import { type CallResult, del, expectEnvelope, get, type Json, post, put } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { accessToken, completeQuiz, createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const MATCH_ITEM_KEYS = ["coach", "confidence", "match_reasons", "match_score"];
const COACH_ITEM_KEYS = [
  "bio",
  "countries",
  "currency",
  "expertise",
  "first_name",
  "hourly_rate",
  "id",
  "is_verified",
  "languages",
  "last_name",
  "photo_url",
  "rating",
  "review_count",
  "total_sessions",
  "user_id",
].sort();

function uniqueCountry(): string {
  return `Country-${crypto.randomUUID().slice(0, 8)}`;
}

const MORNINGS = { timezone: "Europe/Madrid", monday: ["08:00-12:00"], wednesday: ["08:00-12:00"], friday: ["08:00-12:00"] };

/** A client whose quiz points at `language` and `country`, budget max 100. */
async function matchingClient(language: string, country: string, overrides: Record<string, unknown> = {}): Promise<TestUser> {
  return createClient({
    quiz: completeQuiz({
      preferred_languages: [language],
      target_countries: [country],
      cultural_goals: ["integrate into local culture"],
      specific_challenges: ["feeling lonely"],
      budget_range: { min: 40, max: 100 },
      preferred_times: ["morning"],
      timezone: "Europe/Madrid",
      ...overrides,
    }),
  });
}

function ids(result: CallResult): string[] {
  return result.body.matches.map((match: Json) => match.coach.id);
}

describe("POST /match", () => {
  describe("happy", () => {
    it("ranks the best-fitting coach first with the contract's shape, scores, confidence and concrete reasons", async () => {
      const country = uniqueCountry();
      const best = await createCoach({
        languages: ["Maltese", "English"],
        countries: [country],
        expertise: ["Cultural integration", "Culture shock"],
        hourlyRate: 90,
        rating: 4.6,
        availability: MORNINGS,
      });
      const middling = await createCoach({
        languages: ["Maltese"],
        countries: ["Peru"],
        expertise: ["Tax returns"],
        hourlyRate: 95,
        rating: 4.9,
        availability: { timezone: "UTC", sunday: ["22:00-23:00"] },
      });
      const client = await matchingClient("Maltese", country);

      const result = await post("/match", { limit: 50 }, { token: client.token });
      expect(result.status).toBe(200);
      expect(Object.keys(result.body).sort()).toEqual(["cached", "generated_at", "matches", "total_matches"]);
      expect(result.body.cached).toBe(false);
      expect(result.body.generated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(result.body.total_matches).toBe(result.body.matches.length);

      const order = ids(result);
      expect(order.indexOf(best.profileId!)).toBeGreaterThanOrEqual(0);
      expect(order.indexOf(best.profileId!)).toBeLessThan(order.indexOf(middling.profileId!));

      for (const match of result.body.matches) {
        expect(Object.keys(match).sort()).toEqual(MATCH_ITEM_KEYS);
        expect(Object.keys(match.coach).sort()).toEqual(COACH_ITEM_KEYS);
        expect(Number.isInteger(match.match_score)).toBe(true);
        expect(match.match_score).toBeGreaterThanOrEqual(0);
        expect(match.match_score).toBeLessThanOrEqual(100);
        expect(match.confidence).toBe(match.match_score >= 75 ? "high" : match.match_score >= 60 ? "medium" : "low");
        expect(match.match_reasons.length).toBeGreaterThanOrEqual(1);
        expect(match.match_reasons.length).toBeLessThanOrEqual(5);
      }
      const top = result.body.matches[order.indexOf(best.profileId!)];
      expect(top.coach).toMatchObject({ id: best.profileId, user_id: best.id, hourly_rate: 90, rating: 4.6, currency: "USD" });
      expect(top.match_reasons).toEqual(
        expect.arrayContaining(["Speaks Maltese", `Has lived and coached in ${country}`, "Within your budget ($90/h)"]),
      );
      expect(top.match_score).toBeGreaterThanOrEqual(60);
    });

    it("keeps the two ranking guarantees: no-language coaches below, >20 % over budget never above a within-budget coach", async () => {
      const country = uniqueCountry();
      const perfect = {
        countries: [country],
        expertise: ["Cultural integration", "Culture shock"],
        rating: 5,
        availability: MORNINGS,
      };
      const poorButShares = await createCoach({
        languages: ["Icelandic"],
        countries: ["Chad"],
        expertise: ["Tax returns"],
        hourlyRate: 100,
        rating: 1,
        availability: {},
      });
      const noLanguage = await createCoach({ languages: ["Catalan"], hourlyRate: 60, ...perfect });
      const tooExpensive = await createCoach({ languages: ["Icelandic"], hourlyRate: 121, ...perfect });
      const slightlyOver = await createCoach({ languages: ["Icelandic"], hourlyRate: 115, ...perfect });
      const client = await matchingClient("Icelandic", country);

      const result = await post("/match", { limit: 50 }, { token: client.token });
      expect(result.status).toBe(200);
      const order = ids(result);
      expect(order).not.toContain(tooExpensive.profileId);
      expect(order).toContain(slightlyOver.profileId); // up to 20 % over stays, with a partial budget score
      expect(order.indexOf(poorButShares.profileId!)).toBeGreaterThanOrEqual(0);
      // every coach speaking Icelandic comes before every coach who does not
      const speaks = result.body.matches.map((match: Json) => match.coach.languages.includes("Icelandic"));
      expect(speaks.indexOf(false) === -1 || speaks.slice(speaks.indexOf(false)).every((value: boolean) => !value)).toBe(true);
      if (order.includes(noLanguage.profileId!))
        expect(order.indexOf(noLanguage.profileId!)).toBeGreaterThan(order.indexOf(poorButShares.profileId!));
      for (const match of result.body.matches) expect(match.coach.hourly_rate).toBeLessThanOrEqual(120);
    });

    it("fills a short list with coaches who share no language, ranked after those who do", async () => {
      const country = uniqueCountry();
      const speaker = await createCoach({ languages: ["Tagalog"], countries: [country], hourlyRate: 80 });
      const client = await matchingClient("Tagalog", country);
      const result = await post("/match", { limit: 50 }, { token: client.token });
      const languages = result.body.matches.map((match: Json) => match.coach.languages.includes("Tagalog"));
      expect(ids(result)[0]).toBeDefined();
      expect(ids(result)).toContain(speaker.profileId);
      expect(languages.lastIndexOf(true)).toBeLessThan(languages.indexOf(false) === -1 ? Infinity : languages.indexOf(false));
      expect(result.body.matches.length).toBeGreaterThan(languages.filter(Boolean).length); // fillers present
    });

    it("honours limit (default 10) and serves every limit from one cached computation", async () => {
      const country = uniqueCountry();
      for (let i = 0; i < 3; i++) await createCoach({ languages: ["Welsh"], countries: [country], hourlyRate: 70 + i });
      const client = await matchingClient("Welsh", country);
      const first = await post("/match", undefined, { token: client.token }); // no body at all
      expect(first.status).toBe(200);
      expect(first.body.matches.length).toBeLessThanOrEqual(10);
      const one = await post("/match", { limit: 1 }, { token: client.token });
      expect(one.body.matches).toHaveLength(1);
      expect(one.body.cached).toBe(true);
      expect(one.body.matches[0]).toEqual(first.body.matches[0]);
    });

    it("is deterministic for the same data", async () => {
      const country = uniqueCountry();
      for (let i = 0; i < 4; i++)
        await createCoach({ languages: ["Lao"], countries: [country], hourlyRate: 60 + i * 5, rating: 4 });
      const client = await matchingClient("Lao", country);
      const first = await post("/match", { limit: 50 }, { token: client.token });
      const again = await post("/match", { limit: 50, force_refresh: true }, { token: client.token });
      expect(again.body.cached).toBe(false);
      expect(again.body.matches).toEqual(first.body.matches);
    });
  });

  describe("errors", () => {
    it("answers 400 with a clear message when the client has no profile or no quiz", async () => {
      const noProfile = await createUser("client");
      const error = expectEnvelope(await post("/match", {}, { token: noProfile.token }), 400, "VALIDATION_ERROR");
      expect(error.message).toMatch(/quiz/i);
      const emptyQuiz = await createClient({ quiz: null });
      expect(expectEnvelope(await post("/match", {}, { token: emptyQuiz.token }), 400, "VALIDATION_ERROR").message).toMatch(
        /quiz/i,
      );
    });

    it("answers 400 naming the missing factors of an incomplete quiz (old data)", async () => {
      const quiz = completeQuiz();
      delete quiz.relocation_stage;
      delete quiz.languages_learning;
      const client = await createClient({ quiz });
      const error = expectEnvelope(await post("/match", {}, { token: client.token }), 400, "VALIDATION_ERROR");
      expect(error.message).toMatch(/20/);
      const fields = error.details.errors.map((entry: Json) => entry.field);
      expect(fields).toEqual(expect.arrayContaining(["relocation_stage", "languages_learning"]));
    });

    it.each([[{ limit: 0 }], [{ limit: 51 }], [{ limit: "10" }], [{ limit: 2.5 }], [{ force_refresh: "yes" }]])(
      "rejects the body %j with 400",
      async (body) => {
        const client = await createClient();
        expectEnvelope(await post("/match", body, { token: client.token }), 400, "VALIDATION_ERROR");
      },
    );

    it("rejects malformed JSON with 400", async () => {
      const client = await createClient();
      const result = await post("/match", undefined, {
        token: client.token,
        rawBody: "{nope",
        headers: { "content-type": "application/json" },
      });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
    });
  });

  describe("security", () => {
    it("requires a token", async () => {
      expectEnvelope(await post("/match", {}), 401, "UNAUTHORIZED");
      expectEnvelope(await get("/match/cache/info"), 401, "UNAUTHORIZED");
      expectEnvelope(await del("/match/cache"), 401, "UNAUTHORIZED");
    });

    it("is for clients only: coaches and admins get 403, whatever their body", async () => {
      for (const role of ["coach", "admin"] as const) {
        const user = await createUser(role);
        expectEnvelope(await post("/match", {}, { token: user.token }), 403, "FORBIDDEN");
        expectEnvelope(await post("/match", { limit: 999 }, { token: user.token }), 403, "FORBIDDEN");
        expectEnvelope(await get("/match/cache/info", { token: user.token }), 403, "FORBIDDEN");
        expectEnvelope(await del("/match/cache", { token: user.token }), 403, "FORBIDDEN");
      }
    });

    it("never shares one client's cached matches with another", async () => {
      const country = uniqueCountry();
      await createCoach({ languages: ["Khmer"], countries: [country] });
      const a = await matchingClient("Khmer", country);
      const b = await matchingClient("Khmer", country);
      expect((await post("/match", {}, { token: a.token })).body.cached).toBe(false);
      expect((await post("/match", {}, { token: b.token })).body.cached).toBe(false);
      const infoA = await get("/match/cache/info", { token: a.token });
      const infoB = await get("/match/cache/info", { token: b.token });
      expect(infoA.body.cache_key).not.toBe(infoB.body.cache_key);
      expect(infoA.body.cache_key).toContain(a.id);
    });
  });
});

describe("match cache", () => {
  async function setup(language: string) {
    const country = uniqueCountry();
    const coach = await createCoach({ languages: [language], countries: [country], hourlyRate: 80 });
    const client = await matchingClient(language, country);
    return { coach, client, country };
  }

  it("serves a second request from the cache (cached: true, same generated_at, no database round trip)", async () => {
    const { client } = await setup("Mongolian");
    const first = await post("/match", {}, { token: client.token });
    expect(first.body.cached).toBe(false);
    expect(Number(first.headers.get("x-db-queries"))).toBe(3); // state, candidates, upsert
    const second = await post("/match", {}, { token: client.token });
    expect(second.body.cached).toBe(true);
    expect(second.body.generated_at).toBe(first.body.generated_at);
    expect(second.body.matches).toEqual(first.body.matches);
    expect(second.headers.get("x-db-queries")).toBe("0"); // the edge entry in KV (contract v2)
  });

  it("force_refresh (and the old use_cache: false) recompute", async () => {
    const { client } = await setup("Somali");
    const now = new Date();
    await post("/match", {}, { token: client.token, now });
    const later = new Date(now.getTime() + 60_000);
    const refreshed = await post("/match", { force_refresh: true }, { token: client.token, now: later });
    expect(refreshed.body.cached).toBe(false);
    expect(refreshed.body.generated_at).toBe(later.toISOString().replace(/\.\d{3}Z$/, "Z"));
    const legacy = await post("/match", { use_cache: false }, { token: client.token, now: new Date(later.getTime() + 60_000) });
    expect(legacy.body.cached).toBe(false);
    expect((await post("/match", {}, { token: client.token })).body.cached).toBe(true);
  });

  it("GET /match/cache/info reports the current key, existence and remaining TTL; DELETE /match/cache forgets it", async () => {
    const { client } = await setup("Pashto");
    const before = await get("/match/cache/info", { token: client.token });
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      cache_key: expect.stringMatching(new RegExp(`^match:v1:${client.id}:[0-9a-f]{24}:\\d+$`)),
      exists: false,
      ttl_seconds: null,
    });

    const now = new Date();
    await post("/match", {}, { token: client.token, now });
    const after = await get("/match/cache/info", { token: client.token, now: new Date(now.getTime() + 3600_000) });
    expect(after.body).toEqual({ cache_key: before.body.cache_key, exists: true, ttl_seconds: 23 * 3600 });
    const [row] = await query<{ cache_key: string; expires_at: Date }>(
      `SELECT cache_key, expires_at FROM match_cache WHERE client_id = $1`,
      [client.id],
    );
    expect(row!.cache_key).toBe(before.body.cache_key);
    expect(Math.abs(row!.expires_at.getTime() - (now.getTime() + 86_400_000))).toBeLessThan(2000);

    const cleared = await del("/match/cache", { token: client.token });
    expect(cleared.status).toBe(204);
    expect(cleared.text).toBe("");
    expect((await get("/match/cache/info", { token: client.token })).body).toMatchObject({ exists: false, ttl_seconds: null });
    expect(await query(`SELECT 1 FROM match_cache WHERE client_id = $1`, [client.id])).toHaveLength(0);
    expect((await post("/match", {}, { token: client.token })).body.cached).toBe(false);
    // deleting when nothing is cached is still 204
    expect((await del("/match/cache", { token: client.token })).status).toBe(204);
    expect((await del("/match/cache", { token: client.token })).status).toBe(204);
  });

  it("reports a null key while the quiz is incomplete", async () => {
    const client = await createClient({ quiz: null });
    expect((await get("/match/cache/info", { token: client.token })).body).toEqual({
      cache_key: null,
      exists: false,
      ttl_seconds: null,
    });
  });

  it("is invalidated by a quiz change, and a reverted quiz does not resurrect the old entry", async () => {
    const { client, country } = await setup("Sinhala");
    const [original] = await query<{ quiz_data: unknown }>(`SELECT quiz_data FROM client_profiles WHERE user_id = $1`, [
      client.id,
    ]);
    await post("/match", {}, { token: client.token });
    const key = (await get("/match/cache/info", { token: client.token })).body.cache_key;

    // Through the API, the only writer the edge entry hears of (a direct SQL change is noticed on an edge miss only).
    const changed = completeQuiz({ preferred_languages: ["Sinhala"], target_countries: [country], timeline_urgency: 5 });
    expect((await put("/profile", { quiz_data: changed }, { token: client.token })).status).toBe(200);
    const info = await get("/match/cache/info", { token: client.token });
    expect(info.body.cache_key).not.toBe(key);
    expect(info.body.exists).toBe(false);
    expect((await post("/match", {}, { token: client.token })).body.cached).toBe(false);
    expect((await post("/match", {}, { token: client.token })).body.cached).toBe(true);

    // Back to the first quiz: its KV entry still exists, but the row (the authority) now holds the second key.
    expect((await put("/profile", { quiz_data: original!.quiz_data }, { token: client.token })).status).toBe(200);
    expect((await get("/match/cache/info", { token: client.token })).body).toMatchObject({ cache_key: key, exists: false });
    expect((await post("/match", {}, { token: client.token })).body.cached).toBe(false);
  });

  it("is invalidated by a quiz change made through PUT /profile", async () => {
    const { client, country } = await setup("Yoruba");
    await post("/match", {}, { token: client.token });
    const updated = await put(
      "/profile",
      { quiz_data: completeQuiz({ preferred_languages: ["Yoruba"], target_countries: [country], coaching_style: "structured" }) },
      { token: client.token },
    );
    expect(updated.status).toBe(200);
    expect((await post("/match", {}, { token: client.token })).body.cached).toBe(false);
  });

  it("is invalidated by any coach change (coaches version), e.g. a coach's new rate via PUT /profile", async () => {
    const { client, coach } = await setup("Zulu");
    const first = await post("/match", { limit: 50 }, { token: client.token });
    expect(first.body.matches.find((match: Json) => match.coach.id === coach.profileId).coach.hourly_rate).toBe(80);

    // Any other coach's change through the API (it bumps the coaches version and the edge data version).
    const other = await createCoach({ languages: ["Zulu"] });
    expect((await put("/profile", { bio: "A new bio" }, { token: other.token })).status).toBe(200);
    expect((await post("/match", {}, { token: client.token })).body.cached).toBe(false);
    expect((await post("/match", {}, { token: client.token })).body.cached).toBe(true);

    const changed = await put("/profile", { hourly_rate: 85 }, { token: coach.token });
    expect(changed.status).toBe(200);
    const after = await post("/match", { limit: 50 }, { token: client.token });
    expect(after.body.cached).toBe(false);
    expect(after.body.matches.find((match: Json) => match.coach.id === coach.profileId).coach.hourly_rate).toBe(85);
  });

  it("expires after 24 hours (by the request clock)", async () => {
    const { client } = await setup("Xhosa");
    const now = new Date();
    await post("/match", {}, { token: client.token, now });
    const almost = new Date(now.getTime() + 23.9 * 3600_000);
    expect((await post("/match", {}, { token: client.token, now: almost })).body.cached).toBe(true);
    const past = new Date(now.getTime() + 24 * 3600_000 + 1000);
    const token = await accessToken(client.id, "client", past);
    expect((await get("/match/cache/info", { token, now: past })).body).toMatchObject({ exists: false, ttl_seconds: null });
    expect((await post("/match", {}, { token, now: past })).body.cached).toBe(false);
  });
});
