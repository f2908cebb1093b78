/**
 * Coach discovery over HTTP. The database is shared with every other test
 * file, so each test tags its coaches with a unique expertise entry (or a
 * unique country) and filters on it: totals and orders are then exact.
 */
import { afterAll, describe, expect, it } from "vitest";
import { expectEnvelope, get } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { accessToken, createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const LIST_ITEM_KEYS = [
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

function uniqueTag(prefix = "tag"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

async function setCoach(coach: TestUser, values: { total_sessions?: number; is_verified?: boolean; intro_video_url?: string }) {
  if (values.total_sessions !== undefined)
    await query(`UPDATE coach_profiles SET total_sessions = $2 WHERE user_id = $1`, [coach.id, values.total_sessions]);
  if (values.is_verified !== undefined)
    await query(`UPDATE coach_profiles SET is_verified = $2 WHERE user_id = $1`, [coach.id, values.is_verified]);
  if (values.intro_video_url !== undefined)
    await query(`UPDATE coach_profiles SET intro_video_url = $2 WHERE user_id = $1`, [coach.id, values.intro_video_url]);
}

async function viewer(): Promise<string> {
  return (await createClient()).token;
}

describe("GET /coaches", () => {
  describe("happy", () => {
    it("lists active coaches with a rate, ordered by rating desc, total_sessions desc, id, with the list-item shape", async () => {
      const tag = uniqueTag();
      const low = await createCoach({ expertise: [tag], rating: 3.5 });
      const highFew = await createCoach({ expertise: [tag], rating: 4.8 });
      const highMany = await createCoach({ expertise: [tag], rating: 4.8 });
      await setCoach(highMany, { total_sessions: 40, is_verified: true });
      await setCoach(highFew, { total_sessions: 2 });
      const tieA = await createCoach({ expertise: [tag], rating: 4.0 });
      const tieB = await createCoach({ expertise: [tag], rating: 4.0 });
      // invisible: inactive account, no rate
      const inactive = await createCoach({ expertise: [tag], rating: 5 });
      await query(`UPDATE users SET is_active = false WHERE id = $1`, [inactive.id]);
      await createCoach({ expertise: [tag], rating: 5, hourlyRate: null });

      const result = await get(`/coaches?expertise=${tag}`, { token: await viewer() });
      expect(result.status).toBe(200);
      expect(result.body.total).toBe(5);
      expect(result.body.skip).toBe(0);
      expect(result.body.limit).toBe(20);
      const ties = [tieA.profileId!, tieB.profileId!].sort();
      expect(result.body.items.map((item: { id: string }) => item.id)).toEqual([
        highMany.profileId,
        highFew.profileId,
        ...ties,
        low.profileId,
      ]);

      const first = result.body.items[0];
      expect(Object.keys(first).sort()).toEqual(LIST_ITEM_KEYS);
      expect(first).toMatchObject({
        user_id: highMany.id,
        hourly_rate: 100,
        currency: "USD",
        rating: 4.8,
        total_sessions: 40,
        is_verified: true,
        expertise: [tag],
      });
      expect(typeof first.hourly_rate).toBe("number");
      expect(typeof first.rating).toBe("number");
    });

    it("AND-s every filter: language (any case), country, expertise, min_rate, max_rate, min_rating", async () => {
      const tag = uniqueTag();
      const country = uniqueTag("Country");
      const match = await createCoach({
        expertise: [tag, "culture shock"],
        languages: ["Spanish", "English"],
        countries: [country, "Spain"],
        hourlyRate: 90,
        rating: 4.5,
      });
      await createCoach({ expertise: [tag], languages: ["English"], countries: [country], hourlyRate: 90, rating: 4.5 }); // no Spanish
      await createCoach({ expertise: [tag], languages: ["Spanish"], countries: ["France"], hourlyRate: 90, rating: 4.5 }); // wrong country
      await createCoach({ expertise: [tag], languages: ["Spanish"], countries: [country], hourlyRate: 200, rating: 4.5 }); // too expensive
      await createCoach({ expertise: [tag], languages: ["Spanish"], countries: [country], hourlyRate: 30, rating: 4.5 }); // too cheap
      await createCoach({ expertise: [tag], languages: ["Spanish"], countries: [country], hourlyRate: 90, rating: 3.9 }); // rating too low
      const token = await viewer();

      const all = await get(
        `/coaches?expertise=${tag}&language=spanish&country=${country}&min_rate=50&max_rate=100&min_rating=4`,
        { token },
      );
      expect(all.status).toBe(200);
      expect(all.body.total).toBe(1);
      expect(all.body.items.map((item: { id: string }) => item.id)).toEqual([match.profileId]);

      // repeated filters: all must be present
      const both = await get(`/coaches?expertise=${tag}&expertise=culture%20shock&language=Spanish&language=ENGLISH`, { token });
      expect(both.body.items.map((item: { id: string }) => item.id)).toEqual([match.profileId]);

      // bounds are inclusive
      const inclusive = await get(`/coaches?expertise=${tag}&min_rate=90&max_rate=90&min_rating=4.5`, { token });
      expect(inclusive.body.total).toBe(3);
    });

    it("paginates with skip/limit and reports the total on every page, also past the end", async () => {
      const tag = uniqueTag();
      for (let i = 0; i < 5; i++) await createCoach({ expertise: [tag], rating: 3 + i * 0.25 });
      const token = await viewer();
      const full = await get(`/coaches?expertise=${tag}&limit=100`, { token });
      const ids = full.body.items.map((item: { id: string }) => item.id);
      expect(ids).toHaveLength(5);

      const second = await get(`/coaches?expertise=${tag}&skip=2&limit=2`, { token });
      expect(second.body).toMatchObject({ total: 5, skip: 2, limit: 2 });
      expect(second.body.items.map((item: { id: string }) => item.id)).toEqual(ids.slice(2, 4));

      const past = await get(`/coaches?expertise=${tag}&skip=10&limit=2`, { token });
      expect(past.body).toMatchObject({ items: [], total: 5, skip: 10, limit: 2 });
      // one statement carries page and total, also past the end
      expect(second.headers.get("x-db-queries")).toBe("1");
      expect(past.headers.get("x-db-queries")).toBe("1");

      const none = await get(`/coaches?expertise=${uniqueTag()}`, { token });
      expect(none.body).toMatchObject({ items: [], total: 0 });
    });

    it("is open to every authenticated role", async () => {
      const tag = uniqueTag();
      await createCoach({ expertise: [tag] });
      for (const role of ["client", "coach", "admin"] as const) {
        const user = await createUser(role);
        const result = await get(`/coaches?expertise=${tag}`, { token: user.token });
        expect(result.status, role).toBe(200);
        expect(result.body.total, role).toBe(1);
      }
    });
  });

  describe("errors", () => {
    it.each([
      ["language=Klingon", "language"],
      ["min_rate=100&max_rate=50", "min_rate"],
      ["min_rate=-1", "min_rate"],
      ["max_rate=abc", "max_rate"],
      ["min_rating=5.5", "min_rating"],
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["skip=-1", "skip"],
      ["country=", "country"],
    ])("rejects %s with 400 VALIDATION_ERROR naming the field", async (search, field) => {
      const result = await get(`/coaches?${search}`, { token: await viewer() });
      const error = expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(JSON.stringify(error.details)).toContain(field);
    });
  });

  describe("security", () => {
    it("requires a valid bearer token, before looking at the query", async () => {
      expectEnvelope(await get("/coaches"), 401, "UNAUTHORIZED");
      expectEnvelope(await get("/coaches?language=Klingon"), 401, "UNAUTHORIZED");
      expectEnvelope(await get("/coaches", { token: "not-a-jwt" }), 401, "UNAUTHORIZED");
    });

    it("treats filter values as data: quotes and SQL fragments match nothing and break nothing", async () => {
      const token = await viewer();
      for (const value of ["' OR 1=1 --", '{"a"}', "x\\", "Spain'); DROP TABLE users; --"]) {
        const result = await get(`/coaches?country=${encodeURIComponent(value)}`, { token });
        expect(result.status, value).toBe(200);
        expect(result.body.total, value).toBe(0);
      }
    });
  });
});

describe("GET /coaches/{id}", () => {
  describe("happy", () => {
    it("returns the full profile by coach profile id and by user id", async () => {
      const coach = await createCoach({ languages: ["French"], countries: ["France"], expertise: ["repatriation"], rating: 4.2 });
      await setCoach(coach, { intro_video_url: "https://video.example/intro", is_verified: true, total_sessions: 7 });
      const token = await viewer();
      const byProfile = await get(`/coaches/${coach.profileId}`, { token });
      expect(byProfile.status).toBe(200);
      expect(byProfile.body).toMatchObject({
        id: coach.profileId,
        user_id: coach.id,
        intro_video_url: "https://video.example/intro",
        languages: ["French"],
        countries: ["France"],
        expertise: ["repatriation"],
        hourly_rate: 100,
        rating: 4.2,
        total_sessions: 7,
        is_verified: true,
      });
      expect(byProfile.body.availability).toMatchObject({ timezone: "UTC", monday: ["00:00-23:30"] });
      expect(byProfile.body.created_at).toMatch(/Z$/);
      expect(byProfile.headers.get("x-db-queries")).toBe("1");
      const byUser = await get(`/coaches/${coach.id}`, { token });
      expect(byUser.status).toBe(200);
      expect(byUser.body).toEqual(byProfile.body);
      // upper-case UUIDs are the same id
      expect((await get(`/coaches/${coach.id.toUpperCase()}`, { token })).body.id).toBe(coach.profileId);
    });

    it("shows a coach who has not set a rate yet (only the list requires one)", async () => {
      const coach = await createCoach({ hourlyRate: null });
      const result = await get(`/coaches/${coach.profileId}`, { token: await viewer() });
      expect(result.status).toBe(200);
      expect(result.body.hourly_rate).toBeNull();
    });
  });

  describe("errors", () => {
    it("answers 404 for an unknown id, an inactive coach, and a client's ids", async () => {
      const token = await viewer();
      expectEnvelope(await get(`/coaches/${crypto.randomUUID()}`, { token }), 404, "NOT_FOUND");
      const inactive = await createCoach();
      await query(`UPDATE users SET is_active = false WHERE id = $1`, [inactive.id]);
      expectEnvelope(await get(`/coaches/${inactive.profileId}`, { token }), 404, "NOT_FOUND");
      expectEnvelope(await get(`/coaches/${inactive.id}`, { token }), 404, "NOT_FOUND");
      const client = await createClient();
      expectEnvelope(await get(`/coaches/${client.id}`, { token }), 404, "NOT_FOUND");
      expectEnvelope(await get(`/coaches/${client.profileId}`, { token }), 404, "NOT_FOUND");
    });

    it("answers 400 for a malformed id", async () => {
      const token = await viewer();
      for (const id of ["123", "not-a-uuid", "0b9c3c3e-2f7e-4a59-9d43-2a4d7a1f2b1", "' or 1=1"]) {
        expectEnvelope(await get(`/coaches/${encodeURIComponent(id)}`, { token }), 400, "VALIDATION_ERROR");
      }
    });
  });

  describe("security", () => {
    it("requires authentication", async () => {
      const coach = await createCoach();
      expectEnvelope(await get(`/coaches/${coach.profileId}`), 401, "UNAUTHORIZED");
      const expired = await accessToken(coach.id, "coach", new Date(Date.now() - 3 * 24 * 3600 * 1000));
      expectEnvelope(await get(`/coaches/${coach.profileId}`, { token: expired }), 401, "UNAUTHORIZED");
    });
  });
});
