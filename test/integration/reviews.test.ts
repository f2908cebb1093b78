/**
 * Reviews (contract v2) over HTTP against the Worker: POST /booking/{id}/review,
 * GET /coaches/{id}/reviews, DELETE /admin/reviews/{id}; the coach's rating and
 * review_count, the coaches version, the audit trail. Happy, error and security
 * (BOLA) cases; the concurrency cases need a real Postgres (TEST_DATABASE_URL).
 */
import { afterAll, describe, expect, it } from "vitest";
import { CoachReviewSchema, ReviewSchema } from "../../src/contract/reviews.ts";
import { del, expectEnvelope, get, type Json, post } from "../helpers/api.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const DAY = 86_400_000;
const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

/** A booking straight in the database (sessions in the past cannot be booked over HTTP). */
async function insertBooking(
  client: TestUser,
  coach: TestUser,
  options: { status?: string; endedDaysAgo?: number; start?: Date } = {},
): Promise<{ id: string; end: Date }> {
  const start = options.start ?? new Date(Date.now() - (options.endedDaysAgo ?? 2) * DAY - 60 * 60_000);
  const [row] = await query<{ id: string }>(
    `insert into bookings (client_id, coach_id, session_datetime, duration_minutes, status)
     values ($1, $2, $3, 60, $4) returning id`,
    [client.id, coach.id, start.toISOString(), options.status ?? "completed"],
  );
  return { id: (row as { id: string }).id, end: new Date(start.getTime() + 60 * 60_000) };
}

async function coachRow(coach: TestUser): Promise<{ rating: string; review_count: number; rating_sum: number }> {
  const [row] = await query<{ rating: string; review_count: number; rating_sum: number }>(
    `select rating::text, review_count, rating_sum from coach_profiles where user_id = $1`,
    [coach.id],
  );
  return row as { rating: string; review_count: number; rating_sum: number };
}

async function coachesVersion(): Promise<number> {
  const [row] = await query<{ value: string }>(`select value from app_counters where name = 'coaches_version'`);
  return Number(row?.value ?? 0);
}

async function review(client: TestUser, bookingId: string, body: Json) {
  return post(`/booking/${bookingId}/review`, body, { token: client.token });
}

describe("POST /booking/{id}/review", () => {
  describe("happy", () => {
    it("a completed booking's client reviews it: 201 with the contract shape; the coach's rating becomes the mean", async () => {
      const name = `Rev${crypto.randomUUID().slice(0, 8)}`;
      const coach = await createCoach({ rating: 4.9, firstName: name });
      const client = await createClient({ firstName: "Lucia" });
      const booking = await insertBooking(client, coach);
      const before = await coachesVersion();

      const result = await review(client, booking.id, { rating: 3, comment: "Helpful <b>and</b> kind" });
      expect(result.status, result.text).toBe(201);
      const body = ReviewSchema.strict().parse(result.body);
      expect(body).toMatchObject({ booking_id: booking.id, coach_id: coach.id, rating: 3, comment: "Helpful <b>and</b> kind" });
      expect(body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      // The imported 4.9 gives way to the mean of the reviews.
      expect(await coachRow(coach)).toEqual({ rating: "3.00", review_count: 1, rating_sum: 3 });
      expect(await coachesVersion()).toBeGreaterThan(before);

      const second = await insertBooking(client, coach, { endedDaysAgo: 5 });
      expect((await review(client, second.id, { rating: 4 })).status).toBe(201);
      const third = await insertBooking(client, coach, { endedDaysAgo: 9 });
      expect((await review(client, third.id, { rating: 4 })).status).toBe(201);
      // (3 + 4 + 4) / 3 = 3.666... -> 3.67
      expect(await coachRow(coach)).toMatchObject({ rating: "3.67", review_count: 3 });

      const profile = await get(`/coaches/${coach.profileId}`, { token: client.token });
      expect(profile.body).toMatchObject({ rating: 3.67, review_count: 3 });
      const listed = await get(`/coaches?q=${name}`, { token: client.token });
      expect(listed.status, listed.text).toBe(200);
      expect(listed.body.items).toHaveLength(1);
      expect(listed.body.items[0]).toMatchObject({ id: coach.profileId, rating: 3.67, review_count: 3 });
    });

    it("accepts a review without a comment, a 2,000-character comment and the last day of the window", async () => {
      const coach = await createCoach();
      const client = await createClient();
      const plain = await insertBooking(client, coach);
      const plainResult = await review(client, plain.id, { rating: 5 });
      expect(plainResult.status, plainResult.text).toBe(201);
      expect(plainResult.body.comment).toBeNull();

      const long = await insertBooking(client, coach, { endedDaysAgo: 3 });
      // 2,000 characters as Postgres counts them: emoji are one character each.
      const comment = "😀".repeat(1000) + "a".repeat(1000);
      const longResult = await review(client, long.id, { rating: 4, comment });
      expect(longResult.status, longResult.text).toBe(201);
      expect(longResult.body.comment).toBe(comment);

      // Ended 60 days less 5 minutes ago: still inside the window.
      const edge = await insertBooking(client, coach, { start: new Date(Date.now() - 60 * DAY - 55 * 60_000) });
      const edgeResult = await review(client, edge.id, { rating: 2 });
      expect(edgeResult.status, edgeResult.text).toBe(201);
    });
  });

  describe("errors", () => {
    it("400 for a booking that is not completed (pending, confirmed, cancelled)", async () => {
      const coach = await createCoach();
      const client = await createClient();
      for (const status of ["pending", "confirmed", "cancelled"]) {
        const days = { pending: 3, confirmed: 6, cancelled: -3 }[status] as number;
        const booking = await insertBooking(client, coach, { status, start: new Date(Date.now() + days * DAY) });
        const error = expectEnvelope(await review(client, booking.id, { rating: 5 }), 400, "VALIDATION_ERROR");
        expect(error.details.reason).toBe("booking_not_completed");
      }
      expect((await coachRow(coach)).review_count).toBe(0);
    });

    it("400 more than 60 days after the session ended", async () => {
      const coach = await createCoach();
      const client = await createClient();
      // Ended 60 days and 5 minutes ago.
      const booking = await insertBooking(client, coach, { start: new Date(Date.now() - 60 * DAY - 65 * 60_000) });
      const error = expectEnvelope(await review(client, booking.id, { rating: 5 }), 400, "VALIDATION_ERROR");
      expect(error.details.reason).toBe("review_window_closed");
    });

    it("409 for a second review of the same booking; the rating counts the first only", async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await insertBooking(client, coach);
      expect((await review(client, booking.id, { rating: 2 })).status).toBe(201);
      const error = expectEnvelope(await review(client, booking.id, { rating: 5 }), 409, "CONFLICT");
      expect(error.details.reason).toBe("already_reviewed");
      expect(await coachRow(coach)).toMatchObject({ rating: "2.00", review_count: 1 });
    });

    it("404 for an unknown booking, 400 for a malformed id", async () => {
      const client = await createClient();
      expectEnvelope(await review(client, UNKNOWN_ID, { rating: 5 }), 404, "NOT_FOUND");
      expectEnvelope(await review(client, "not-a-uuid", { rating: 5 }), 400, "VALIDATION_ERROR");
    });

    it("400 for invalid bodies: rating outside 1-5 or not an integer, empty or too long comment, NUL, unknown keys", async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await insertBooking(client, coach);
      const bodies: Json[] = [
        {},
        { rating: 0 },
        { rating: 6 },
        { rating: 4.5 },
        { rating: "5" },
        { rating: 5, comment: "" },
        { rating: 5, comment: "a".repeat(2001) },
        { rating: 5, comment: "nul \u0000 inside" },
        { rating: 5, comment: "lone \ud800 surrogate" },
        { rating: 5, author: "someone else" },
      ];
      for (const body of bodies) {
        expectEnvelope(await review(client, booking.id, body), 400, "VALIDATION_ERROR");
      }
      expect((await coachRow(coach)).review_count).toBe(0);
    });
  });

  describe("security", () => {
    it("403 for anyone but the booking's client, whatever the state: another client, the coach, an admin", async () => {
      const coach = await createCoach();
      const client = await createClient();
      const stranger = await createClient();
      const admin = await createUser("admin");
      const completed = await insertBooking(client, coach);
      const pending = await insertBooking(client, coach, { status: "pending", start: new Date(Date.now() + 30 * DAY) });
      for (const booking of [completed, pending]) {
        for (const caller of [stranger, coach, admin]) {
          expectEnvelope(await review(caller, booking.id, { rating: 1 }), 403, "FORBIDDEN");
        }
      }
      expect(await coachRow(coach)).toMatchObject({ review_count: 0 });
    });

    it("401 without a token", async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await insertBooking(client, coach);
      expectEnvelope(await post(`/booking/${booking.id}/review`, { rating: 5 }), 401, "UNAUTHORIZED");
    });
  });
});

describe("GET /coaches/{id}/reviews", () => {
  it("happy: newest first, author's first name only, paginated, total = review_count; by profile or user id", async () => {
    const coach = await createCoach();
    const authors = [await createClient({ firstName: "Ana" }), await createClient({ firstName: "Ben" })];
    const ids: string[] = [];
    for (const [index, author] of [authors[0]!, authors[1]!, authors[0]!].entries()) {
      const booking = await insertBooking(author, coach, { endedDaysAgo: 10 - index });
      const when = new Date(Date.now() - (10 - index) * 60_000);
      const result = await post(
        `/booking/${booking.id}/review`,
        { rating: 5 - index, comment: `review ${index}` },
        { token: author.token, now: when },
      );
      expect(result.status, result.text).toBe(201);
      ids.push(result.body.id);
    }
    const viewer = await createClient();
    const page = await get(`/coaches/${coach.profileId}/reviews?limit=2`, { token: viewer.token });
    expect(page.status, page.text).toBe(200);
    expect(page.body).toMatchObject({ total: 3, skip: 0, limit: 2 });
    expect(page.body.items.map((item: Json) => item.id)).toEqual([ids[2], ids[1]]);
    const first = CoachReviewSchema.strict().parse(page.body.items[0]);
    expect(first).toMatchObject({ rating: 3, comment: "review 2", author: { first_name: "Ana" } });
    expect(Object.keys(first.author)).toEqual(["first_name"]);

    const rest = await get(`/coaches/${coach.id}/reviews?skip=2&limit=2`, { token: coach.token });
    expect(rest.body.items.map((item: Json) => item.id)).toEqual([ids[0]]);
    expect(rest.body.total).toBe(3);
  });

  it("errors: 404 for an unknown or inactive coach, 400 for a malformed id or a bad limit", async () => {
    const viewer = await createClient();
    expectEnvelope(await get(`/coaches/${UNKNOWN_ID}/reviews`, { token: viewer.token }), 404, "NOT_FOUND");
    const inactive = await createCoach();
    await query(`update users set is_active = false where id = $1`, [inactive.id]);
    expectEnvelope(await get(`/coaches/${inactive.id}/reviews`, { token: viewer.token }), 404, "NOT_FOUND");
    expectEnvelope(await get(`/coaches/nope/reviews`, { token: viewer.token }), 400, "VALIDATION_ERROR");
    const coach = await createCoach();
    expectEnvelope(await get(`/coaches/${coach.id}/reviews?limit=101`, { token: viewer.token }), 400, "VALIDATION_ERROR");
  });

  it("security: 401 without a token", async () => {
    const coach = await createCoach();
    expectEnvelope(await get(`/coaches/${coach.id}/reviews`), 401, "UNAUTHORIZED");
  });
});

describe("DELETE /admin/reviews/{id}", () => {
  it("happy: removes one review, recomputes the rating, restores the imported rating after the last, audits", async () => {
    const coach = await createCoach({ rating: 4.2 });
    const client = await createClient();
    const admin = await createUser("admin");
    const a = await insertBooking(client, coach, { endedDaysAgo: 2 });
    const b = await insertBooking(client, coach, { endedDaysAgo: 3 });
    const ra = (await review(client, a.id, { rating: 1, comment: "spam spam" })).body;
    const rb = (await review(client, b.id, { rating: 4 })).body;
    expect(await coachRow(coach)).toMatchObject({ rating: "2.50", review_count: 2 });

    const version = await coachesVersion();
    const removed = await del(`/admin/reviews/${ra.id}`, { token: admin.token });
    expect(removed.status, removed.text).toBe(204);
    expect(await coachRow(coach)).toEqual({ rating: "4.00", review_count: 1, rating_sum: 4 });
    expect(await coachesVersion()).toBeGreaterThan(version);
    const listed = await get(`/coaches/${coach.id}/reviews`, { token: client.token });
    expect(listed.body.items.map((item: Json) => item.id)).toEqual([rb.id]);

    const audit = await get(`/admin/audit-log?actor_id=${admin.id}&action=review.delete`, { token: admin.token });
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.items[0]).toMatchObject({
      actor_id: admin.id,
      action: "review.delete",
      target_type: "review",
      target_id: ra.id,
      details: { booking_id: a.id, coach_id: coach.id, rating: 1, comment: "spam spam", coach_review_count_after: 1 },
    });

    expect((await del(`/admin/reviews/${rb.id}`, { token: admin.token })).status).toBe(204);
    // No review left: the imported rating stands again.
    expect(await coachRow(coach)).toEqual({ rating: "4.20", review_count: 0, rating_sum: 0 });
    // Its one review removed, the booking can be reviewed again.
    expect((await review(client, a.id, { rating: 5 })).status).toBe(201);
  });

  it("errors: 404 for an unknown review (also when deleted twice), 400 for a malformed id", async () => {
    const admin = await createUser("admin");
    expectEnvelope(await del(`/admin/reviews/${UNKNOWN_ID}`, { token: admin.token }), 404, "NOT_FOUND");
    expectEnvelope(await del(`/admin/reviews/xyz`, { token: admin.token }), 400, "VALIDATION_ERROR");
  });

  it("security: 403 for the review's author, the coach and other clients; 401 anonymous; nothing removed", async () => {
    const coach = await createCoach();
    const client = await createClient();
    const booking = await insertBooking(client, coach);
    const created = (await review(client, booking.id, { rating: 5 })).body;
    for (const caller of [client, coach, await createClient()]) {
      expectEnvelope(await del(`/admin/reviews/${created.id}`, { token: caller.token }), 403, "FORBIDDEN");
    }
    expectEnvelope(await del(`/admin/reviews/${created.id}`), 401, "UNAUTHORIZED");
    expect((await coachRow(coach)).review_count).toBe(1);
  });
});

describe.runIf(isRealPostgres())("concurrency (real Postgres)", () => {
  it("simultaneous reviews of one coach: review_count and the rating are the exact count and mean", async () => {
    const coach = await createCoach({ rating: 1 });
    const ratings = Array.from({ length: 24 }, (_, index) => 1 + ((index * 7) % 5));
    const clients = await Promise.all(ratings.map(() => createClient()));
    const bookings = await Promise.all(clients.map((client) => insertBooking(client, coach)));
    const results = await Promise.all(
      clients.map((client, index) => review(client, bookings[index]!.id, { rating: ratings[index] })),
    );
    expect(results.map((result) => result.status)).toEqual(ratings.map(() => 201));
    const sum = ratings.reduce((total, rating) => total + rating, 0);
    const [exact] = await query<{ mean: string }>(`select round($1::numeric / $2, 2)::text as mean`, [sum, ratings.length]);
    expect(await coachRow(coach)).toEqual({ rating: exact!.mean, review_count: ratings.length, rating_sum: sum });
    const [stored] = await query<{ n: string; mean: string }>(
      `select count(*) as n, round(avg(rating), 2)::text as mean from reviews where coach_id = $1`,
      [coach.id],
    );
    expect(stored).toEqual({ n: String(ratings.length), mean: exact!.mean });
  });

  it("the same booking reviewed 8 times at once: exactly one 201, the others 409", async () => {
    const coach = await createCoach();
    const client = await createClient();
    const booking = await insertBooking(client, coach);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) => review(client, booking.id, { rating: 1 + (index % 5) })),
    );
    expect(results.filter((result) => result.status === 201)).toHaveLength(1);
    expect(results.filter((result) => result.status === 409)).toHaveLength(7);
    expect((await coachRow(coach)).review_count).toBe(1);
  });

  it("reviews and their removal interleaved: the counters still equal the reviews that remain", async () => {
    const coach = await createCoach();
    const admin = await createUser("admin");
    const clients = await Promise.all(Array.from({ length: 12 }, () => createClient()));
    const bookings = await Promise.all(clients.map((client) => insertBooking(client, coach)));
    const first = await Promise.all(
      clients.slice(0, 6).map((client, index) => review(client, bookings[index]!.id, { rating: 5 })),
    );
    await Promise.all([
      ...first.map((result) => del(`/admin/reviews/${result.body.id}`, { token: admin.token })),
      ...clients.slice(6).map((client, index) => review(client, bookings[index + 6]!.id, { rating: 2 + (index % 3) })),
    ]);
    const [stored] = await query<{ n: number; total: number }>(
      `select count(*)::int as n, coalesce(sum(rating), 0)::int as total from reviews where coach_id = $1`,
      [coach.id],
    );
    const row = await coachRow(coach);
    expect({ review_count: row.review_count, rating_sum: row.rating_sum }).toEqual({
      review_count: stored!.n,
      rating_sum: stored!.total,
    });
    expect(Number(row.rating)).toBeCloseTo(stored!.total / stored!.n, 2);
  });
});

describe("/openapi.json", () => {
  it("documents every new operation with all its statuses", async () => {
    const document = (await get("/openapi.json")).body;
    const statuses = (path: string, method: string) => Object.keys(document.paths[path]?.[method]?.responses ?? {}).sort();
    expect(statuses("/booking/{id}/review", "post")).toEqual(["201", "400", "401", "403", "404", "409", "429", "500"]);
    // A JSON GET also documents 304 (conditional GETs, contract v2).
    expect(statuses("/coaches/{id}/reviews", "get")).toEqual(["200", "304", "400", "401", "404", "429", "500"]);
    expect(statuses("/admin/reviews/{id}", "delete")).toEqual(["204", "400", "401", "403", "404", "429", "500"]);
    expect(statuses("/admin/coaches/{id}/verification", "patch")).toEqual(["200", "400", "401", "403", "404", "429", "500"]);
    const listParameters = (document.paths["/coaches"].get.parameters as Json[]).map((parameter) => parameter.name);
    expect(listParameters).toEqual(expect.arrayContaining(["verified", "q"]));
    expect(document.components.schemas.CoachListItem.properties.review_count).toBeDefined();
    expect(document.components.schemas.CoachProfile.properties.review_count).toBeDefined();
  });
});
