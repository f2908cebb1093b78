/**
 * Admin figures and lists: metrics, revenue (JSON and CSV), bookings, and
 * post moderation.
 *
 * Other test files write to the same database at the same time, so figures
 * that cover "everything" are checked for consistency and lower bounds, and
 * exact figures are checked on data only this file can see: a far-future
 * request clock (X-Test-Now) with rows dated in that future, and the ISO 4217
 * test currency XTS for revenue.
 */
import { parse } from "csv-parse/sync";
import { afterAll, describe, expect, it } from "vitest";
import { del, expectEnvelope, get, type Json, post } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { accessToken, createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const DAY = 86_400_000;

/** A random far-future year per call, so that runs and tests never share a period. */
function futureEpoch(): Date {
  const year = 2200 + Math.floor(Math.random() * 700);
  return new Date(Date.UTC(year, 5, 15, 12, 0, 0));
}

let slot = 0;
/** A booking (completed: outside the overlap constraints) and its payment, written directly. */
async function paidBooking(
  client: TestUser,
  coach: TestUser,
  options: {
    amount: number;
    paidAt: Date;
    currency?: string;
    status?: "succeeded" | "refunded" | "failed" | "pending";
    bookingStatus?: string;
  },
): Promise<{ bookingId: string; paymentId: string }> {
  slot += 1;
  const [booking] = await query<{ id: string }>(
    `INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes, status, created_at) VALUES ($1, $2, $3, 60, $4, $5) RETURNING id`,
    [
      client.id,
      coach.id,
      new Date(options.paidAt.getTime() + slot * 3_600_000).toISOString(),
      options.bookingStatus ?? "completed",
      options.paidAt.toISOString(),
    ],
  );
  const [payment] = await query<{ id: string }>(
    `INSERT INTO payments (booking_id, amount, currency, status, paid_at, created_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`,
    [booking?.id, options.amount, options.currency ?? "XTS", options.status ?? "succeeded", options.paidAt.toISOString()],
  );
  await query(`UPDATE bookings SET payment_id = $2 WHERE id = $1`, [booking?.id, payment?.id]);
  return { bookingId: booking?.id as string, paymentId: payment?.id as string };
}

const day = (date: Date) => date.toISOString().slice(0, 10);

describe("GET /admin/metrics", () => {
  it("happy: the documented shape, every role and status present, totals consistent", async () => {
    const admin = await createUser("admin");
    const result = await get("/admin/metrics", { token: admin.token });
    expect(result.status, result.text).toBe(200);
    const body = result.body;
    expect(body.period.days).toBe(30);
    expect(Date.parse(body.period.end_date) - Date.parse(body.period.start_date)).toBe(30 * DAY);
    expect(Object.keys(body.users.by_role).sort()).toEqual(["admin", "client", "coach"]);
    expect(Object.keys(body.bookings.by_status).sort()).toEqual(["cancelled", "completed", "confirmed", "pending"]);
    expect(body.users.total).toBeGreaterThanOrEqual(1);
    expect(Object.values(body.users.by_role as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(body.users.total);
    expect(Object.values(body.bookings.by_status as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(body.bookings.total);
    expect(body.revenue.currency).toBe("USD");
    for (const value of [body.revenue.total, body.revenue.this_period, body.revenue.average_booking_value])
      expect(value).toBeTypeOf("number");
    expect(Object.keys(body.community).sort()).toEqual(["total_comments", "total_posts", "total_resources"]);
  });

  it("happy: period figures count exactly the rows of the period (users, active, bookings, revenue net of refunds)", async () => {
    const admin = await createUser("admin");
    const now = futureEpoch();
    const inside = new Date(now.getTime() - 3 * DAY);
    const outside = new Date(now.getTime() - 10 * DAY);
    const client = await createClient();
    const coach = await createCoach();
    // Users: two new in the 7-day period (one of them seen in it), one older (seen in it too).
    const newUsers = [await createUser("client"), await createUser("coach")];
    const oldUser = await createUser("client");
    await query(`UPDATE users SET created_at = $2 WHERE id = ANY($1::uuid[])`, [
      newUsers.map((user) => user.id),
      inside.toISOString(),
    ]);
    await query(`UPDATE users SET created_at = $2, last_seen_at = $3 WHERE id = $1`, [
      oldUser.id,
      outside.toISOString(),
      inside.toISOString(),
    ]);
    await query(`UPDATE users SET last_seen_at = $2 WHERE id = $1`, [newUsers[0]?.id, inside.toISOString()]);
    // Payments: two succeeded inside (100 + 50.5), one refunded inside, one failed inside, one succeeded outside.
    await paidBooking(client, coach, { amount: 100, paidAt: inside });
    await paidBooking(client, coach, { amount: 50.5, paidAt: new Date(inside.getTime() + 3_600_000) });
    await paidBooking(client, coach, { amount: 70, paidAt: inside, status: "refunded", bookingStatus: "cancelled" });
    await paidBooking(client, coach, { amount: 30, paidAt: inside, status: "failed", bookingStatus: "cancelled" });
    await paidBooking(client, coach, { amount: 1000, paidAt: outside });

    const result = await get("/admin/metrics?days=7&currency=XTS", { token: await accessToken(admin.id, "admin", now), now });
    expect(result.status, result.text).toBe(200);
    const body = result.body;
    expect(body.period).toEqual({
      start_date: new Date(now.getTime() - 7 * DAY).toISOString().replace(".000", ""),
      end_date: now.toISOString().replace(".000", ""),
      days: 7,
    });
    expect(body.users.new_this_period).toBe(2);
    expect(body.users.active_this_period).toBe(2);
    expect(body.bookings.this_period).toBe(4);
    expect(body.revenue).toMatchObject({ this_period: 150.5, currency: "XTS", average_booking_value: 75.25 });
    expect(body.revenue.total).toBeGreaterThanOrEqual(1150.5);
  });

  it("happy: every figure comes from one database round trip", async () => {
    const admin = await createUser("admin");
    const result = await get("/admin/metrics?days=90", { token: admin.token });
    expect(result.status).toBe(200);
    expect(Number(result.headers.get("x-db-queries"))).toBe(1);
  });

  it("error: days outside 1..365 or not an integer is 400", async () => {
    const admin = await createUser("admin");
    for (const days of ["0", "366", "-5", "1.5", "abc", ""]) {
      expectEnvelope(await get(`/admin/metrics?days=${days}`, { token: admin.token }), 400, "VALIDATION_ERROR");
    }
    expect((await get("/admin/metrics?days=1", { token: admin.token })).status).toBe(200);
    expect((await get("/admin/metrics?days=365", { token: admin.token })).status).toBe(200);
    expectEnvelope(await get("/admin/metrics?currency=dollars", { token: admin.token }), 400, "VALIDATION_ERROR");
  });
});

describe("GET /admin/revenue", () => {
  async function revenueFixture() {
    const now = futureEpoch();
    const start = new Date(now.getTime() - 2 * DAY);
    const client = await createClient();
    const alice = await createCoach({ firstName: "Alice" });
    const bob = await createCoach({ firstName: "Bob" });
    await paidBooking(client, alice, { amount: 120, paidAt: start });
    await paidBooking(client, alice, { amount: 80.25, paidAt: new Date(now.getTime() - 1 * DAY) });
    await paidBooking(client, bob, { amount: 60, paidAt: new Date(now.getTime() - 1 * DAY) });
    await paidBooking(client, bob, { amount: 500, paidAt: now, status: "refunded", bookingStatus: "cancelled" });
    await paidBooking(client, bob, { amount: 999, paidAt: new Date(now.getTime() - 30 * DAY) });
    await paidBooking(client, bob, { amount: 77, paidAt: start, currency: "USD" });
    return { now, start, alice, bob };
  }

  it("happy: totals, per coach and per day for succeeded payments by payment date, net of refunds", async () => {
    const admin = await createUser("admin");
    const { now, start, alice, bob } = await revenueFixture();
    const result = await get(`/admin/revenue?start_date=${day(start)}&end_date=${day(now)}&currency=XTS`, { token: admin.token });
    expect(result.status, result.text).toBe(200);
    expect(result.body).toEqual({
      period: { start_date: day(start), end_date: day(now), days: 3 },
      currency: "XTS",
      total_revenue: 260.25,
      total_bookings: 3,
      average_booking_value: 86.75,
      // v2 payouts: these fixture payments carry no fee split and no transfer, so the whole amount is owed.
      platform_fees: 0,
      coach_payouts: 0,
      owed: 260.25,
      by_coach: [
        {
          coach_id: alice.id,
          coach_name: "Alice Coach",
          bookings: 2,
          revenue: 200.25,
          platform_fees: 0,
          coach_payouts: 0,
          owed: 200.25,
        },
        { coach_id: bob.id, coach_name: "Bob Coach", bookings: 1, revenue: 60, platform_fees: 0, coach_payouts: 0, owed: 60 },
      ],
      daily_breakdown: [
        { date: day(start), bookings: 1, revenue: 120 },
        { date: day(new Date(now.getTime() - DAY)), bookings: 2, revenue: 140.25 },
      ],
    });
  });

  it("happy: defaults to the 30 days up to today (request clock)", async () => {
    const admin = await createUser("admin");
    const now = futureEpoch();
    const result = await get("/admin/revenue?currency=XTS", { token: await accessToken(admin.id, "admin", now), now });
    expect(result.status).toBe(200);
    expect(result.body.period).toEqual({ start_date: day(new Date(now.getTime() - 29 * DAY)), end_date: day(now), days: 30 });
    // v2: only days with activity are listed.
    expect(result.body.daily_breakdown).toEqual([]);
  });

  it("happy: format=csv is an attachment whose quoting survives an independent parser", async () => {
    const admin = await createUser("admin");
    const now = futureEpoch();
    const client = await createClient();
    const tricky = [
      { first: 'Smith, "Jo"', last: "O'Neil" },
      { first: "Multi\nLine", last: "Name\r\nCRLF" },
      { first: '=HYPERLINK("http://evil")', last: "Formula" },
    ];
    const coaches: TestUser[] = [];
    for (const [index, name] of tricky.entries()) {
      const coach = await createCoach();
      await query(`UPDATE coach_profiles SET first_name = $2, last_name = $3 WHERE user_id = $1`, [
        coach.id,
        name.first,
        name.last,
      ]);
      await paidBooking(client, coach, { amount: 100 + index, paidAt: now });
      coaches.push(coach);
    }
    const result = await get(`/admin/revenue?start_date=${day(now)}&end_date=${day(now)}&format=csv&currency=XTS`, {
      token: admin.token,
    });
    expect(result.status, result.text).toBe(200);
    expect(result.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(result.headers.get("content-disposition")).toBe(`attachment; filename="revenue-${day(now)}-${day(now)}.csv"`);

    const rows = parse(result.text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0] ?? {})).toEqual([
      "coach_id",
      "coach_name",
      "bookings",
      "revenue",
      "currency",
      "platform_fees",
      "coach_payouts",
      "owed",
    ]);
    expect(rows).toHaveLength(3);
    const byCoach = new Map(rows.map((row) => [row.coach_id, row]));
    expect(byCoach.get(coaches[0]?.id as string)).toEqual({
      coach_id: coaches[0]?.id,
      coach_name: `Smith, "Jo" O'Neil`,
      bookings: "1",
      revenue: "100.00",
      currency: "XTS",
      platform_fees: "0.00",
      coach_payouts: "0.00",
      owed: "100.00",
    });
    expect(byCoach.get(coaches[1]?.id as string)?.coach_name).toBe("Multi\nLine Name\r\nCRLF");
    // A name that a spreadsheet would run as a formula is neutralised with a leading apostrophe.
    expect(byCoach.get(coaches[2]?.id as string)?.coach_name).toBe(`'=HYPERLINK("http://evil") Formula`);
    // The JSON form of the same report carries the names untouched.
    const json = await get(`/admin/revenue?start_date=${day(now)}&end_date=${day(now)}&currency=XTS`, { token: admin.token });
    expect(json.body.by_coach.map((coach: Json) => coach.coach_name).sort()).toEqual(
      [`Smith, "Jo" O'Neil`, "Multi\nLine Name\r\nCRLF", `=HYPERLINK("http://evil") Formula`].sort(),
    );
  });

  it("happy: a CSV of an empty period still has its header row", async () => {
    const admin = await createUser("admin");
    const now = futureEpoch();
    const result = await get(`/admin/revenue?start_date=${day(now)}&end_date=${day(now)}&format=csv&currency=XTS`, {
      token: admin.token,
    });
    expect(result.text).toBe("coach_id,coach_name,bookings,revenue,currency,platform_fees,coach_payouts,owed\r\n");
  });

  it("error: bad dates, reversed or too long ranges and unknown formats are 400", async () => {
    const admin = await createUser("admin");
    for (const bad of [
      "start_date=2026-02-30",
      "start_date=yesterday",
      "end_date=2026-13-01",
      "start_date=2026-03-01&end_date=2026-02-01",
      "start_date=2016-01-01&end_date=2026-01-01",
      "start_date=2010-01-01",
      "start_date=1899-12-31&end_date=1900-01-02",
      "end_date=10000-01-01",
      "format=xml",
    ]) {
      expectEnvelope(await get(`/admin/revenue?${bad}`, { token: admin.token }), 400, "VALIDATION_ERROR");
    }
  });
});

describe("GET /admin/bookings", () => {
  it("happy: every booking with both parties, filters status, coach_id, client_id and the date range", async () => {
    const admin = await createUser("admin");
    const client = await createClient({ firstName: "Bea" });
    const coach = await createCoach({ firstName: "Carl" });
    const base = futureEpoch();
    const at = (days: number) => new Date(base.getTime() + days * DAY);
    const insert = async (when: Date, status: string) =>
      (
        await query<{ id: string }>(
          `INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes, status) VALUES ($1, $2, $3, 60, $4) RETURNING id`,
          [client.id, coach.id, when.toISOString(), status],
        )
      )[0]?.id as string;
    const early = await insert(at(0), "pending");
    const middle = await insert(at(1), "confirmed");
    const late = await insert(at(2), "cancelled");

    const all = await get(`/admin/bookings?client_id=${client.id}`, { token: admin.token });
    expect(all.status, all.text).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.items.map((item: Json) => item.id)).toEqual([late, middle, early]);
    expect(all.body.items[0]).toMatchObject({
      client_id: client.id,
      coach_id: coach.id,
      duration_minutes: 60,
      status: "cancelled",
      payment_id: null,
      client: { id: client.id, first_name: "Bea", last_name: "Client" },
      coach: { id: coach.id, first_name: "Carl", last_name: "Coach" },
    });

    const ids = async (filter: string) =>
      (await get(`/admin/bookings?${filter}`, { token: admin.token })).body.items.map((item: Json) => item.id);
    expect(await ids(`coach_id=${coach.id}&status=confirmed`)).toEqual([middle]);
    expect(await ids(`coach_id=${coach.id}&start_date=${day(at(1))}`)).toEqual([late, middle]);
    expect(await ids(`coach_id=${coach.id}&end_date=${day(at(1))}`)).toEqual([middle, early]);
    expect(await ids(`coach_id=${coach.id}&start_date=${day(at(1))}&end_date=${day(at(1))}`)).toEqual([middle]);
    expect(
      await ids(
        `coach_id=${coach.id}&start_date=${encodeURIComponent(at(0).toISOString())}&end_date=${encodeURIComponent(at(1).toISOString())}`,
      ),
    ).toEqual([middle, early]);
    expect(await ids(`client_id=${coach.id}`)).toEqual([]);
  });

  it("error: malformed ids, statuses, dates and a reversed range are 400", async () => {
    const admin = await createUser("admin");
    for (const bad of [
      "coach_id=abc",
      "client_id=1",
      "status=done",
      "start_date=2026-02-31",
      "end_date=tomorrow",
      "start_date=2026-03-02&end_date=2026-03-01",
      "limit=500",
    ]) {
      const result = await get(`/admin/bookings?${bad}`, { token: admin.token });
      expect(result.status, bad).toBe(400);
      expectEnvelope(result, 400, "VALIDATION_ERROR");
    }
  });
});

describe("DELETE /admin/posts/{id}", () => {
  it("happy: deletes anyone's post (private too) with its comments, and audits it", async () => {
    const admin = await createUser("admin");
    const author = await createClient();
    const created = await post(
      "/community/posts",
      { title: "Spam", content: "Buy now", post_type: "discussion", is_private: true },
      { token: author.token },
    );
    expect(created.status, created.text).toBe(201);
    await post(`/community/posts/${created.body.id}/comment`, { content: "reply" }, { token: author.token });

    const result = await del(`/admin/posts/${created.body.id}`, { token: admin.token });
    expect(result.status, result.text).toBe(204);
    expect(result.text).toBe("");
    expect(await query(`SELECT id FROM posts WHERE id = $1`, [created.body.id])).toEqual([]);
    expect(await query(`SELECT id FROM comments WHERE post_id = $1`, [created.body.id])).toEqual([]);
    const audit = await get(`/admin/audit-log?actor_id=${admin.id}&action=post.delete`, { token: admin.token });
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      target_type: "post",
      target_id: created.body.id,
      details: { before: { author_id: author.id, title: "Spam", is_private: true } },
    });
  });

  it("error: unknown post 404 (nothing audited), malformed id 400", async () => {
    const admin = await createUser("admin");
    expectEnvelope(await del("/admin/posts/00000000-0000-4000-8000-000000000000", { token: admin.token }), 404, "NOT_FOUND");
    expectEnvelope(await del("/admin/posts/xyz", { token: admin.token }), 400, "VALIDATION_ERROR");
    expect((await get(`/admin/audit-log?actor_id=${admin.id}`, { token: admin.token })).body.total).toBe(0);
  });
});
