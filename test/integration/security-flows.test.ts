/**
 * OWASP API6:2023 Unrestricted Access to Sensitive Business Flows — the
 * flows that are worth automating against us are bounded by rules, not by
 * hope:
 * - slot hoarding: at most 3 unpaid pending bookings per client (and stale
 *   ones are released by the cron, see booking-lifecycle tests); one slot is
 *   sold once even to simultaneous buyers;
 * - vote stuffing: one upvote per user, also under concurrency;
 * - checkout spam: one open Stripe session per booking (same session back);
 * - password guessing: the login throttle (rate-limit-login.test.ts);
 * - account discovery: signup/login/reset answers do not tell whether an
 *   email exists (security-auth.test.ts);
 * - bookmark/comment floods ride the general rate limit (rate-limit.test.ts).
 */
import { afterAll, describe, expect, it } from "vitest";
import { del, expectEnvelope, post } from "../helpers/api.ts";
import { book, slot } from "../helpers/booking-flow.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser } from "../helpers/fixtures.ts";

afterAll(async () => {
  await closeTestPool();
});

describe("API6 slot hoarding", () => {
  // Bursts need real Postgres: PGlite's socket server can interleave concurrent
  // connections' protocol messages (a harness artefact). The sequential cap is
  // in security-resources.test.ts › API4 booking holds.
  it.runIf(isRealPostgres())("a client cannot hold more than 3 unpaid slots, even by firing many requests at once", async () => {
    const client = await createClient();
    const coach = await createCoach();
    const base = 3000 + Math.floor(Math.random() * 500);
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post(
          "/booking",
          { coach_id: coach.id, session_datetime: slot(base + i, 10).toISOString(), duration_minutes: 60 },
          { token: client.token },
        ),
      ),
    );
    const created = attempts.filter((result) => result.status === 201).length;
    expect(created).toBeLessThanOrEqual(3);
    for (const result of attempts.filter((attempt) => attempt.status !== 201)) expectEnvelope(result, 409, "CONFLICT");
    const [{ n }] = (await query<{ n: string }>(
      "SELECT count(*) AS n FROM bookings WHERE client_id = $1 AND status = 'pending'",
      [client.id],
    )) as [{ n: string }];
    expect(Number(n)).toBeLessThanOrEqual(3);
  });

  it.runIf(isRealPostgres())("one slot is sold once: of 6 clients racing for it exactly one gets it", async () => {
    const coach = await createCoach();
    const clients = await Promise.all(Array.from({ length: 6 }, () => createClient()));
    const start = slot(3600 + Math.floor(Math.random() * 300), 11);
    const results = await Promise.all(
      clients.map((client) =>
        post(
          "/booking",
          { coach_id: coach.id, session_datetime: start.toISOString(), duration_minutes: 60 },
          { token: client.token },
        ),
      ),
    );
    expect(results.filter((result) => result.status === 201)).toHaveLength(1);
    for (const result of results.filter((attempt) => attempt.status !== 201)) expectEnvelope(result, 409, "CONFLICT");
  });
});

describe("API6 vote stuffing", () => {
  it("repeated upvotes by one user count once; removing the vote and voting again is still one", async () => {
    const author = await createUser("client");
    const voter = await createUser("coach");
    const created = await post(
      "/community/posts",
      { title: "Vote", content: "Body", post_type: "discussion" },
      { token: author.token },
    );
    for (let i = 0; i < 3; i++)
      expect((await post(`/community/posts/${created.body.id}/upvote`, undefined, { token: voter.token })).body.upvotes).toBe(1);
    expect((await del(`/community/posts/${created.body.id}/upvote`, { token: voter.token })).body.upvotes).toBe(0);
    expect((await post(`/community/posts/${created.body.id}/upvote`, undefined, { token: voter.token })).body.upvotes).toBe(1);
  });

  it.runIf(isRealPostgres())("one user's 10 simultaneous upvotes count once", async () => {
    const author = await createUser("client");
    const voter = await createUser("coach");
    const created = await post(
      "/community/posts",
      { title: "Vote", content: "Body", post_type: "discussion" },
      { token: author.token },
    );
    const results = await Promise.all(
      Array.from({ length: 10 }, () => post(`/community/posts/${created.body.id}/upvote`, undefined, { token: voter.token })),
    );
    for (const result of results) expect(result.status).toBe(200);
    const [row] = await query<{ upvotes: number }>("SELECT upvotes FROM posts WHERE id = $1", [created.body.id]);
    expect(row?.upvotes).toBe(1);
  });
});

describe("API6 checkout spam", () => {
  it("repeated checkout calls for one booking return the same open session and create one payment", async () => {
    const client = await createClient();
    const coach = await createCoach();
    const booking = await book(client, coach, slot(4000 + Math.floor(Math.random() * 300), 10));
    const first = await post("/payment/checkout", { booking_id: booking.id }, { token: client.token });
    expect(first.status).toBe(200);
    const again = [];
    for (let i = 0; i < 3; i++) again.push(await post("/payment/checkout", { booking_id: booking.id }, { token: client.token }));
    // Simultaneous calls too, where the database can take them.
    if (isRealPostgres())
      again.push(
        ...(await Promise.all(
          Array.from({ length: 4 }, () => post("/payment/checkout", { booking_id: booking.id }, { token: client.token })),
        )),
      );
    for (const result of again) {
      expect(result.status).toBe(200);
      expect(result.body.session_id).toBe(first.body.session_id);
    }
    const [{ n }] = (await query<{ n: string }>("SELECT count(*) AS n FROM payments WHERE booking_id = $1", [booking.id])) as [
      { n: string },
    ];
    expect(n).toBe("1");
  });
});

describe("API6 bookmarks", () => {
  it("a resource is bookmarked once per user (a repeat is 409, not a second row)", async () => {
    const coach = await createUser("coach");
    const reader = await createUser("client");
    const resource = await post(
      "/community/resources",
      { title: "R", description: "d", resource_type: "article", url: "https://example.com/x", tags: [] },
      { token: coach.token },
    );
    expect((await post(`/community/resources/${resource.body.id}/bookmark`, undefined, { token: reader.token })).status).toBe(
      201,
    );
    expectEnvelope(
      await post(`/community/resources/${resource.body.id}/bookmark`, undefined, { token: reader.token }),
      409,
      "CONFLICT",
    );
  });
});
