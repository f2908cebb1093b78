/**
 * OWASP API3:2023 Broken Object Property Level Authorization — mass
 * assignment (a caller sets a property the server owns: role, is_verified,
 * rating, total_sessions, upvotes, author, status, amounts ...) and excessive
 * data exposure (an answer carries properties the caller must not see).
 *
 * For mass assignment the property under test is "the stored value does not
 * change": the API may refuse the request (400, strict bodies) or ignore the
 * field, but never apply it. (The fuzz run also sends these fields to every
 * operation and checks no answer carries a password or token hash.)
 */
import { afterAll, describe, expect, it } from "vitest";
import { expectEnvelope, get, patch, post, put, uniqueEmail } from "../helpers/api.ts";
import { book, slot } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser } from "../helpers/fixtures.ts";

afterAll(async () => {
  await closeTestPool();
});

const SERVER_OWNED = {
  role: "admin",
  is_verified: true,
  rating: 5,
  total_sessions: 999,
  is_active: false,
  email_verified: true,
  user_id: "00000000-0000-4000-8000-000000000000",
  id: "00000000-0000-4000-8000-000000000000",
  email: "attacker@example.test",
  password_hash: "$2b$04$abcdefghijklmnopqrstuuZ7Sg3Y6lmJzq0F8q9a8fQ0U4u2oW9e",
  created_at: "2000-01-01T00:00:00Z",
};

describe("API3 mass assignment: PUT /profile", () => {
  it("a coach cannot set role, is_verified, rating, total_sessions (nor email, activity, ids) through the profile", async () => {
    const coach = await createCoach({ rating: 3.5 });
    const [before] = await query(
      "SELECT u.role, u.email, u.is_active, cp.is_verified, cp.rating, cp.total_sessions, cp.id, cp.user_id FROM coach_profiles cp JOIN users u ON u.id = cp.user_id WHERE u.id = $1",
      [coach.id],
    );
    for (const [field, value] of Object.entries(SERVER_OWNED)) {
      const result = await put("/profile", { bio: "Still me", [field]: value }, { token: coach.token });
      expect([200, 400], `${field}: ${result.status}`).toContain(result.status);
      if (result.status === 200) expect(result.body[field]).not.toEqual(value);
    }
    const all = await put("/profile", { bio: "All at once", ...SERVER_OWNED }, { token: coach.token });
    expect([200, 400]).toContain(all.status);
    const [after] = await query(
      "SELECT u.role, u.email, u.is_active, cp.is_verified, cp.rating, cp.total_sessions, cp.id, cp.user_id FROM coach_profiles cp JOIN users u ON u.id = cp.user_id WHERE u.id = $1",
      [coach.id],
    );
    expect(after).toEqual(before);
    // The token still says coach, and the profile says so too.
    expect((await get("/profile", { token: coach.token })).body.role).toBe("coach");
  });

  it("a client cannot write coach-only or server-owned fields", async () => {
    const client = await createClient();
    const [before] = await query(
      "SELECT u.role, cp.user_id FROM client_profiles cp JOIN users u ON u.id = cp.user_id WHERE u.id = $1",
      [client.id],
    );
    for (const body of [
      { hourly_rate: 500 },
      { is_verified: true },
      { role: "coach" },
      { rating: 5 },
      { user_id: SERVER_OWNED.user_id },
    ]) {
      const result = await put("/profile", body, { token: client.token });
      expect([200, 400]).toContain(result.status);
    }
    const [after] = await query(
      "SELECT u.role, cp.user_id FROM client_profiles cp JOIN users u ON u.id = cp.user_id WHERE u.id = $1",
      [client.id],
    );
    expect(after).toEqual(before);
    const [{ n }] = (await query<{ n: string }>("SELECT count(*) AS n FROM coach_profiles WHERE user_id = $1", [client.id])) as [
      { n: string },
    ];
    expect(n).toBe("0");
  });
});

describe("API3 mass assignment: signup", () => {
  it("signup cannot create an admin, a pre-verified or an inactive account", async () => {
    expectEnvelope(
      await post("/auth/signup", { email: uniqueEmail("root"), password: "Str0ng#Passw0rd", role: "admin" }),
      403,
      "FORBIDDEN",
    );
    const email = uniqueEmail("sneaky");
    const result = await post("/auth/signup", {
      email,
      password: "Str0ng#Passw0rd",
      role: "client",
      email_verified: true,
      is_active: false,
      id: SERVER_OWNED.id,
    });
    expect([201, 400]).toContain(result.status);
    const rows = await query<{ role: string; email_verified: boolean; is_active: boolean; id: string }>(
      "SELECT role, email_verified, is_active, id FROM users WHERE email = $1",
      [email],
    );
    for (const row of rows) {
      expect(row).toMatchObject({ role: "client", email_verified: false, is_active: true });
      expect(row.id).not.toBe(SERVER_OWNED.id);
    }
  });
});

describe("API3 mass assignment: community", () => {
  it("a new post cannot start with upvotes, another author, or a date of its choosing", async () => {
    const author = await createUser("client");
    const victim = await createUser("coach");
    const result = await post(
      "/community/posts",
      {
        title: "Hi",
        content: "Body",
        post_type: "discussion",
        upvotes: 1_000_000,
        author_id: victim.id,
        author: { id: victim.id },
        comment_count: 50,
        created_at: "2000-01-01T00:00:00Z",
      },
      { token: author.token },
    );
    expect([201, 400]).toContain(result.status);
    const rows = await query<{ upvotes: number; author_id: string; created_at: Date }>(
      "SELECT upvotes, author_id, created_at FROM posts WHERE title = 'Hi' AND (author_id = $1 OR author_id = $2)",
      [author.id, victim.id],
    );
    for (const row of rows) {
      expect(row.upvotes).toBe(0);
      expect(row.author_id).toBe(author.id);
      expect(row.created_at.getUTCFullYear()).toBeGreaterThan(2020);
    }
  });

  it("editing a post cannot set its upvotes, author or privacy-irrelevant server fields", async () => {
    const author = await createUser("client");
    const other = await createUser("client");
    const created = await post(
      "/community/posts",
      { title: "Mine", content: "Body", post_type: "discussion" },
      { token: author.token },
    );
    const result = await put(
      `/community/posts/${created.body.id}`,
      { title: "Edited", upvotes: 999, author_id: other.id },
      { token: author.token },
    );
    expect([200, 400]).toContain(result.status);
    const [row] = await query<{ upvotes: number; author_id: string }>("SELECT upvotes, author_id FROM posts WHERE id = $1", [
      created.body.id,
    ]);
    expect(row).toEqual({ upvotes: 0, author_id: author.id });
  });

  it("a resource cannot be created on someone else's name", async () => {
    const coach = await createUser("coach");
    const other = await createUser("admin");
    const result = await post(
      "/community/resources",
      {
        title: "R",
        description: "d",
        resource_type: "article",
        url: "https://example.com/r",
        tags: [],
        created_by: other.id,
        id: SERVER_OWNED.id,
      },
      { token: coach.token },
    );
    expect([201, 400]).toContain(result.status);
    if (result.status === 201) {
      expect(result.body.created_by.id).toBe(coach.id);
      expect(result.body.id).not.toBe(SERVER_OWNED.id);
    }
  });
});

describe("API3 mass assignment: bookings and payments", () => {
  it("a booking cannot be created already confirmed, paid, for another client or with a meeting link", async () => {
    const client = await createClient();
    const victim = await createClient();
    const coach = await createCoach();
    const start = slot(400 + Math.floor(Math.random() * 300), 7);
    const result = await post(
      "/booking",
      {
        coach_id: coach.id,
        session_datetime: start.toISOString(),
        duration_minutes: 60,
        status: "confirmed",
        client_id: victim.id,
        payment_id: SERVER_OWNED.id,
        meeting_link: "https://evil.example/meet",
      },
      { token: client.token },
    );
    expect([201, 400]).toContain(result.status);
    const rows = await query<{ status: string; client_id: string; payment_id: string | null; meeting_link: string | null }>(
      "SELECT status, client_id, payment_id, meeting_link FROM bookings WHERE coach_id = $1",
      [coach.id],
    );
    for (const row of rows)
      expect(row).toEqual({ status: "pending", client_id: client.id, payment_id: null, meeting_link: null });
  });

  it("checkout ignores a client-supplied amount or currency: the price is the coach's rate x duration", async () => {
    const client = await createClient();
    const coach = await createCoach({ hourlyRate: 120 });
    const booking = await book(client, coach, slot(700 + Math.floor(Math.random() * 300), 7), 90);
    const result = await post(
      "/payment/checkout",
      { booking_id: booking.id, amount: 1, currency: "JPY", unit_amount: 1 },
      { token: client.token },
    );
    expect([200, 400]).toContain(result.status);
    if (result.status === 400)
      expect((await post("/payment/checkout", { booking_id: booking.id }, { token: client.token })).status).toBe(200);
    const [payment] = await query<{ amount: string; currency: string }>(
      "SELECT amount, currency FROM payments WHERE booking_id = $1",
      [booking.id],
    );
    expect(payment).toEqual({ amount: "180.00", currency: "USD" });
  });

  it("the admin user patch accepts only role, is_active, email_verified", async () => {
    const admin = await createUser("admin");
    const target = await createUser("client");
    const result = await patch(
      `/admin/users/${target.id}`,
      { email: "taken-over@example.test", password_hash: SERVER_OWNED.password_hash, id: SERVER_OWNED.id },
      { token: admin.token },
    );
    expectEnvelope(result, 400, "VALIDATION_ERROR");
    const [row] = await query<{ email: string; id: string }>("SELECT email, id FROM users WHERE id = $1", [target.id]);
    expect(row).toEqual({ email: target.email, id: target.id });
  });
});

describe("API3 excessive data exposure", () => {
  it("public coach data carries no email, password or account flags", async () => {
    const coach = await createCoach({ firstName: "Exposure" });
    const viewer = await createUser("client");
    const list = await get("/coaches?limit=100", { token: viewer.token });
    const detail = await get(`/coaches/${coach.profileId}`, { token: viewer.token });
    expect(detail.status).toBe(200);
    for (const text of [list.text, detail.text]) {
      expect(text).not.toContain(coach.email);
      expect(text).not.toMatch(/password|\$2[aby]\$|"is_active"|"email"/);
    }
  });

  it("community authors and comment authors carry no email", async () => {
    const author = await createUser("coach");
    const created = await post(
      "/community/posts",
      { title: "Exposure", content: "Body", post_type: "discussion" },
      { token: author.token },
    );
    await post(`/community/posts/${created.body.id}/comment`, { content: "hello" }, { token: author.token });
    const reader = await createUser("client");
    for (const result of [
      await get("/community/posts?limit=100", { token: reader.token }),
      await get(`/community/posts/${created.body.id}`, { token: reader.token }),
    ]) {
      expect(result.status).toBe(200);
      expect(result.text).not.toContain(author.email);
      expect(result.text).not.toMatch(/password|"email"/);
    }
  });

  it("a booking shows the other party's public card only (names, photo), not their email or account", async () => {
    const client = await createClient();
    const coach = await createCoach();
    const booking = await book(client, coach, slot(1000 + Math.floor(Math.random() * 300), 6));
    const seen = await get(`/booking/${booking.id}`, { token: coach.token });
    expect(seen.status).toBe(200);
    expect(seen.text).not.toContain(client.email);
    expect(seen.text).not.toMatch(/password|quiz_data|phone/);
  });

  it("login and signup answers carry tokens and the user summary, no hash", async () => {
    const email = uniqueEmail("exposure");
    const signup = await post("/auth/signup", { email, password: "Str0ng#Passw0rd", role: "coach" });
    expect(signup.status).toBe(201);
    expect(signup.text).not.toMatch(/password|\$2[aby]\$/);
    const login = await post("/auth/login", { email, password: "Str0ng#Passw0rd" });
    expect(Object.keys(login.body.user).sort()).toEqual(["email", "id", "role"]);
  });
});
