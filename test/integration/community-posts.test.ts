/**
 * Community posts: list, create, detail, edit, delete, comments, votes, and
 * the private-post rule from every angle. Each test makes its own users,
 * posts and bookings (bookings straight in SQL: the booking API is not ours).
 */
import { afterAll, describe, expect, it } from "vitest";
import { del, expectEnvelope, get, type Json, post, put } from "../helpers/api.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const MALFORMED_ID = "not-a-uuid";
const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

function uniqueTitle(label: string): string {
  return `${label} ${crypto.randomUUID().slice(0, 8)}`;
}

async function createPost(author: TestUser, overrides: Record<string, unknown> = {}): Promise<Json> {
  const result = await post(
    "/community/posts",
    { title: uniqueTitle("Post"), content: "Hello community", post_type: "discussion", ...overrides },
    { token: author.token },
  );
  expect(result.status, result.text).toBe(201);
  return result.body;
}

/** A booking between two users, written directly (the booking API belongs to another module). */
let bookingSlot = 0;
async function book(
  client: TestUser,
  coach: TestUser,
  status: "pending" | "confirmed" | "completed" | "cancelled",
): Promise<void> {
  // Distinct far-future slots: the overlap constraints never interfere.
  bookingSlot += 1;
  const start = new Date(Date.UTC(2031, 0, 1) + (Math.floor(Math.random() * 1_000_000) * 10 + bookingSlot) * 3_600_000);
  await query(
    `INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes, status) VALUES ($1, $2, $3, 60, $4)`,
    [client.id, coach.id, start.toISOString(), status],
  );
}

/**
 * Whether `postId` is in the caller's list (with the given extra query).
 * Newest first: pages until the post is found or older posts are reached, so
 * posts written by other test files at the same time cannot hide it.
 */
async function listed(viewer: TestUser, target: { id: string; created_at: string }, extra = ""): Promise<boolean> {
  for (let skip = 0; skip < 10_000; skip += 100) {
    const result = await get(`/community/posts?limit=100&skip=${skip}${extra}`, { token: viewer.token });
    expect(result.status, result.text).toBe(200);
    const items = result.body.items as Json[];
    if (items.some((item) => item.id === target.id)) return true;
    if (items.length < 100 || items.some((item) => item.created_at < target.created_at)) return false;
  }
  return false;
}

async function upvotesInDatabase(postId: string): Promise<{ upvotes: number; votes: number }> {
  const [row] = await query<{ upvotes: number; votes: number }>(
    `SELECT p.upvotes, (SELECT count(*)::int FROM post_votes v WHERE v.post_id = p.id) AS votes FROM posts p WHERE p.id = $1`,
    [postId],
  );
  return row as { upvotes: number; votes: number };
}

describe("POST /community/posts", () => {
  it("creates a post with the contract's shape and the author's profile names", async () => {
    const author = await createClient({ firstName: "Ana" });
    const title = uniqueTitle("First month in Lisbon");
    const result = await post(
      "/community/posts",
      { title, content: "Any tips?", post_type: "question" },
      { token: author.token },
    );
    expect(result.status).toBe(201);
    expect(result.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      author: { id: author.id, first_name: "Ana", last_name: "Client" },
      title,
      content: "Any tips?",
      post_type: "question",
      is_private: false,
      upvotes: 0,
      comment_count: 0,
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
    });
  });

  it("lets an admin post an announcement; admins have no profile, so null names", async () => {
    const admin = await createUser("admin");
    const created = await createPost(admin, { post_type: "announcement" });
    expect(created.post_type).toBe("announcement");
    expect(created.author).toEqual({ id: admin.id, first_name: null, last_name: null });
  });

  it("stores XSS-looking text verbatim and returns it as JSON, not HTML", async () => {
    const author = await createCoach();
    const payload = `<script>alert("x")</script><img src=x onerror='alert(1)'> & "quotes" \u00e9\u4e2d`;
    const created = await createPost(author, { title: `<b>${uniqueTitle("bold")}</b>`, content: payload });
    expect(created.content).toBe(payload);
    const detail = await get(`/community/posts/${created.id}`, { token: author.token });
    expect(detail.headers.get("content-type")).toContain("application/json");
    expect(detail.body.content).toBe(payload);
    expect(detail.body.title).toMatch(/^<b>bold /);
    expect(detail.text).not.toContain("&lt;");
    const [row] = await query<{ content: string }>(`SELECT content FROM posts WHERE id = $1`, [created.id]);
    expect(row?.content).toBe(payload);
  });

  it("keeps whitespace as given and defaults is_private to false", async () => {
    const author = await createClient();
    const created = await createPost(author, { content: "  indented\n\tline  " });
    expect(created.content).toBe("  indented\n\tline  ");
    expect(created.is_private).toBe(false);
  });

  it("rejects bad input with 400 and writes nothing", async () => {
    const author = await createClient();
    const valid = { title: "t", content: "c", post_type: "discussion" };
    const cases: Record<string, unknown>[] = [
      { ...valid, title: "" },
      { ...valid, title: "   " },
      { ...valid, title: "x".repeat(201) },
      { ...valid, content: "" },
      { ...valid, content: "x".repeat(20_001) },
      { ...valid, post_type: "rant" },
      { title: "t", content: "c" },
      { ...valid, is_private: "yes" },
      { ...valid, title: 42 },
    ];
    for (const body of cases) {
      const error = expectEnvelope(await post("/community/posts", body, { token: author.token }), 400, "VALIDATION_ERROR");
      expect(error.details.errors.length).toBeGreaterThan(0);
    }
    const malformed = await post("/community/posts", undefined, {
      token: author.token,
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    expectEnvelope(malformed, 400, "VALIDATION_ERROR");
    const [row] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM posts WHERE author_id = $1`, [author.id]);
    expect(row?.n).toBe(0);
  });

  it("accepts the limits exactly (200-char title, 20000-char content)", async () => {
    const author = await createClient();
    const created = await createPost(author, { title: "t".repeat(200), content: "c".repeat(20_000) });
    expect(created.title).toHaveLength(200);
    expect(created.content).toHaveLength(20_000);
  });

  it("refuses announcements from clients and coaches with 403", async () => {
    for (const user of [await createClient(), await createCoach()]) {
      const result = await post(
        "/community/posts",
        { title: "News", content: "Big news", post_type: "announcement" },
        { token: user.token },
      );
      expectEnvelope(result, 403, "FORBIDDEN");
    }
  });

  it("requires authentication (401 before any validation)", async () => {
    expectEnvelope(await post("/community/posts", { title: "t", content: "c", post_type: "discussion" }), 401, "UNAUTHORIZED");
    expectEnvelope(await post("/community/posts", { title: "" }), 401, "UNAUTHORIZED");
    expectEnvelope(
      await post("/community/posts", { title: "t", content: "c", post_type: "discussion" }, { token: "garbage" }),
      401,
      "UNAUTHORIZED",
    );
  });
});

describe("GET /community/posts", () => {
  it("lists newest first with author names and comment counts", async () => {
    const author = await createCoach({ firstName: "Bea" });
    const older = await createPost(author, { title: uniqueTitle("older") });
    const newer = await createPost(author, { title: uniqueTitle("newer") });
    const commenter = await createClient();
    for (const content of ["one", "two"]) {
      expect((await post(`/community/posts/${older.id}/comment`, { content }, { token: commenter.token })).status).toBe(201);
    }
    const result = await get("/community/posts?limit=100", { token: commenter.token });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ skip: 0, limit: 100 });
    expect(result.body.total).toBeGreaterThanOrEqual(2);
    const ids = (result.body.items as Json[]).map((item) => item.id);
    expect(ids.indexOf(newer.id)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
    const listedOlder = (result.body.items as Json[]).find((item) => item.id === older.id);
    expect(listedOlder).toEqual({ ...older, comment_count: 2 });
    expect(listedOlder.author).toEqual({ id: author.id, first_name: "Bea", last_name: "Coach" });
    // Newest first throughout the page (timestamps are shown to the second).
    const times = (result.body.items as Json[]).map((item) => item.created_at as string);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("paginates with skip/limit and reports the total even past the last page", async () => {
    const viewer = await createClient();
    const first = await get("/community/posts?limit=1", { token: viewer.token });
    const second = await get("/community/posts?limit=1&skip=1", { token: viewer.token });
    expect(first.body.items).toHaveLength(1);
    expect(first.body.limit).toBe(1);
    expect(second.body.skip).toBe(1);
    if (second.body.items.length === 1) expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    const beyond = await get("/community/posts?skip=1000000", { token: viewer.token });
    expect(beyond.status).toBe(200);
    expect(beyond.body.items).toEqual([]);
    expect(beyond.body.total).toBeGreaterThanOrEqual(first.body.total);
  });

  it("filters by post_type and is_private", async () => {
    const author = await createClient();
    const question = await createPost(author, { post_type: "question" });
    const secret = await createPost(author, { is_private: true });
    const questions = await get("/community/posts?post_type=question&limit=100", { token: author.token });
    expect((questions.body.items as Json[]).every((item) => item.post_type === "question")).toBe(true);
    expect(await listed(author, question, "&post_type=question")).toBe(true);
    expect(await listed(author, question, "&post_type=discussion")).toBe(false);
    const privateOnly = await get("/community/posts?is_private=true&limit=100", { token: author.token });
    expect((privateOnly.body.items as Json[]).every((item) => item.is_private === true)).toBe(true);
    expect(await listed(author, secret, "&is_private=true")).toBe(true);
    expect(await listed(author, secret, "&is_private=false")).toBe(false);
    expect(await listed(author, question, "&is_private=false")).toBe(true);
  });

  it("rejects bad filters and pagination with 400", async () => {
    const viewer = await createClient();
    for (const search of ["is_private=yes", "is_private=1", "post_type=rant", "limit=0", "limit=101", "skip=-1", "limit=abc"]) {
      expectEnvelope(await get(`/community/posts?${search}`, { token: viewer.token }), 400, "VALIDATION_ERROR");
    }
  });

  it("requires authentication", async () => {
    expectEnvelope(await get("/community/posts"), 401, "UNAUTHORIZED");
  });

  it("is one database round trip (page, total, names and comment counts in one statement)", async () => {
    const viewer = await createClient();
    await createPost(viewer, { is_private: true });
    for (const search of ["", "?limit=100", "?is_private=true", "?skip=1000000"]) {
      const result = await get(`/community/posts${search}`, { token: viewer.token });
      expect(result.status).toBe(200);
      expect(result.headers.get("x-db-queries")).toBe("1");
    }
  });
});

describe("GET /community/posts/{id}", () => {
  it("returns the post with its comments oldest first", async () => {
    const author = await createClient({ firstName: "Cleo" });
    const created = await createPost(author);
    const commenter = await createCoach({ firstName: "Dan" });
    const admin = await createUser("admin");
    const first = await post(`/community/posts/${created.id}/comment`, { content: "first" }, { token: commenter.token });
    const second = await post(`/community/posts/${created.id}/comment`, { content: "second" }, { token: admin.token });
    const third = await post(`/community/posts/${created.id}/comment`, { content: "third" }, { token: author.token });
    const result = await get(`/community/posts/${created.id}`, { token: commenter.token });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      ...created,
      comment_count: 3,
      comments: [
        {
          id: first.body.id,
          author: { id: commenter.id, first_name: "Dan", last_name: "Coach" },
          content: "first",
          created_at: first.body.created_at,
        },
        {
          id: second.body.id,
          author: { id: admin.id, first_name: null, last_name: null },
          content: "second",
          created_at: second.body.created_at,
        },
        {
          id: third.body.id,
          author: { id: author.id, first_name: "Cleo", last_name: "Client" },
          content: "third",
          created_at: third.body.created_at,
        },
      ],
    });
  });

  it("answers 404 for an unknown post and 400 for a malformed id", async () => {
    const viewer = await createClient();
    expectEnvelope(await get(`/community/posts/${UNKNOWN_ID}`, { token: viewer.token }), 404, "NOT_FOUND");
    for (const id of [MALFORMED_ID, "1", "00000000-0000-0000-0000-00000000000g", "%27%20OR%201%3D1--"]) {
      expectEnvelope(await get(`/community/posts/${id}`, { token: viewer.token }), 400, "VALIDATION_ERROR");
    }
  });

  it("is at most two database round trips", async () => {
    const author = await createClient();
    const created = await createPost(author);
    await post(`/community/posts/${created.id}/comment`, { content: "hi" }, { token: author.token });
    const result = await get(`/community/posts/${created.id}`, { token: author.token });
    expect(result.status).toBe(200);
    expect(Number(result.headers.get("x-db-queries"))).toBeGreaterThanOrEqual(1);
    expect(Number(result.headers.get("x-db-queries"))).toBeLessThanOrEqual(2);
  });

  it("requires authentication", async () => {
    expectEnvelope(await get(`/community/posts/${UNKNOWN_ID}`), 401, "UNAUTHORIZED");
  });
});

describe("POST /community/posts/{id}/comment", () => {
  it("adds a comment with the commenter's names", async () => {
    const author = await createClient();
    const created = await createPost(author);
    const commenter = await createCoach({ firstName: "Eva" });
    const result = await post(
      `/community/posts/${created.id}/comment`,
      { content: "<i>Welcome</i> & good luck" },
      { token: commenter.token },
    );
    expect(result.status).toBe(201);
    expect(result.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      author: { id: commenter.id, first_name: "Eva", last_name: "Coach" },
      content: "<i>Welcome</i> & good luck",
      created_at: expect.stringMatching(/Z$/),
    });
  });

  it("rejects empty, blank and over-long comments, and unknown or malformed posts", async () => {
    const author = await createClient();
    const created = await createPost(author);
    for (const body of [{ content: "" }, { content: "  " }, { content: "x".repeat(5_001) }, {}, { content: 5 }]) {
      expectEnvelope(
        await post(`/community/posts/${created.id}/comment`, body, { token: author.token }),
        400,
        "VALIDATION_ERROR",
      );
    }
    expect(
      (await post(`/community/posts/${created.id}/comment`, { content: "x".repeat(5_000) }, { token: author.token })).status,
    ).toBe(201);
    expectEnvelope(
      await post(`/community/posts/${UNKNOWN_ID}/comment`, { content: "hi" }, { token: author.token }),
      404,
      "NOT_FOUND",
    );
    expectEnvelope(
      await post(`/community/posts/${MALFORMED_ID}/comment`, { content: "hi" }, { token: author.token }),
      400,
      "VALIDATION_ERROR",
    );
  });

  it("requires authentication", async () => {
    expectEnvelope(await post(`/community/posts/${UNKNOWN_ID}/comment`, { content: "hi" }), 401, "UNAUTHORIZED");
  });
});

describe("POST/DELETE /community/posts/{id}/upvote", () => {
  it("counts one vote per user: a repeat is idempotent, DELETE withdraws only the caller's vote", async () => {
    const author = await createClient();
    const created = await createPost(author);
    const [alice, bob] = [await createClient(), await createCoach()];
    expect((await post(`/community/posts/${created.id}/upvote`, undefined, { token: alice.token })).body).toEqual({ upvotes: 1 });
    expect((await post(`/community/posts/${created.id}/upvote`, undefined, { token: alice.token })).body).toEqual({ upvotes: 1 });
    expect((await post(`/community/posts/${created.id}/upvote`, undefined, { token: bob.token })).body).toEqual({ upvotes: 2 });
    const withdrawn = await del(`/community/posts/${created.id}/upvote`, { token: alice.token });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toEqual({ upvotes: 1 });
    // Withdrawing again (no vote left) changes nothing.
    expect((await del(`/community/posts/${created.id}/upvote`, { token: alice.token })).body).toEqual({ upvotes: 1 });
    expect(await upvotesInDatabase(created.id)).toEqual({ upvotes: 1, votes: 1 });
    const listedPost = (await get(`/community/posts/${created.id}`, { token: author.token })).body;
    expect(listedPost.upvotes).toBe(1);
  });

  it("keeps upvotes equal to the votes when a voter's account is deleted (database trigger)", async () => {
    const author = await createClient();
    const created = await createPost(author);
    const voters = [await createClient(), await createClient(), await createCoach()];
    for (const voter of voters) await post(`/community/posts/${created.id}/upvote`, undefined, { token: voter.token });
    expect(await upvotesInDatabase(created.id)).toEqual({ upvotes: 3, votes: 3 });
    await query(`DELETE FROM users WHERE id = $1`, [(voters[0] as TestUser).id]);
    expect(await upvotesInDatabase(created.id)).toEqual({ upvotes: 2, votes: 2 });
  });

  it("answers 404 for unknown posts and 400 for malformed ids", async () => {
    const user = await createClient();
    expectEnvelope(await post(`/community/posts/${UNKNOWN_ID}/upvote`, undefined, { token: user.token }), 404, "NOT_FOUND");
    expectEnvelope(await del(`/community/posts/${UNKNOWN_ID}/upvote`, { token: user.token }), 404, "NOT_FOUND");
    expectEnvelope(
      await post(`/community/posts/${MALFORMED_ID}/upvote`, undefined, { token: user.token }),
      400,
      "VALIDATION_ERROR",
    );
    expectEnvelope(await del(`/community/posts/${MALFORMED_ID}/upvote`, { token: user.token }), 400, "VALIDATION_ERROR");
  });

  it("requires authentication", async () => {
    expectEnvelope(await post(`/community/posts/${UNKNOWN_ID}/upvote`), 401, "UNAUTHORIZED");
    expectEnvelope(await del(`/community/posts/${UNKNOWN_ID}/upvote`), 401, "UNAUTHORIZED");
  });

  it.runIf(isRealPostgres())("20 concurrent upvotes from 20 users count 20", async () => {
    const author = await createClient();
    const created = await createPost(author);
    const voters = await Promise.all(Array.from({ length: 20 }, () => createClient()));
    const results = await Promise.all(
      voters.map((voter) => post(`/community/posts/${created.id}/upvote`, undefined, { token: voter.token })),
    );
    expect(results.map((result) => result.status)).toEqual(Array(20).fill(200));
    // Each answer is the count right after that vote: 1..20, each once.
    expect(results.map((result) => result.body.upvotes as number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(await upvotesInDatabase(created.id)).toEqual({ upvotes: 20, votes: 20 });
  });

  it.runIf(isRealPostgres())("20 concurrent repeats from one user count 1", async () => {
    const author = await createClient();
    const created = await createPost(author);
    const voter = await createCoach();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => post(`/community/posts/${created.id}/upvote`, undefined, { token: voter.token })),
    );
    expect(results.map((result) => result.status)).toEqual(Array(20).fill(200));
    expect(results.every((result) => result.body.upvotes === 1)).toBe(true);
    expect(await upvotesInDatabase(created.id)).toEqual({ upvotes: 1, votes: 1 });
  });

  it.runIf(isRealPostgres())("concurrent votes and withdrawals leave upvotes equal to the votes", async () => {
    const author = await createClient();
    const created = await createPost(author);
    const voters = await Promise.all(Array.from({ length: 10 }, () => createClient()));
    await Promise.all(voters.map((voter) => post(`/community/posts/${created.id}/upvote`, undefined, { token: voter.token })));
    await Promise.all(
      voters.flatMap((voter, i) => [
        i % 2 === 0
          ? del(`/community/posts/${created.id}/upvote`, { token: voter.token })
          : post(`/community/posts/${created.id}/upvote`, undefined, { token: voter.token }),
      ]),
    );
    expect(await upvotesInDatabase(created.id)).toEqual({ upvotes: 5, votes: 5 });
  });
});

describe("PUT /community/posts/{id}", () => {
  it("lets the author change some fields and keeps the others", async () => {
    const author = await createClient();
    const created = await createPost(author, { title: uniqueTitle("Draft"), content: "v1" });
    const result = await put(
      `/community/posts/${created.id}`,
      { content: "v2 <edited>", is_private: true },
      { token: author.token },
    );
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ ...created, content: "v2 <edited>", is_private: true });
    const typed = await put(
      `/community/posts/${created.id}`,
      { post_type: "question", title: "Now a question" },
      { token: author.token },
    );
    expect(typed.body).toMatchObject({ post_type: "question", title: "Now a question", content: "v2 <edited>" });
  });

  it("lets an admin edit anyone's post, announcements included", async () => {
    const author = await createCoach();
    const admin = await createUser("admin");
    const created = await createPost(author);
    const result = await put(`/community/posts/${created.id}`, { post_type: "announcement" }, { token: admin.token });
    expect(result.status).toBe(200);
    expect(result.body.post_type).toBe("announcement");
    expect(result.body.author.id).toBe(author.id);
  });

  it("refuses other users (403) and non-admins setting announcement (403)", async () => {
    const author = await createClient();
    const created = await createPost(author);
    const other = await createCoach();
    expectEnvelope(await put(`/community/posts/${created.id}`, { title: "Hijacked" }, { token: other.token }), 403, "FORBIDDEN");
    expectEnvelope(
      await put(`/community/posts/${created.id}`, { post_type: "announcement" }, { token: author.token }),
      403,
      "FORBIDDEN",
    );
    const [row] = await query<{ title: string; post_type: string }>(`SELECT title, post_type FROM posts WHERE id = $1`, [
      created.id,
    ]);
    expect(row).toEqual({ title: created.title, post_type: "discussion" });
  });

  it("rejects an empty or invalid change with 400 and unknown posts with 404", async () => {
    const author = await createClient();
    const created = await createPost(author);
    for (const body of [{}, { title: "" }, { content: "x".repeat(20_001) }, { post_type: "rant" }, { is_private: "no" }]) {
      expectEnvelope(await put(`/community/posts/${created.id}`, body, { token: author.token }), 400, "VALIDATION_ERROR");
    }
    expectEnvelope(await put(`/community/posts/${UNKNOWN_ID}`, { title: "x" }, { token: author.token }), 404, "NOT_FOUND");
    expectEnvelope(
      await put(`/community/posts/${MALFORMED_ID}`, { title: "x" }, { token: author.token }),
      400,
      "VALIDATION_ERROR",
    );
  });

  it("requires authentication", async () => {
    expectEnvelope(await put(`/community/posts/${UNKNOWN_ID}`, { title: "x" }), 401, "UNAUTHORIZED");
  });
});

describe("DELETE /community/posts/{id}", () => {
  it("lets the author delete; comments and votes go with the post", async () => {
    const author = await createClient();
    const created = await createPost(author);
    const other = await createCoach();
    await post(`/community/posts/${created.id}/comment`, { content: "bye" }, { token: other.token });
    await post(`/community/posts/${created.id}/upvote`, undefined, { token: other.token });
    const result = await del(`/community/posts/${created.id}`, { token: author.token });
    expect(result.status).toBe(204);
    expect(result.text).toBe("");
    expectEnvelope(await get(`/community/posts/${created.id}`, { token: author.token }), 404, "NOT_FOUND");
    const [counts] = await query<{ comments: number; votes: number }>(
      `SELECT (SELECT count(*)::int FROM comments WHERE post_id = $1) AS comments, (SELECT count(*)::int FROM post_votes WHERE post_id = $1) AS votes`,
      [created.id],
    );
    expect(counts).toEqual({ comments: 0, votes: 0 });
    expectEnvelope(await del(`/community/posts/${created.id}`, { token: author.token }), 404, "NOT_FOUND");
  });

  it("lets an admin delete anyone's post", async () => {
    const created = await createPost(await createCoach());
    expect((await del(`/community/posts/${created.id}`, { token: (await createUser("admin")).token })).status).toBe(204);
  });

  it("refuses other users with 403 and keeps the post", async () => {
    const created = await createPost(await createClient());
    expectEnvelope(await del(`/community/posts/${created.id}`, { token: (await createCoach()).token }), 403, "FORBIDDEN");
    const [row] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM posts WHERE id = $1`, [created.id]);
    expect(row?.n).toBe(1);
  });

  it("answers 400 for malformed ids and 401 without a token", async () => {
    const user = await createClient();
    expectEnvelope(await del(`/community/posts/${MALFORMED_ID}`, { token: user.token }), 400, "VALIDATION_ERROR");
    expectEnvelope(await del(`/community/posts/${UNKNOWN_ID}`), 401, "UNAUTHORIZED");
  });
});

describe("private posts", () => {
  /**
   * A client's private post and everyone around it: the author, their coach
   * (confirmed booking), a coach they finished a session with (completed),
   * coaches with only a pending or cancelled booking, strangers, an admin.
   */
  async function privateWorld() {
    const author = await createClient();
    const bookedCoach = await createCoach();
    const formerCoach = await createCoach();
    const pendingCoach = await createCoach();
    const cancelledCoach = await createCoach();
    const strangerCoach = await createCoach();
    const strangerClient = await createClient();
    const admin = await createUser("admin");
    await book(author, bookedCoach, "confirmed");
    await book(author, formerCoach, "completed");
    await book(author, pendingCoach, "pending");
    await book(author, cancelledCoach, "cancelled");
    const secret = await createPost(author, { is_private: true, title: uniqueTitle("Private worries") });
    return { author, bookedCoach, formerCoach, pendingCoach, cancelledCoach, strangerCoach, strangerClient, admin, secret };
  }

  it("is listed, readable, commentable and votable for the author, a confirmed or completed booking partner and admins", async () => {
    const world = await privateWorld();
    for (const viewer of [world.author, world.bookedCoach, world.formerCoach, world.admin]) {
      expect(await listed(viewer, world.secret), `list for ${viewer.role}`).toBe(true);
      expect(await listed(viewer, world.secret, "&is_private=true")).toBe(true);
      const detail = await get(`/community/posts/${world.secret.id}`, { token: viewer.token });
      expect(detail.status).toBe(200);
      expect(detail.body.is_private).toBe(true);
      expect(
        (await post(`/community/posts/${world.secret.id}/comment`, { content: "I see it" }, { token: viewer.token })).status,
      ).toBe(201);
      expect((await post(`/community/posts/${world.secret.id}/upvote`, undefined, { token: viewer.token })).status).toBe(200);
      expect((await del(`/community/posts/${world.secret.id}/upvote`, { token: viewer.token })).status).toBe(200);
    }
  });

  it("is absent and 404 everywhere for stranger coaches and clients and for pending or cancelled booking partners", async () => {
    const world = await privateWorld();
    for (const viewer of [world.strangerCoach, world.strangerClient, world.pendingCoach, world.cancelledCoach]) {
      expect(await listed(viewer, world.secret)).toBe(false);
      expect(await listed(viewer, world.secret, "&is_private=true")).toBe(false);
      const id = world.secret.id as string;
      expectEnvelope(await get(`/community/posts/${id}`, { token: viewer.token }), 404, "NOT_FOUND");
      expectEnvelope(
        await post(`/community/posts/${id}/comment`, { content: "sneaky" }, { token: viewer.token }),
        404,
        "NOT_FOUND",
      );
      expectEnvelope(await post(`/community/posts/${id}/upvote`, undefined, { token: viewer.token }), 404, "NOT_FOUND");
      expectEnvelope(await del(`/community/posts/${id}/upvote`, { token: viewer.token }), 404, "NOT_FOUND");
      expectEnvelope(await put(`/community/posts/${id}`, { title: "mine now" }, { token: viewer.token }), 404, "NOT_FOUND");
      expectEnvelope(await del(`/community/posts/${id}`, { token: viewer.token }), 404, "NOT_FOUND");
    }
    const [row] = await query<{ comments: number; upvotes: number; title: string }>(
      `SELECT (SELECT count(*)::int FROM comments WHERE post_id = p.id) AS comments, p.upvotes, p.title FROM posts p WHERE p.id = $1`,
      [world.secret.id],
    );
    expect(row).toEqual({ comments: 0, upvotes: 0, title: world.secret.title });
  });

  it("answers the same 404 for a hidden post as for a post that does not exist", async () => {
    const world = await privateWorld();
    const hidden = await get(`/community/posts/${world.secret.id}`, { token: world.strangerClient.token });
    const missing = await get(`/community/posts/${UNKNOWN_ID}`, { token: world.strangerClient.token });
    expect(hidden.body.error.message).toBe(missing.body.error.message);
    expect(hidden.body.error.details).toEqual(missing.body.error.details);
  });

  it("lets a booking partner see but not edit or delete (403), while the author and admins may", async () => {
    const world = await privateWorld();
    expectEnvelope(
      await put(`/community/posts/${world.secret.id}`, { title: "edited" }, { token: world.bookedCoach.token }),
      403,
      "FORBIDDEN",
    );
    expectEnvelope(await del(`/community/posts/${world.secret.id}`, { token: world.bookedCoach.token }), 403, "FORBIDDEN");
    expect(
      (await put(`/community/posts/${world.secret.id}`, { title: "edited by admin" }, { token: world.admin.token })).status,
    ).toBe(200);
    expect(
      (await put(`/community/posts/${world.secret.id}`, { title: "edited by me" }, { token: world.author.token })).status,
    ).toBe(200);
    expect((await del(`/community/posts/${world.secret.id}`, { token: world.author.token })).status).toBe(204);
  });

  it("works in both directions: a coach's private post is visible to the coach's booked client", async () => {
    const coach = await createCoach();
    const client = await createClient();
    const otherClient = await createClient();
    await book(client, coach, "confirmed");
    const secret = await createPost(coach, { is_private: true });
    expect((await get(`/community/posts/${secret.id}`, { token: client.token })).status).toBe(200);
    expect(await listed(client, secret)).toBe(true);
    expectEnvelope(await get(`/community/posts/${secret.id}`, { token: otherClient.token }), 404, "NOT_FOUND");
    expect(await listed(otherClient, secret)).toBe(false);
  });

  it("follows the booking's status: visible once confirmed, hidden again when cancelled", async () => {
    const author = await createClient();
    const coach = await createCoach();
    const secret = await createPost(author, { is_private: true });
    expectEnvelope(await get(`/community/posts/${secret.id}`, { token: coach.token }), 404, "NOT_FOUND");
    await book(author, coach, "pending");
    expectEnvelope(await get(`/community/posts/${secret.id}`, { token: coach.token }), 404, "NOT_FOUND");
    await query(`UPDATE bookings SET status = 'confirmed' WHERE client_id = $1 AND coach_id = $2`, [author.id, coach.id]);
    expect((await get(`/community/posts/${secret.id}`, { token: coach.token })).status).toBe(200);
    await query(`UPDATE bookings SET status = 'cancelled' WHERE client_id = $1 AND coach_id = $2`, [author.id, coach.id]);
    expectEnvelope(await get(`/community/posts/${secret.id}`, { token: coach.token }), 404, "NOT_FOUND");
  });

  it("hides a public post that the author makes private from strangers", async () => {
    const author = await createClient();
    const stranger = await createCoach();
    const created = await createPost(author);
    expect((await get(`/community/posts/${created.id}`, { token: stranger.token })).status).toBe(200);
    await put(`/community/posts/${created.id}`, { is_private: true }, { token: author.token });
    expectEnvelope(await get(`/community/posts/${created.id}`, { token: stranger.token }), 404, "NOT_FOUND");
    expect(await listed(stranger, created)).toBe(false);
  });
});

describe("OpenAPI", () => {
  it("documents every community route with bearer auth and its error responses", async () => {
    const doc = (await get("/openapi.json")).body;
    const expected: Array<[string, string]> = [
      ["/community/posts", "get"],
      ["/community/posts", "post"],
      ["/community/posts/{id}", "get"],
      ["/community/posts/{id}", "put"],
      ["/community/posts/{id}", "delete"],
      ["/community/posts/{id}/comment", "post"],
      ["/community/posts/{id}/upvote", "post"],
      ["/community/posts/{id}/upvote", "delete"],
      ["/community/resources", "get"],
      ["/community/resources", "post"],
      ["/community/resources/bookmarks", "get"],
      ["/community/resources/{id}/bookmark", "post"],
      ["/community/resources/{id}/bookmark", "delete"],
    ];
    for (const [path, method] of expected) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation.security).toEqual([{ bearerAuth: [] }]);
      expect(operation.responses["401"]).toBeDefined();
    }
    expect(doc.paths["/community/resources/{id}/bookmark"].post.responses["409"]).toBeDefined();
  });
});
