/**
 * GET /profile/export and DELETE /profile (contract: "Account deletion"):
 * happy, error and security cases.
 */
import { afterAll, describe, expect, it } from "vitest";
import { call, del, expectEnvelope, get, type Json, post, uniqueEmail } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { createClient, createCoach, createUser, FIXTURE_PASSWORD, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

/** A booking at a random whole hour in the past or future (spread out so that no two tests overlap). */
async function insertBooking(
  client: TestUser,
  coach: TestUser,
  options: { daysFromNow: number; status: string },
): Promise<string> {
  const start = new Date(Date.now() + options.daysFromNow * DAY + Math.floor(Math.random() * 20_000) * HOUR);
  start.setUTCMinutes(0, 0, 0);
  const [row] = await query<{ id: string }>(
    "INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes, status) VALUES ($1, $2, $3, 60, $4) RETURNING id",
    [client.id, coach.id, start, options.status],
  );
  return (row as { id: string }).id;
}

async function insertPayment(bookingId: string, status: string): Promise<string> {
  const [row] = await query<{ id: string }>(
    `INSERT INTO payments (booking_id, amount, currency, status, stripe_session_id, stripe_payment_intent_id, paid_at)
     VALUES ($1, 100.50, 'USD', $2, $3, $4, now()) RETURNING id`,
    [bookingId, status, `cs_test_${crypto.randomUUID()}`, `pi_test_${crypto.randomUUID()}`],
  );
  const paymentId = (row as { id: string }).id;
  await query("UPDATE bookings SET payment_id = $1 WHERE id = $2", [paymentId, bookingId]);
  return paymentId;
}

async function insertPost(author: TestUser, title = "Hello"): Promise<string> {
  const [row] = await query<{ id: string }>(
    "INSERT INTO posts (author_id, title, content) VALUES ($1, $2, 'Some content') RETURNING id",
    [author.id, title],
  );
  return (row as { id: string }).id;
}

async function insertComment(author: TestUser, postId: string): Promise<string> {
  const [row] = await query<{ id: string }>(
    "INSERT INTO comments (post_id, author_id, content) VALUES ($1, $2, 'A comment') RETURNING id",
    [postId, author.id],
  );
  return (row as { id: string }).id;
}

async function insertResource(creator: TestUser): Promise<string> {
  const [row] = await query<{ id: string }>(
    "INSERT INTO resources (title, resource_type, url, created_by) VALUES ('Guide', 'article', 'https://guide.example', $1) RETURNING id",
    [creator.id],
  );
  return (row as { id: string }).id;
}

async function uploadPhoto(token: string): Promise<string> {
  const form = new FormData();
  form.append("photo", new Blob([PNG]), "me.png");
  const result = await call("POST", "/profile/photo", { rawBody: form, token });
  expect(result.status, result.text).toBe(200);
  return result.body.photo_url;
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const [row] = await query<{ n: string }>(sql, params);
  return Number(row?.n);
}

describe("GET /profile/export", () => {
  it("happy: contains the account, profile, bookings, payments, posts, comments and bookmarks", async () => {
    const client = await createClient({ firstName: "Exporter" });
    const coach = await createCoach();
    const bookingId = await insertBooking(client, coach, { daysFromNow: -30, status: "completed" });
    const paymentId = await insertPayment(bookingId, "succeeded");
    const postId = await insertPost(client, "My story");
    const othersPost = await insertPost(coach);
    const commentId = await insertComment(client, othersPost);
    const resourceId = await insertResource(coach);
    await query("INSERT INTO bookmarks (user_id, resource_id) VALUES ($1, $2)", [client.id, resourceId]);
    await query("INSERT INTO post_votes (post_id, user_id) VALUES ($1, $2)", [othersPost, client.id]);

    const result = await get("/profile/export", { token: client.token });
    expect(result.status).toBe(200);
    const body = result.body;
    for (const key of ["user", "profile", "bookings", "payments", "posts", "comments", "bookmarks", "exported_at"])
      expect(body).toHaveProperty(key);
    expect(body.user).toMatchObject({ id: client.id, email: client.email, role: "client", is_active: true });
    expect(body.profile).toMatchObject({ user_id: client.id, first_name: "Exporter" });
    expect(body.bookings.map((booking: Json) => booking.id)).toEqual([bookingId]);
    expect(body.payments).toHaveLength(1);
    expect(body.payments[0]).toMatchObject({ id: paymentId, booking_id: bookingId, amount: 100.5, status: "succeeded" });
    expect(body.posts.map((post: Json) => post.id)).toEqual([postId]);
    expect(body.comments.map((comment: Json) => comment.id)).toEqual([commentId]);
    expect(body.bookmarks.map((bookmark: Json) => bookmark.resource_id)).toEqual([resourceId]);
    expect(body.post_votes.map((vote: Json) => vote.post_id)).toEqual([othersPost]);
    expect(body.exported_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it("security: contains no password hash and no token hash", async () => {
    const user = await createUser("coach");
    const login = await post("/auth/login", { email: user.email, password: FIXTURE_PASSWORD });
    expect(login.status).toBe(200);
    await post("/auth/reset-password", { email: user.email });
    const result = await get("/profile/export", { token: user.token });
    expect(result.status).toBe(200);
    const [row] = await query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [user.id]);
    expect(result.text).not.toContain(row?.password_hash as string);
    expect(result.text).not.toMatch(/password/i);
    expect(result.text).not.toMatch(/\$2[aby]\$/);
    const hashes = await query<{ token_hash: string }>(
      "SELECT token_hash FROM refresh_tokens WHERE user_id = $1 UNION ALL SELECT token_hash FROM email_tokens WHERE user_id = $1",
      [user.id],
    );
    expect(hashes.length).toBeGreaterThanOrEqual(2);
    for (const { token_hash } of hashes) expect(result.text).not.toContain(token_hash);
  });

  it("error: needs a token", async () => {
    expectEnvelope(await get("/profile/export"), 401, "UNAUTHORIZED");
  });
});

describe("DELETE /profile", () => {
  describe("happy", () => {
    it("deletes a user without bookings entirely; their content goes, the email is free again", async () => {
      const client = await createClient();
      const other = await createClient();
      const ownPost = await insertPost(client);
      const othersCommentOnOwnPost = await insertComment(other, ownPost);
      const othersPost = await insertPost(other);
      const ownComment = await insertComment(client, othersPost);
      await query("INSERT INTO post_votes (post_id, user_id) VALUES ($1, $2)", [othersPost, client.id]);
      const resource = await insertResource(other);
      await query("INSERT INTO bookmarks (user_id, resource_id) VALUES ($1, $2)", [client.id, resource]);
      await query("INSERT INTO calendar_feeds (user_id, token_hash) VALUES ($1, $2)", [
        client.id,
        crypto.randomUUID().replace(/-/g, ""),
      ]);
      await query("INSERT INTO match_cache (client_id, match_results, expires_at) VALUES ($1, '[]', now() + interval '1 day')", [
        client.id,
      ]);
      await post("/auth/login", { email: client.email, password: FIXTURE_PASSWORD }); // a refresh token row
      await post("/auth/reset-password", { email: client.email }); // an email token row
      const photoUrl = await uploadPhoto(client.token);
      expect(await count("SELECT upvotes AS n FROM posts WHERE id = $1", [othersPost])).toBe(1);

      const result = await del("/profile", { token: client.token });
      expect(result.status, result.text).toBe(204);
      expect(result.text).toBe("");

      expect(await count("SELECT count(*) AS n FROM users WHERE id = $1", [client.id])).toBe(0);
      expect(await count("SELECT count(*) AS n FROM client_profiles WHERE user_id = $1", [client.id])).toBe(0);
      expect(await count("SELECT count(*) AS n FROM posts WHERE id = $1", [ownPost])).toBe(0);
      expect(await count("SELECT count(*) AS n FROM comments WHERE id = ANY($1)", [[othersCommentOnOwnPost, ownComment]])).toBe(
        0,
      );
      expect(await count("SELECT count(*) AS n FROM bookmarks WHERE user_id = $1", [client.id])).toBe(0);
      expect(await count("SELECT count(*) AS n FROM post_votes WHERE user_id = $1", [client.id])).toBe(0);
      expect(await count("SELECT upvotes AS n FROM posts WHERE id = $1", [othersPost])).toBe(0);
      expect(await count("SELECT count(*) AS n FROM refresh_tokens WHERE user_id = $1", [client.id])).toBe(0);
      expect(await count("SELECT count(*) AS n FROM email_tokens WHERE user_id = $1", [client.id])).toBe(0);
      expect(await count("SELECT count(*) AS n FROM calendar_feeds WHERE user_id = $1", [client.id])).toBe(0);
      expect(await count("SELECT count(*) AS n FROM match_cache WHERE client_id = $1", [client.id])).toBe(0);
      // others' things stay
      expect(await count("SELECT count(*) AS n FROM posts WHERE id = $1", [othersPost])).toBe(1);
      expect(await count("SELECT count(*) AS n FROM resources WHERE id = $1", [resource])).toBe(1);
      // the photo left storage
      expect((await fetch(photoUrl)).status).toBe(404);
      // login blocked, token dead, email free
      expectEnvelope(await post("/auth/login", { email: client.email, password: FIXTURE_PASSWORD }), 401, "UNAUTHORIZED");
      expectEnvelope(await get("/profile", { token: client.token }), 401, "UNAUTHORIZED");
      const again = await post("/auth/signup", { email: client.email, password: "Brand#New1", role: "client" });
      expect(again.status, again.text).toBe(201);
      expect(again.body.id).not.toBe(client.id);
    });

    it("keeps a client with past paid bookings as an anonymised tombstone: the coach's booking and the payment stay", async () => {
      const client = await createClient({ firstName: "Leaving" });
      const coach = await createCoach();
      const bookingId = await insertBooking(client, coach, { daysFromNow: -10, status: "completed" });
      const paymentId = await insertPayment(bookingId, "succeeded");

      expect((await del("/profile", { token: client.token })).status).toBe(204);

      const [tombstone] = await query<Json>(
        "SELECT email, password_hash, is_active, email_verified, role FROM users WHERE id = $1",
        [client.id],
      );
      expect(tombstone).toEqual({
        email: `deleted-${client.id}@invalid`,
        password_hash: null,
        is_active: false,
        email_verified: false,
        role: "client",
      });
      expect(await count("SELECT count(*) AS n FROM client_profiles WHERE user_id = $1", [client.id])).toBe(0);
      const [booking] = await query<Json>("SELECT client_id, coach_id, status, payment_id FROM bookings WHERE id = $1", [
        bookingId,
      ]);
      expect(booking).toEqual({ client_id: client.id, coach_id: coach.id, status: "completed", payment_id: paymentId });
      const [payment] = await query<Json>("SELECT status, amount FROM payments WHERE id = $1", [paymentId]);
      expect(payment).toMatchObject({ status: "succeeded" });
      expect(Number(payment.amount)).toBe(100.5);

      expectEnvelope(await post("/auth/login", { email: client.email, password: FIXTURE_PASSWORD }), 401, "UNAUTHORIZED");
      expectEnvelope(await get("/profile", { token: client.token }), 401, "UNAUTHORIZED");
      const again = await post("/auth/signup", { email: client.email, password: "Brand#New1", role: "coach" });
      expect(again.status, again.text).toBe(201);
    });

    it("cancels a deleted coach's future bookings first (refund, the client notified) and bumps the coaches version", async () => {
      const coach = await createCoach();
      const client = await createClient();
      const pending = await insertBooking(client, coach, { daysFromNow: 200, status: "pending" });
      const confirmed = await insertBooking(client, coach, { daysFromNow: 400, status: "confirmed" });
      const paymentId = await insertPayment(confirmed, "succeeded");
      const past = await insertBooking(client, coach, { daysFromNow: -5, status: "completed" });
      const [before] = await query<{ value: string }>("SELECT value FROM app_counters WHERE name = 'coaches_version'");

      const result = await del("/profile", { token: coach.token });
      expect(result.status, result.text).toBe(204);

      const statuses = await query<{ id: string; status: string }>("SELECT id, status FROM bookings WHERE id = ANY($1)", [
        [pending, confirmed, past],
      ]);
      expect(Object.fromEntries(statuses.map((row) => [row.id, row.status]))).toEqual({
        [pending]: "cancelled",
        [confirmed]: "cancelled",
        [past]: "completed",
      });
      // The refund is made at Stripe after the response (payment-followups.ts): observed eventually.
      await eventually(async () => {
        const [payment] = await query<{ status: string }>("SELECT status FROM payments WHERE id = $1", [paymentId]);
        expect(payment?.status).toBe("refunded");
      });
      const emails = (await get(`/dev/emails?to=${encodeURIComponent(client.email)}`)).body.items as Json[];
      expect(emails.some((email) => /cancel/i.test(email.subject))).toBe(true);
      const [after] = await query<{ value: string }>("SELECT value FROM app_counters WHERE name = 'coaches_version'");
      expect(Number(after?.value)).toBeGreaterThan(Number(before?.value ?? 0));
      expect(await count("SELECT count(*) AS n FROM coach_profiles WHERE user_id = $1", [coach.id])).toBe(0);
      const [tombstone] = await query<{ email: string }>("SELECT email FROM users WHERE id = $1", [coach.id]);
      expect(tombstone?.email).toBe(`deleted-${coach.id}@invalid`);
    });
  });

  describe("error", () => {
    it("needs a token (401)", async () => {
      expectEnvelope(await del("/profile"), 401, "UNAUTHORIZED");
    });

    it("a second delete with the same (now revoked) token is a 401", async () => {
      const user = await createUser("client");
      expect((await del("/profile", { token: user.token })).status).toBe(204);
      expectEnvelope(await del("/profile", { token: user.token }), 401, "UNAUTHORIZED");
    });
  });

  describe("security", () => {
    it("revokes every live access token and refresh token of the account", async () => {
      const email = uniqueEmail("revoked");
      const signup = (await post("/auth/signup", { email, password: "Str0ng#Passw0rd", role: "coach" })).body;
      const second = (await post("/auth/login", { email, password: "Str0ng#Passw0rd" })).body;
      expect((await del("/profile", { token: signup.access_token })).status).toBe(204);
      expectEnvelope(await get("/profile", { token: second.access_token }), 401, "UNAUTHORIZED");
      expectEnvelope(await post("/auth/refresh", { refresh_token: second.refresh_token }), 401, "UNAUTHORIZED");
    });

    it("leaves other users' accounts untouched", async () => {
      const leaving = await createClient();
      const staying = await createClient();
      expect((await del("/profile", { token: leaving.token })).status).toBe(204);
      const me = await get("/profile", { token: staying.token });
      expect(me.status).toBe(200);
      expect(me.body.profile).not.toBeNull();
    });
  });
});
