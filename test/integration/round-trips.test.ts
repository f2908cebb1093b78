/**
 * Database round trips per endpoint, pinned (issue 9). The Worker counts every
 * statement sent through the request's pool (src/db/client.ts) and reports it
 * as `X-DB-Queries` in development/test; each statement is one round trip to
 * Postgres (an interactive transaction adds BEGIN and COMMIT).
 *
 * Budget: every read is 1; every write <= 2, except the writes whose
 * transaction is needed for correctness (listed in BENCHMARKS.md with the
 * reason, pinned here at their actual count so that any change is seen);
 * a cached POST /match is 0 and so is every edge-cache hit (contract v2 "Edge
 * data path": the validity comes from data versions in KV, never from
 * Postgres). The limit routes of the benchmark are pinned too (0, 0, 1).
 *
 * Coverage is checked against /openapi.json: every documented operation must
 * be in one of the tables below, so a new endpoint cannot skip its budget.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallResult, call, del, get, type Json, post, put, uniqueEmail } from "../helpers/api.ts";
import { book, checkout, confirmedBooking, deliver, paidSessionEvent, slot } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { stripeEvent } from "../helpers/fake-stripe.ts";
import { completeQuiz, createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

function roundTrips(result: CallResult): number {
  const header = result.headers.get("x-db-queries");
  if (header === null) throw new Error(`no X-DB-Queries header (status ${result.status})`);
  return Number(header);
}

/** Runs one request, checks it did what it should (status), returns its round trips. */
async function counted(run: () => Promise<CallResult>, status: number): Promise<number> {
  const result = await run();
  if (result.status !== status) throw new Error(`expected ${status}, got ${result.status}: ${result.text.slice(0, 300)}`);
  return roundTrips(result);
}

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3, 4]);

interface World {
  coach: TestUser;
  client: TestUser;
  admin: TestUser;
  country: string;
  pendingBooking: Json;
  paymentId: string;
  feedToken: string;
  postId: string;
  resourceId: string;
  photoKey: string;
}
let world: World;

beforeAll(async () => {
  const country = `Roundtripia ${crypto.randomUUID().slice(0, 8)}`;
  const coach = await createCoach({ countries: [country], languages: ["English"] });
  const client = await createClient({ quiz: completeQuiz({ target_countries: [country] }) });
  const admin = await createUser("admin");
  const pendingBooking = await book(client, coach, slot(10));
  await checkout(client, pendingBooking.id);
  const [payment] = await query<{ id: string }>(`select id from payments where booking_id = $1`, [pendingBooking.id]);
  await confirmedBooking(client, coach, slot(11));
  const feed = await post("/calendar/feed-token", undefined, { token: client.token });
  const created = await post(
    "/community/posts",
    { title: "Round trips", content: "Counted", post_type: "discussion" },
    { token: client.token },
  );
  await post(`/community/posts/${created.body.id}/comment`, { content: "first" }, { token: coach.token });
  await post(`/community/posts/${created.body.id}/comment`, { content: "second" }, { token: client.token });
  const resource = await post(
    "/community/resources",
    {
      title: "Round-trip guide",
      description: "How to",
      resource_type: "article",
      url: "https://example.com/guide",
      tags: ["roundtrip"],
    },
    { token: coach.token },
  );
  await post(`/community/resources/${resource.body.id}/bookmark`, undefined, { token: client.token });
  const form = new FormData();
  form.append("photo", new Blob([PNG], { type: "image/png" }), "me.png");
  const photo = await call("POST", "/profile/photo", { token: coach.token, rawBody: form });
  await post("/match", {}, { token: client.token }); // cached for the hit below
  world = {
    coach,
    client,
    admin,
    country,
    pendingBooking,
    paymentId: (payment as { id: string }).id,
    feedToken: /feed\/([^/]+)\.ics$/.exec(feed.body.feed_url)![1]!,
    postId: created.body.id,
    resourceId: resource.body.id,
    photoKey: /\/photos\/([^/]+)$/.exec(photo.body.photo_url)![1]!,
  };
});

interface Case {
  /** "METHOD /openapi/path" as documented */
  operation: string;
  /** a variant of the same operation, when there are several */
  variant?: string;
  expected: number;
  status: number;
  run: () => Promise<CallResult>;
  /** why more than the budget (1 for reads, 2 for writes) */
  why?: string;
}

const reads: Case[] = [
  { operation: "GET /health", expected: 1, status: 200, run: () => get("/health") },
  { operation: "GET /dev/bench/constant", expected: 0, status: 200, run: () => get("/dev/bench/constant") },
  { operation: "GET /dev/bench/kv", expected: 0, status: 200, run: () => get("/dev/bench/kv") },
  { operation: "GET /dev/bench/db", expected: 1, status: 200, run: () => get("/dev/bench/db") },
  {
    operation: "GET /dev/bench/db",
    variant: "round_trips=3&parallel=2",
    expected: 6,
    status: 200,
    run: () => get("/dev/bench/db?round_trips=3&parallel=2"),
  },
  { operation: "GET /dev/emails", expected: 1, status: 200, run: () => get(`/dev/emails?to=${world.client.email}`) },
  { operation: "GET /photos/{key}", expected: 0, status: 200, run: () => get(`/photos/${world.photoKey}`) },
  {
    operation: "GET /profile",
    variant: "client",
    expected: 1,
    status: 200,
    run: () => get("/profile", { token: world.client.token }),
  },
  {
    operation: "GET /profile",
    variant: "coach",
    expected: 1,
    status: 200,
    run: () => get("/profile", { token: world.coach.token }),
  },
  {
    operation: "GET /profile",
    variant: "admin",
    expected: 1,
    status: 200,
    run: () => get("/profile", { token: world.admin.token }),
  },
  {
    operation: "GET /profile/export",
    expected: 1,
    status: 200,
    run: () => get("/profile/export", { token: world.client.token }),
  },
  {
    operation: "GET /coaches",
    variant: "language + country",
    expected: 1,
    status: 200,
    run: () => get(`/coaches?language=English&country=${encodeURIComponent(world.country)}`, { token: world.client.token }),
  },
  {
    operation: "GET /coaches",
    variant: "q + verified",
    expected: 1,
    status: 200,
    run: () =>
      get(`/coaches?q=intercultural&verified=false&country=${encodeURIComponent(world.country)}`, { token: world.client.token }),
  },
  {
    operation: "GET /coaches/{id}/reviews",
    expected: 1,
    status: 200,
    run: () => get(`/coaches/${world.coach.id}/reviews`, { token: world.client.token }),
  },
  {
    operation: "GET /coaches/{id}",
    variant: "profile id",
    expected: 1,
    status: 200,
    run: () => get(`/coaches/${world.coach.profileId}`, { token: world.client.token }),
  },
  {
    operation: "GET /coaches/{id}",
    variant: "user id",
    expected: 1,
    status: 200,
    run: () => get(`/coaches/${world.coach.id}`, { token: world.client.token }),
  },
  {
    operation: "GET /match/cache/info",
    expected: 1,
    status: 200,
    run: () => get("/match/cache/info", { token: world.client.token }),
  },
  {
    operation: "GET /booking/{id}",
    variant: "client",
    expected: 1,
    status: 200,
    run: () => get(`/booking/${world.pendingBooking.id}`, { token: world.client.token }),
  },
  {
    operation: "GET /booking/{id}",
    variant: "admin",
    expected: 1,
    status: 200,
    run: () => get(`/booking/${world.pendingBooking.id}`, { token: world.admin.token }),
  },
  {
    operation: "GET /booking/client/{client_id}",
    variant: "self",
    expected: 1,
    status: 200,
    run: () => get(`/booking/client/${world.client.id}`, { token: world.client.token }),
  },
  {
    operation: "GET /booking/client/{client_id}",
    variant: "admin by profile id",
    expected: 1,
    status: 200,
    run: () => get(`/booking/client/${world.client.profileId}?status=pending`, { token: world.admin.token }),
  },
  {
    operation: "GET /booking/coach/{coach_id}",
    expected: 1,
    status: 200,
    run: () => get(`/booking/coach/${world.coach.id}`, { token: world.coach.token }),
  },
  {
    operation: "GET /booking/coach/{coach_id}/availability",
    expected: 1,
    status: 200,
    run: () => get(`/booking/coach/${world.coach.id}/availability?duration_minutes=30`),
  },
  {
    operation: "GET /payouts/account",
    expected: 1,
    status: 200,
    run: () => get("/payouts/account", { token: world.coach.token }),
  },
  {
    operation: "GET /payouts/earnings",
    expected: 1,
    status: 200,
    run: () => get("/payouts/earnings", { token: world.coach.token }),
  },
  {
    operation: "GET /payment/{id}",
    expected: 1,
    status: 200,
    run: () => get(`/payment/${world.paymentId}`, { token: world.client.token }),
  },
  {
    operation: "GET /calendar/feed/{token}.ics",
    expected: 1,
    status: 200,
    run: () => get(`/calendar/feed/${world.feedToken}.ics`),
  },
  {
    operation: "GET /calendar/feed/{token}.ics",
    variant: "unknown token",
    expected: 1,
    status: 404,
    run: () => get(`/calendar/feed/${"x".repeat(43)}.ics`),
  },
  {
    operation: "GET /community/posts",
    expected: 1,
    status: 200,
    run: () => get("/community/posts", { token: world.client.token }),
  },
  {
    operation: "GET /community/posts/{id}",
    expected: 1,
    status: 200,
    run: () => get(`/community/posts/${world.postId}`, { token: world.client.token }),
  },
  {
    operation: "GET /community/resources",
    expected: 1,
    status: 200,
    run: () => get("/community/resources?tags=roundtrip&q=guide", { token: world.client.token }),
  },
  {
    operation: "GET /community/resources/bookmarks",
    expected: 1,
    status: 200,
    run: () => get("/community/resources/bookmarks", { token: world.client.token }),
  },
  { operation: "GET /admin/metrics", expected: 1, status: 200, run: () => get("/admin/metrics", { token: world.admin.token }) },
  {
    operation: "GET /admin/users",
    expected: 1,
    status: 200,
    run: () => get("/admin/users?search=example", { token: world.admin.token }),
  },
  {
    operation: "GET /admin/users/{id}",
    expected: 1,
    status: 200,
    run: () => get(`/admin/users/${world.client.id}`, { token: world.admin.token }),
  },
  {
    operation: "GET /admin/bookings",
    expected: 1,
    status: 200,
    run: () => get(`/admin/bookings?client_id=${world.client.id}`, { token: world.admin.token }),
  },
  {
    operation: "GET /admin/revenue",
    variant: "json",
    expected: 1,
    status: 200,
    run: () => get("/admin/revenue", { token: world.admin.token }),
  },
  {
    operation: "GET /admin/revenue",
    variant: "csv",
    expected: 1,
    status: 200,
    run: () => get("/admin/revenue?format=csv", { token: world.admin.token }),
  },
  {
    operation: "GET /admin/audit-log",
    expected: 1,
    status: 200,
    run: () => get("/admin/audit-log", { token: world.admin.token }),
  },
];

/** Reads that take a second statement only on a page past the end (no row carries the window count). */
const pastTheEnd: Case[] = [
  {
    operation: "GET /booking/client/{client_id}",
    expected: 2,
    status: 200,
    run: () => get(`/booking/client/${world.client.id}?skip=500`, { token: world.client.token }),
  },
  {
    operation: "GET /admin/users",
    expected: 2,
    status: 200,
    run: () => get("/admin/users?skip=999999", { token: world.admin.token }),
  },
  {
    operation: "GET /community/posts",
    expected: 1,
    status: 200,
    run: () => get("/community/posts?skip=999999", { token: world.client.token }),
  },
];

describe("reads: one round trip each", () => {
  for (const read of reads) {
    it(`${read.operation}${read.variant ? ` (${read.variant})` : ""}: ${read.expected}`, async () => {
      expect(await counted(read.run, read.status)).toBe(read.expected);
    });
  }

  it("the cached POST /match makes no SQL statement (edge entry in KV), the cold one three", async () => {
    const hit = await post("/match", {}, { token: world.client.token });
    expect(hit.body.cached).toBe(true);
    expect(roundTrips(hit)).toBe(0);
    expect(await counted(() => post("/match", { force_refresh: true }, { token: world.client.token }), 200)).toBe(3);
    // The recomputed entry is the new edge entry: the next one is a hit again, without SQL.
    expect(await counted(() => post("/match", {}, { token: world.client.token }), 200)).toBe(0);
  });

  for (const read of pastTheEnd) {
    it(`${read.operation} past the last page: ${read.expected}`, async () => {
      expect(await counted(read.run, read.status)).toBe(read.expected);
    });
  }
});

/** Public read-mostly answers served from the edge cache (middleware/edge-cache.ts): a hit makes no round trip. */
const edgeCached: Array<{ operation: string; path: () => string; token: () => string | undefined }> = [
  {
    operation: "GET /coaches",
    path: () => `/coaches?language=English&country=${encodeURIComponent(world.country)}&limit=7`,
    token: () => world.client.token,
  },
  { operation: "GET /coaches/{id}", path: () => `/coaches/${world.coach.profileId}`, token: () => world.client.token },
  { operation: "GET /community/resources", path: () => "/community/resources?limit=3", token: () => world.client.token },
];

describe("edge-cache hits: no database round trip", () => {
  for (const cached of edgeCached) {
    it(`${cached.operation}: the second identical read is a hit with 0 statements`, async () => {
      const first = await get(cached.path(), { token: cached.token() });
      expect(first.status).toBe(200);
      const second = await get(cached.path(), { token: cached.token() });
      expect(second.status).toBe(200);
      expect(second.headers.get("x-edge-cache")).toBe("hit");
      expect(roundTrips(second)).toBe(0);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
    });
  }
});

describe("the budget catches a regression", () => {
  it("a route that runs two statements is counted as two (the header is not a constant)", async () => {
    expect(await counted(() => get("/dev/bench/db?round_trips=2"), 200)).toBe(2);
    expect(await counted(() => get("/dev/bench/db?parallel=3"), 200)).toBe(3);
  });
});

// ---------------------------------------------------------------------------
// writes
// ---------------------------------------------------------------------------

/** A write scenario: builds its own objects, then runs the counted request(s). */
interface WriteCase {
  operation: string;
  variant?: string;
  expected: number;
  why?: string;
  measure: () => Promise<number>;
}

async function emailToken(to: string, subject: RegExp): Promise<string> {
  const emails = await get(`/dev/emails?to=${encodeURIComponent(to)}`);
  const mail = (emails.body.items as Json[]).find((item) => subject.test(item.subject));
  if (!mail) throw new Error(`no email "${subject}" to ${to}`);
  return /token=([A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
}

const STRONG = "Strong#Pass1";

const writes: WriteCase[] = [
  {
    operation: "POST /auth/signup",
    expected: 2,
    measure: () => counted(() => post("/auth/signup", { email: uniqueEmail("rt"), password: STRONG, role: "client" }), 201),
  },
  {
    operation: "POST /auth/signup",
    variant: "email taken",
    expected: 1,
    measure: async () => {
      const email = uniqueEmail("rt");
      await post("/auth/signup", { email, password: STRONG, role: "client" });
      return counted(() => post("/auth/signup", { email, password: STRONG, role: "coach" }), 409);
    },
  },
  {
    operation: "POST /auth/login",
    expected: 2,
    measure: async () => {
      const email = uniqueEmail("rt");
      await post("/auth/signup", { email, password: STRONG, role: "client" });
      return counted(() => post("/auth/login", { email, password: STRONG }), 200);
    },
  },
  {
    operation: "POST /auth/refresh",
    expected: 1,
    measure: async () => {
      const email = uniqueEmail("rt");
      const signup = await post("/auth/signup", { email, password: STRONG, role: "client" });
      return counted(() => post("/auth/refresh", { refresh_token: signup.body.refresh_token }), 200);
    },
  },
  {
    operation: "POST /auth/refresh",
    variant: "reuse revokes the family",
    expected: 2,
    measure: async () => {
      const signup = await post("/auth/signup", { email: uniqueEmail("rt"), password: STRONG, role: "client" });
      await post("/auth/refresh", { refresh_token: signup.body.refresh_token });
      return counted(() => post("/auth/refresh", { refresh_token: signup.body.refresh_token }), 401);
    },
  },
  {
    operation: "POST /auth/logout",
    expected: 1,
    measure: async () => {
      const signup = await post("/auth/signup", { email: uniqueEmail("rt"), password: STRONG, role: "client" });
      return counted(
        () => post("/auth/logout", { refresh_token: signup.body.refresh_token }, { token: signup.body.access_token }),
        204,
      );
    },
  },
  {
    operation: "POST /auth/reset-password",
    expected: 1,
    measure: async () => {
      const email = uniqueEmail("rt");
      await post("/auth/signup", { email, password: STRONG, role: "client" });
      return counted(() => post("/auth/reset-password", { email }), 200);
    },
  },
  {
    operation: "GET /auth/reset-password/confirm",
    expected: 1,
    measure: async () => {
      const email = uniqueEmail("rt");
      await post("/auth/signup", { email, password: STRONG, role: "client" });
      await post("/auth/reset-password", { email });
      const token = await emailToken(email, /reset/i);
      return counted(() => get(`/auth/reset-password/confirm?token=${token}`), 200);
    },
  },
  {
    operation: "POST /auth/reset-password/confirm",
    expected: 2,
    measure: async () => {
      const email = uniqueEmail("rt");
      await post("/auth/signup", { email, password: STRONG, role: "client" });
      await post("/auth/reset-password", { email });
      const token = await emailToken(email, /reset/i);
      return counted(() => post("/auth/reset-password/confirm", { token, new_password: "Newer#Pass2" }), 200);
    },
  },
  {
    operation: "POST /auth/verify-email",
    expected: 1,
    measure: async () => {
      const email = uniqueEmail("rt");
      await post("/auth/signup", { email, password: STRONG, role: "client" });
      const token = await emailToken(email, /verify/i);
      return counted(() => post("/auth/verify-email", { token }), 200);
    },
  },
  {
    operation: "GET /auth/verify-email",
    expected: 1,
    measure: async () => {
      const email = uniqueEmail("rt");
      await post("/auth/signup", { email, password: STRONG, role: "client" });
      const token = await emailToken(email, /verify/i);
      return counted(() => get(`/auth/verify-email?token=${token}`), 200);
    },
  },
  {
    operation: "POST /auth/reset-password/confirm/form",
    expected: 2,
    measure: async () => {
      const email = uniqueEmail("rt");
      await post("/auth/signup", { email, password: STRONG, role: "client" });
      await post("/auth/reset-password", { email });
      const token = await emailToken(email, /reset/i);
      return counted(
        () =>
          call("POST", "/auth/reset-password/confirm/form", {
            rawBody: new URLSearchParams({ token, new_password: "Newer#Pass2" }).toString(),
            headers: { "content-type": "application/x-www-form-urlencoded" },
          }),
        200,
      );
    },
  },
  {
    operation: "POST /auth/verify-email/resend",
    expected: 2,
    measure: async () => {
      const signup = await post("/auth/signup", { email: uniqueEmail("rt"), password: STRONG, role: "client" });
      return counted(() => post("/auth/verify-email/resend", undefined, { token: signup.body.access_token }), 202);
    },
  },
  {
    operation: "POST /auth/change-password",
    expected: 2,
    measure: async () => {
      const signup = await post("/auth/signup", { email: uniqueEmail("rt"), password: STRONG, role: "client" });
      return counted(
        () =>
          post(
            "/auth/change-password",
            { current_password: STRONG, new_password: "Newer#Pass2" },
            { token: signup.body.access_token },
          ),
        200,
      );
    },
  },
  {
    operation: "PUT /profile",
    variant: "client",
    expected: 1,
    measure: async () => {
      const client = await createClient();
      return counted(() => put("/profile", { first_name: "Ana", quiz_data: completeQuiz() }, { token: client.token }), 200);
    },
  },
  {
    operation: "PUT /profile",
    variant: "coach",
    expected: 1,
    measure: async () => {
      const coach = await createCoach();
      return counted(() => put("/profile", { bio: "Changed" }, { token: coach.token }), 200);
    },
  },
  {
    operation: "POST /profile/photo",
    variant: "client",
    expected: 1,
    measure: async () => {
      const client = await createClient();
      const form = new FormData();
      form.append("photo", new Blob([PNG], { type: "image/png" }), "me.png");
      return counted(() => call("POST", "/profile/photo", { token: client.token, rawBody: form }), 200);
    },
  },
  {
    operation: "POST /profile/photo",
    variant: "coach (coaches version bumped in the same statement)",
    expected: 1,
    measure: async () => {
      const coach = await createCoach();
      const form = new FormData();
      form.append("photo", new Blob([PNG], { type: "image/png" }), "me.png");
      return counted(() => call("POST", "/profile/photo", { token: coach.token, rawBody: form }), 200);
    },
  },
  {
    operation: "DELETE /profile",
    expected: 2,
    why: "account deletion: the user with their future bookings (one read), then account_delete() deleting or anonymising every table's rows in one statement; each future booking adds the cancellation path's 2",
    measure: async () => {
      const client = await createClient();
      return counted(() => del("/profile", { token: client.token }), 204);
    },
  },
  {
    operation: "DELETE /profile",
    variant: "one future booking",
    expected: 4,
    why: "the read, the booking's cancellation (2: the cancellation path and its refund policy), account_delete()",
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      await book(client, coach, slot(23));
      return counted(() => del("/profile", { token: client.token }), 204);
    },
  },
  {
    operation: "POST /booking",
    variant: "a coach this Worker has not read",
    expected: 2,
    why: "the bookable coach (availability judged on its wall clock in TypeScript), then booking_create()",
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      return counted(
        () =>
          post(
            "/booking",
            { coach_id: coach.id, session_datetime: slot(12).toISOString(), duration_minutes: 60 },
            { token: client.token },
          ),
        201,
      );
    },
  },
  {
    operation: "POST /booking",
    variant: "after the client viewed the coach's free slots",
    expected: 1,
    why: "booking_create_known_coach() re-checks the coach the free-slot view read (bookable-coach-memo.ts)",
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      const view = await get(`/booking/coach/${coach.id}/availability?duration_minutes=60`, { token: client.token });
      if (view.status !== 200) throw new Error(`free slots: ${view.status}`);
      return counted(
        () =>
          post(
            "/booking",
            { coach_id: coach.id, session_datetime: slot(12, 14).toISOString(), duration_minutes: 60 },
            { token: client.token },
          ),
        201,
      );
    },
  },
  {
    operation: "PATCH /booking/{id}/status",
    expected: 2,
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await book(client, coach, slot(13));
      return counted(
        () => call("PATCH", `/booking/${booking.id}/status`, { token: coach.token, body: { status: "confirmed" } }),
        200,
      );
    },
  },
  {
    operation: "DELETE /booking/{id}",
    expected: 2,
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await book(client, coach, slot(14));
      return counted(() => del(`/booking/${booking.id}`, { token: client.token }), 204);
    },
  },
  {
    operation: "DELETE /booking/{id}",
    variant: "paid, refund due",
    expected: 2,
    why: "read, booking_cancel() (which records the refund intent); the refund is made at Stripe after the response, on a connection of its own (payment-followups.ts), and marked there",
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      const { booking } = await confirmedBooking(client, coach, slot(19));
      return counted(() => del(`/booking/${booking.id}`, { token: coach.token }), 204);
    },
  },
  {
    operation: "PATCH /booking/{id}/status",
    variant: "cancelled",
    expected: 2,
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await book(client, coach, slot(18));
      return counted(
        () => call("PATCH", `/booking/${booking.id}/status`, { token: client.token, body: { status: "cancelled" } }),
        200,
      );
    },
  },
  {
    operation: "POST /booking/{id}/reschedule",
    expected: 2,
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await book(client, coach, slot(20));
      return counted(
        () => post(`/booking/${booking.id}/reschedule`, { session_datetime: slot(21).toISOString() }, { token: client.token }),
        200,
      );
    },
  },
  {
    operation: "POST /payment/checkout",
    expected: 2,
    why: "no transaction around Stripe: one read (booking, coach price and payout account, attempts), then the intent written before Stripe is called (guarded by the booking's version); the session is recorded after the response, on a session of its own",
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await book(client, coach, slot(15));
      return counted(() => post("/payment/checkout", { booking_id: booking.id }, { token: client.token }), 200);
    },
  },
  {
    operation: "POST /payment/checkout",
    variant: "session already open",
    expected: 1,
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await book(client, coach, slot(16));
      await checkout(client, booking.id);
      return counted(() => post("/payment/checkout", { booking_id: booking.id }, { token: client.token }), 200);
    },
  },
  {
    operation: "POST /payment/webhook",
    expected: 2,
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await book(client, coach, slot(17));
      const session = await checkout(client, booking.id);
      const event = await paidSessionEvent(session.session_id);
      const result = await deliver(event);
      expect(result.status).toBe(200);
      return roundTrips(result);
    },
  },
  {
    operation: "POST /payment/webhook",
    variant: "duplicate",
    expected: 1,
    measure: async () => {
      const coach = await createCoach();
      const client = await createClient();
      const booking = await book(client, coach, slot(18));
      const session = await checkout(client, booking.id);
      const event = await paidSessionEvent(session.session_id);
      expect((await deliver(event)).status).toBe(200);
      const again = await deliver(event);
      expect(again.status).toBe(200);
      return roundTrips(again);
    },
  },
  {
    operation: "POST /payment/webhook",
    variant: "account.updated",
    expected: 1,
    measure: async () => {
      const event = stripeEvent("account.updated", {
        id: "acct_test_roundtrip",
        object: "account",
        charges_enabled: true,
        payouts_enabled: true,
        details_submitted: true,
      });
      const result = await deliver(event);
      expect(result.status).toBe(200);
      return roundTrips(result);
    },
  },
  {
    operation: "POST /payouts/onboarding",
    expected: 2,
    why: "first call: read the profile, Stripe creates the account, store it (only where none is stored); later calls 1",
    measure: async () => {
      const coach = await createCoach();
      return counted(() => post("/payouts/onboarding", undefined, { token: coach.token }), 200);
    },
  },
  {
    operation: "POST /calendar/feed-token",
    expected: 1,
    measure: async () => {
      const client = await createClient();
      return counted(() => post("/calendar/feed-token", undefined, { token: client.token }), 200);
    },
  },
  {
    operation: "POST /community/posts",
    expected: 1,
    measure: () =>
      counted(
        () => post("/community/posts", { title: "T", content: "C", post_type: "discussion" }, { token: world.client.token }),
        201,
      ),
  },
  {
    operation: "PUT /community/posts/{id}",
    expected: 1,
    measure: async () => {
      const created = await post(
        "/community/posts",
        { title: "T", content: "C", post_type: "discussion" },
        { token: world.client.token },
      );
      return counted(() => put(`/community/posts/${created.body.id}`, { title: "T2" }, { token: world.client.token }), 200);
    },
  },
  {
    operation: "DELETE /community/posts/{id}",
    expected: 1,
    measure: async () => {
      const created = await post(
        "/community/posts",
        { title: "T", content: "C", post_type: "discussion" },
        { token: world.client.token },
      );
      return counted(() => del(`/community/posts/${created.body.id}`, { token: world.client.token }), 204);
    },
  },
  {
    operation: "POST /community/posts/{id}/comment",
    expected: 1,
    measure: () =>
      counted(() => post(`/community/posts/${world.postId}/comment`, { content: "x" }, { token: world.coach.token }), 201),
  },
  {
    operation: "PUT /community/comments/{id}",
    variant: "admin on another's comment (audited)",
    expected: 1,
    measure: async () => {
      const created = await post(`/community/posts/${world.postId}/comment`, { content: "x" }, { token: world.coach.token });
      return counted(() => put(`/community/comments/${created.body.id}`, { content: "y" }, { token: world.admin.token }), 200);
    },
  },
  {
    operation: "DELETE /community/comments/{id}",
    expected: 1,
    measure: async () => {
      const created = await post(`/community/posts/${world.postId}/comment`, { content: "x" }, { token: world.coach.token });
      return counted(() => del(`/community/comments/${created.body.id}`, { token: world.coach.token }), 204);
    },
  },
  {
    operation: "POST /community/posts/{id}/upvote",
    expected: 1,
    measure: () => counted(() => post(`/community/posts/${world.postId}/upvote`, undefined, { token: world.admin.token }), 200),
  },
  {
    operation: "DELETE /community/posts/{id}/upvote",
    expected: 1,
    measure: () => counted(() => del(`/community/posts/${world.postId}/upvote`, { token: world.admin.token }), 200),
  },
  {
    operation: "POST /community/resources",
    expected: 2,
    measure: () =>
      counted(
        () =>
          post(
            "/community/resources",
            { title: "G", description: "d", resource_type: "video", url: "https://example.com/v", tags: ["x"] },
            { token: world.coach.token },
          ),
        201,
      ),
  },
  {
    operation: "POST /community/resources/{id}/bookmark",
    expected: 1,
    measure: () =>
      counted(() => post(`/community/resources/${world.resourceId}/bookmark`, undefined, { token: world.coach.token }), 201),
  },
  {
    operation: "DELETE /community/resources/{id}/bookmark",
    expected: 1,
    measure: async () => {
      const user = await createClient();
      await post(`/community/resources/${world.resourceId}/bookmark`, undefined, { token: user.token });
      return counted(() => del(`/community/resources/${world.resourceId}/bookmark`, { token: user.token }), 204);
    },
  },
  {
    operation: "DELETE /match/cache",
    expected: 1,
    measure: async () => {
      const client = await createClient();
      return counted(() => del("/match/cache", { token: client.token }), 204);
    },
  },
  {
    operation: "PATCH /admin/users/{id}",
    expected: 1,
    measure: async () => {
      const user = await createClient();
      return counted(
        () => call("PATCH", `/admin/users/${user.id}`, { token: world.admin.token, body: { email_verified: false } }),
        200,
      );
    },
  },
  {
    operation: "PATCH /admin/users/{id}",
    variant: "an admin demoted (active admins locked, last-admin rule)",
    expected: 1,
    measure: async () => {
      const other = await createUser("admin");
      return counted(
        () => call("PATCH", `/admin/users/${other.id}`, { token: world.admin.token, body: { role: "client" } }),
        200,
      );
    },
  },
  {
    operation: "PATCH /admin/users/{id}",
    variant: "a coach deactivated (coaches version bumped)",
    expected: 1,
    measure: async () => {
      const coach = await createCoach();
      return counted(
        () => call("PATCH", `/admin/users/${coach.id}`, { token: world.admin.token, body: { is_active: false } }),
        200,
      );
    },
  },
  {
    operation: "DELETE /admin/users/{id}",
    expected: 2,
    why: "account deletion as DELETE /profile; the last-admin rule and the audit entry are in account_delete()",
    measure: async () => {
      const user = await createClient();
      return counted(() => del(`/admin/users/${user.id}`, { token: world.admin.token }), 204);
    },
  },
  {
    operation: "DELETE /admin/posts/{id}",
    expected: 1,
    measure: async () => {
      const created = await post(
        "/community/posts",
        { title: "T", content: "C", post_type: "discussion" },
        { token: world.client.token },
      );
      return counted(() => del(`/admin/posts/${created.body.id}`, { token: world.admin.token }), 204);
    },
  },
  {
    operation: "POST /booking/{id}/review",
    expected: 1,
    measure: async () => {
      const [booking] = await query<{ id: string }>(
        `insert into bookings (client_id, coach_id, session_datetime, duration_minutes, status)
         values ($1, $2, now() - interval '3 days', 60, 'completed') returning id`,
        [world.client.id, world.coach.id],
      );
      return counted(() => post(`/booking/${booking!.id}/review`, { rating: 5 }, { token: world.client.token }), 201);
    },
  },
  {
    operation: "DELETE /admin/reviews/{id}",
    expected: 1,
    measure: async () => {
      const [booking] = await query<{ id: string }>(
        `insert into bookings (client_id, coach_id, session_datetime, duration_minutes, status)
         values ($1, $2, now() - interval '4 days', 60, 'completed') returning id`,
        [world.client.id, world.coach.id],
      );
      const created = await post(`/booking/${booking!.id}/review`, { rating: 4 }, { token: world.client.token });
      return counted(() => del(`/admin/reviews/${created.body.id}`, { token: world.admin.token }), 204);
    },
  },
  {
    operation: "PATCH /admin/coaches/{id}/verification",
    expected: 1,
    measure: () =>
      counted(
        () =>
          call("PATCH", `/admin/coaches/${world.coach.id}/verification`, {
            token: world.admin.token,
            body: { is_verified: true },
          }),
        200,
      ),
  },
  {
    operation: "POST /admin/import",
    expected: 4,
    why: "one batch statement for the rows, inside a transaction with the coaches version and the audit entry",
    measure: () =>
      counted(
        () =>
          call("POST", "/admin/import", {
            token: world.admin.token,
            rawBody: `email,role,first_name\n${uniqueEmail("imp")},client,Imp\n`,
            headers: { "content-type": "text/csv" },
          }),
        200,
      ),
  },
];

describe("writes: at most two round trips, or a documented transaction", () => {
  for (const write of writes) {
    it(`${write.operation}${write.variant ? ` (${write.variant})` : ""}: ${write.expected}`, async () => {
      expect(await write.measure()).toBe(write.expected);
      if (write.expected > 2) expect(write.why, "a write over 2 round trips must say why").toBeTruthy();
    });
  }
});

describe("coverage", () => {
  it("every documented operation has a pinned round-trip count", async () => {
    const document = await get("/openapi.json");
    const documented: string[] = [];
    for (const [path, operations] of Object.entries(document.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(operations)) documented.push(`${method.toUpperCase()} ${path}`);
    }
    const pinned = new Set([...reads.map((read) => read.operation), ...writes.map((write) => write.operation), "POST /match"]);
    expect(documented.filter((operation) => !pinned.has(operation))).toEqual([]);
    expect([...pinned].filter((operation) => !documented.includes(operation))).toEqual([]);
  });
});
