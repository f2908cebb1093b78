/**
 * Admin user management: list with filters and search, detail with profile
 * and activity, PATCH (strict body, last-active-admin rule, race-safe),
 * DELETE through the account-deletion service, and the audit trail that
 * every mutation writes in its own transaction.
 */
import { afterAll, describe, expect, it } from "vitest";
import { del, expectEnvelope, get, type Json, patch, post, uniqueEmail } from "../helpers/api.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser, FIXTURE_PASSWORD, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

function tag(): string {
  return crypto.randomUUID().slice(0, 8);
}

/** All items of a paginated admin list (pages of 100). */
async function listAll(path: string, token: string): Promise<Json[]> {
  const items: Json[] = [];
  for (let skip = 0; ; skip += 100) {
    const separator = path.includes("?") ? "&" : "?";
    const result = await get(`${path}${separator}limit=100&skip=${skip}`, { token });
    expect(result.status, result.text).toBe(200);
    items.push(...result.body.items);
    if (result.body.items.length < 100) return items;
  }
}

async function auditEntries(admin: TestUser, filter: string): Promise<Json[]> {
  const result = await get(`/admin/audit-log?limit=100&${filter}`, { token: admin.token });
  expect(result.status, result.text).toBe(200);
  return result.body.items;
}

async function setNames(user: TestUser, table: "client_profiles" | "coach_profiles", first: string, last: string): Promise<void> {
  await query(`UPDATE ${table} SET first_name = $2, last_name = $3 WHERE user_id = $1`, [user.id, first, last]);
}

/**
 * Makes `keep` the only active admins for the length of `body`: every other
 * active admin is deactivated and restored afterwards. `intruders` tells
 * whether another test file created an active admin meanwhile (then the
 * isolation failed and the caller retries, instead of taking a success that
 * should have been a 409 for a bug, or the other way round).
 */
async function asOnlyActiveAdmin<T>(keep: string[], body: () => Promise<T>): Promise<{ result: T; intruders: number }> {
  const [{ since } = { since: new Date() }] = await query<{ since: Date }>(`SELECT clock_timestamp() AS since`);
  const others = await query<{ id: string }>(
    `UPDATE users SET is_active = false WHERE role = 'admin' AND is_active AND NOT (id = ANY($1::uuid[])) RETURNING id`,
    [keep],
  );
  try {
    const result = await body();
    const [row] = await query<{ n: string }>(
      `SELECT count(*) AS n FROM users WHERE role = 'admin' AND is_active AND created_at >= $1 AND NOT (id = ANY($2::uuid[]))`,
      [since, keep],
    );
    return { result, intruders: Number(row?.n ?? 0) };
  } finally {
    await query(`UPDATE users SET is_active = true WHERE id = ANY($1::uuid[])`, [others.map((row) => row.id)]);
  }
}

describe("GET /admin/users", () => {
  it("happy: lists users with names and no password hashes, newest first, paginated", async () => {
    const admin = await createUser("admin");
    const client = await createClient({ firstName: "Listed" });
    const result = await get("/admin/users?limit=5", { token: admin.token });
    expect(result.status, result.text).toBe(200);
    expect(result.body).toMatchObject({ skip: 0, limit: 5 });
    expect(result.body.total).toBeGreaterThanOrEqual(2);
    expect(result.body.items.length).toBeLessThanOrEqual(5);
    expect(result.text).not.toMatch(/password|\$2[aby]\$/);
    const dates = result.body.items.map((item: Json) => item.created_at);
    expect([...dates].sort().reverse()).toEqual(dates);

    const found = await get(`/admin/users?search=${encodeURIComponent(client.email)}`, { token: admin.token });
    expect(found.body.total).toBe(1);
    expect(found.body.items[0]).toEqual({
      id: client.id,
      email: client.email,
      role: "client",
      is_active: true,
      email_verified: true,
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
      last_seen_at: null,
      first_name: "Listed",
      last_name: "Client",
    });
  });

  it("happy: search matches email, first, last and full name of either profile, case-insensitively", async () => {
    const admin = await createUser("admin");
    const marker = tag();
    const client = await createClient();
    const coach = await createCoach();
    await setNames(client, "client_profiles", `Zelda${marker}`, "Quist");
    await setNames(coach, "coach_profiles", "Ingrid", `Ohlsson${marker}`);

    const byFirst = await listAll(`/admin/users?search=zelda${marker.toUpperCase()}`, admin.token);
    expect(byFirst.map((item) => item.id)).toEqual([client.id]);
    const byLast = await listAll(`/admin/users?search=OHLSSON${marker}`, admin.token);
    expect(byLast.map((item) => item.id)).toEqual([coach.id]);
    const byFull = await listAll(`/admin/users?search=${encodeURIComponent(`ingrid ohlsson${marker}`)}`, admin.token);
    expect(byFull.map((item) => item.id)).toEqual([coach.id]);
    const byEmail = await listAll(
      `/admin/users?search=${encodeURIComponent(client.email.slice(0, 18).toUpperCase())}`,
      admin.token,
    );
    expect(byEmail.map((item) => item.id)).toContain(client.id);
  });

  it("happy: search treats % and _ as literal characters", async () => {
    const admin = await createUser("admin");
    const marker = tag();
    const literal = await createUser("client", { email: `pct%${marker}@example.test` });
    const other = await createUser("client", { email: `pctx${marker}@example.test` });
    const percent = await listAll(`/admin/users?search=${encodeURIComponent(`pct%${marker}`)}`, admin.token);
    expect(percent.map((item) => item.id)).toEqual([literal.id]);
    const underscore = await listAll(`/admin/users?search=${encodeURIComponent(`pct_${marker}`)}`, admin.token);
    expect(underscore.map((item) => item.id)).not.toContain(other.id);
  });

  it("happy: filters role and is_active", async () => {
    const admin = await createUser("admin");
    const marker = tag();
    const activeCoach = await createUser("coach", { email: `filter-${marker}-a@example.test` });
    const inactiveCoach = await createUser("coach", { email: `filter-${marker}-b@example.test`, isActive: false });
    const client = await createUser("client", { email: `filter-${marker}-c@example.test` });
    const search = `search=filter-${marker}`;
    const coaches = await listAll(`/admin/users?${search}&role=coach`, admin.token);
    expect(coaches.map((item) => item.id).sort()).toEqual([activeCoach.id, inactiveCoach.id].sort());
    const inactive = await listAll(`/admin/users?${search}&is_active=false`, admin.token);
    expect(inactive.map((item) => item.id)).toEqual([inactiveCoach.id]);
    const activeClients = await listAll(`/admin/users?${search}&role=client&is_active=true`, admin.token);
    expect(activeClients.map((item) => item.id)).toEqual([client.id]);
  });

  it("error: bad filters and pagination are 400", async () => {
    const admin = await createUser("admin");
    for (const bad of ["role=superuser", "is_active=yes", "limit=0", "limit=101", "skip=-1", `search=${"x".repeat(256)}`]) {
      expectEnvelope(await get(`/admin/users?${bad}`, { token: admin.token }), 400, "VALIDATION_ERROR");
    }
  });
});

describe("GET /admin/users/{id}", () => {
  it("happy: the user, the profile object and the activity (bookings, payments, posts, comments)", async () => {
    const admin = await createUser("admin");
    const client = await createClient({ firstName: "Detail" });
    const coach = await createCoach();
    const [booking] = await query<{ id: string }>(
      `INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes, status) VALUES ($1, $2, $3, 60, 'completed') RETURNING id`,
      [client.id, coach.id, new Date(Date.UTC(2030, 0, 1, 10) + Math.floor(Math.random() * 1e6) * 3_600_000).toISOString()],
    );
    await query(
      `INSERT INTO payments (booking_id, amount, currency, status, paid_at) VALUES ($1, 99.50, 'USD', 'succeeded', now())`,
      [booking?.id],
    );
    const created = await post(
      "/community/posts",
      { title: "Hello", content: "First post", post_type: "discussion" },
      { token: client.token },
    );
    expect(created.status, created.text).toBe(201);
    const commented = await post(`/community/posts/${created.body.id}/comment`, { content: "Me again" }, { token: client.token });
    expect(commented.status, commented.text).toBe(201);

    const result = await get(`/admin/users/${client.id}`, { token: admin.token });
    expect(result.status, result.text).toBe(200);
    const body = result.body;
    expect(body.user).toMatchObject({ id: client.id, email: client.email, role: "client", first_name: "Detail" });
    expect(body.user.password_hash).toBeUndefined();
    expect(body.profile).toMatchObject({
      id: client.profileId,
      user_id: client.id,
      first_name: "Detail",
      timezone: "Europe/Madrid",
    });
    expect(body.profile.quiz_data).toBeTypeOf("object");
    expect(body.activity.bookings).toHaveLength(1);
    expect(body.activity.bookings[0]).toMatchObject({
      id: booking?.id,
      client_id: client.id,
      coach_id: coach.id,
      status: "completed",
    });
    expect(body.activity.payments).toHaveLength(1);
    expect(body.activity.payments[0]).toMatchObject({
      booking_id: booking?.id,
      amount: 99.5,
      currency: "USD",
      status: "succeeded",
    });
    expect(body.activity.posts.map((item: Json) => item.id)).toEqual([created.body.id]);
    expect(body.activity.comments.map((item: Json) => item.id)).toEqual([commented.body.id]);
    expect(body.activity_totals).toEqual({ bookings: 1, payments: 1, posts: 1, comments: 1 });

    const coachView = await get(`/admin/users/${coach.id}`, { token: admin.token });
    expect(coachView.body.profile).toMatchObject({
      id: coach.profileId,
      hourly_rate: 100,
      currency: "USD",
      languages: ["English"],
    });
    expect(coachView.body.activity.bookings.map((item: Json) => item.id)).toEqual([booking?.id]);
  });

  it("happy: an admin has no profile", async () => {
    const admin = await createUser("admin");
    const result = await get(`/admin/users/${admin.id}`, { token: admin.token });
    expect(result.status).toBe(200);
    expect(result.body.profile).toBeNull();
    expect(result.body.activity_totals).toEqual({ bookings: 0, payments: 0, posts: 0, comments: 0 });
  });

  it("error: unknown id 404, malformed id 400", async () => {
    const admin = await createUser("admin");
    expectEnvelope(await get(`/admin/users/${UNKNOWN_ID}`, { token: admin.token }), 404, "NOT_FOUND");
    expectEnvelope(await get("/admin/users/not-a-uuid", { token: admin.token }), 400, "VALIDATION_ERROR");
  });
});

describe("PATCH /admin/users/{id}", () => {
  it("happy: changes role, is_active and email_verified, answers the user, audits before/after", async () => {
    const admin = await createUser("admin");
    const client = await createUser("client");
    const result = await patch(`/admin/users/${client.id}`, { role: "coach", email_verified: false }, { token: admin.token });
    expect(result.status, result.text).toBe(200);
    expect(result.body).toMatchObject({ id: client.id, role: "coach", is_active: true, email_verified: false });
    const [row] = await query<{ role: string; email_verified: boolean }>(`SELECT role, email_verified FROM users WHERE id = $1`, [
      client.id,
    ]);
    expect(row).toEqual({ role: "coach", email_verified: false });

    const entries = await auditEntries(admin, `actor_id=${admin.id}&action=user.update`);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor_id: admin.id,
      action: "user.update",
      target_type: "user",
      target_id: client.id,
      details: {
        before: { role: "client", email_verified: true },
        after: { role: "coach", email_verified: false },
        changed: ["role", "email_verified"],
      },
    });
    expect(entries[0].created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it("happy: deactivating a user revokes their tokens; reactivating lets them log in again", async () => {
    const admin = await createUser("admin");
    const client = await createClient();
    expect((await get("/profile", { token: client.token })).status).toBe(200);
    expect((await patch(`/admin/users/${client.id}`, { is_active: false }, { token: admin.token })).status).toBe(200);
    expect([401, 403]).toContain((await get("/profile", { token: client.token })).status);
    expectEnvelope(await post("/auth/login", { email: client.email, password: FIXTURE_PASSWORD }), 403, "FORBIDDEN");
    expect((await patch(`/admin/users/${client.id}`, { is_active: true }, { token: admin.token })).status).toBe(200);
    expect((await post("/auth/login", { email: client.email, password: FIXTURE_PASSWORD })).status).toBe(200);
  });

  it("happy: deactivating a coach bumps the coaches version (match caches go stale)", async () => {
    const admin = await createUser("admin");
    const coach = await createCoach();
    const version = async () =>
      Number(
        (
          await query<{ value: string }>(
            `SELECT coalesce((SELECT value FROM app_counters WHERE name = 'coaches_version'), 0) AS value`,
          )
        )[0]?.value,
      );
    const before = await version();
    expect((await patch(`/admin/users/${coach.id}`, { is_active: false }, { token: admin.token })).status).toBe(200);
    expect(await version()).toBeGreaterThan(before);
  });

  it("happy: an admin can promote a user to admin", async () => {
    const admin = await createUser("admin");
    const coach = await createUser("coach");
    const result = await patch(`/admin/users/${coach.id}`, { role: "admin" }, { token: admin.token });
    expect(result.body.role).toBe("admin");
  });

  it("error: strict body - unknown fields, wrong types, empty body are 400 and change nothing", async () => {
    const admin = await createUser("admin");
    const client = await createUser("client");
    for (const body of [
      { email: "x@y.z" },
      { role: "client", password_hash: "x" },
      { role: "root" },
      { is_active: "no" },
      {},
      [],
    ]) {
      expectEnvelope(await patch(`/admin/users/${client.id}`, body, { token: admin.token }), 400, "VALIDATION_ERROR");
    }
    const [row] = await query(`SELECT role, is_active, email FROM users WHERE id = $1`, [client.id]);
    expect(row).toEqual({ role: "client", is_active: true, email: client.email });
    expect(await auditEntries(admin, `actor_id=${admin.id}`)).toEqual([]);
  });

  it("error: unknown user 404, malformed id 400", async () => {
    const admin = await createUser("admin");
    expectEnvelope(await patch(`/admin/users/${UNKNOWN_ID}`, { is_active: false }, { token: admin.token }), 404, "NOT_FOUND");
    expectEnvelope(await patch("/admin/users/123", { is_active: false }, { token: admin.token }), 400, "VALIDATION_ERROR");
  });

  it("error: the last active admin can be neither demoted nor deactivated (409), and nothing is audited", async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      // A fresh admin per attempt: a demotion that went through revoked the previous one's token.
      const admin = await createUser("admin");
      const {
        result: [demote, deactivate],
        intruders,
      } = await asOnlyActiveAdmin([admin.id], async () => [
        await patch(`/admin/users/${admin.id}`, { role: "coach" }, { token: admin.token }),
        await patch(`/admin/users/${admin.id}`, { is_active: false }, { token: admin.token }),
      ]);
      if (intruders > 0) continue;
      expectEnvelope(demote as never, 409, "CONFLICT");
      expectEnvelope(deactivate as never, 409, "CONFLICT");
      const [row] = await query(`SELECT role, is_active FROM users WHERE id = $1`, [admin.id]);
      expect(row).toEqual({ role: "admin", is_active: true });
      expect(await auditEntries(admin, `actor_id=${admin.id}`)).toEqual([]);
      return;
    }
    throw new Error("could not isolate a single active admin");
  });

  it("happy: with a second active admin, an admin may step down", async () => {
    const first = await createUser("admin");
    await createUser("admin");
    const result = await patch(`/admin/users/${first.id}`, { role: "client" }, { token: first.token });
    expect(result.status, result.text).toBe(200);
  });

  it.runIf(isRealPostgres())("race: two admins demoting each other at once keep one active admin (5 rounds)", async () => {
    let rounds = 0;
    for (let attempt = 0; attempt < 10 && rounds < 5; attempt++) {
      const a = await createUser("admin");
      const b = await createUser("admin");
      const { result: results, intruders } = await asOnlyActiveAdmin([a.id, b.id], () =>
        Promise.all([
          patch(`/admin/users/${b.id}`, { is_active: false }, { token: a.token }),
          patch(`/admin/users/${a.id}`, { role: "client" }, { token: b.token }),
        ]),
      );
      if (intruders > 0) continue;
      rounds++;
      expect(results.map((result) => result.status).sort()).toEqual([200, 409]);
      const remaining = await query(`SELECT id FROM users WHERE id = ANY($1::uuid[]) AND role = 'admin' AND is_active`, [
        [a.id, b.id],
      ]);
      expect(remaining).toHaveLength(1);
    }
    expect(rounds).toBe(5);
  });
});

describe("GET /admin/audit-log", () => {
  it("happy: newest first, filtered by actor and by action, paginated", async () => {
    const admin = await createUser("admin");
    const other = await createUser("admin");
    const first = await createUser("client");
    const second = await createUser("client");
    await patch(`/admin/users/${first.id}`, { email_verified: false }, { token: admin.token });
    await patch(`/admin/users/${second.id}`, { email_verified: false }, { token: admin.token });
    await patch(`/admin/users/${second.id}`, { email_verified: true }, { token: other.token });

    const mine = await get(`/admin/audit-log?actor_id=${admin.id}`, { token: admin.token });
    expect(mine.body.total).toBe(2);
    expect(mine.body.items.map((item: Json) => item.target_id)).toEqual([second.id, first.id]);
    for (const item of mine.body.items) {
      expect(Object.keys(item).sort()).toEqual(["action", "actor_id", "created_at", "details", "id", "target_id", "target_type"]);
    }
    const paged = await get(`/admin/audit-log?actor_id=${admin.id}&limit=1&skip=1`, { token: admin.token });
    expect(paged.body).toMatchObject({ total: 2, skip: 1, limit: 1 });
    expect(paged.body.items.map((item: Json) => item.target_id)).toEqual([first.id]);

    const byAction = await get(`/admin/audit-log?actor_id=${other.id}&action=user.update`, { token: admin.token });
    expect(byAction.body.items.map((item: Json) => item.target_id)).toEqual([second.id]);
    const noneOfThat = await get(`/admin/audit-log?actor_id=${other.id}&action=post.delete`, { token: admin.token });
    expect(noneOfThat.body).toMatchObject({ total: 0, items: [] });
  });

  it("error: malformed actor_id and pagination are 400", async () => {
    const admin = await createUser("admin");
    expectEnvelope(await get("/admin/audit-log?actor_id=abc", { token: admin.token }), 400, "VALIDATION_ERROR");
    expectEnvelope(await get("/admin/audit-log?limit=1000", { token: admin.token }), 400, "VALIDATION_ERROR");
  });
});

describe("DELETE /admin/users/{id}", () => {
  it("happy: deletes a user without bookings, frees the email, audits the deletion", async () => {
    const admin = await createUser("admin");
    const client = await createClient();
    const result = await del(`/admin/users/${client.id}`, { token: admin.token });
    expect(result.status, result.text).toBe(204);
    expect(await query(`SELECT id FROM users WHERE id = $1`, [client.id])).toEqual([]);
    expect(await query(`SELECT id FROM client_profiles WHERE user_id = $1`, [client.id])).toEqual([]);
    expect([401, 403]).toContain((await get("/profile", { token: client.token })).status);
    const signup = await post("/auth/signup", { email: client.email, password: "Fresh#Pass123", role: "client" });
    expect(signup.status, signup.text).toBe(201);

    const entries = await auditEntries(admin, `actor_id=${admin.id}&action=user.delete`);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      target_type: "user",
      target_id: client.id,
      details: { before: { role: "client", is_active: true }, after: null, outcome: "deleted" },
    });
    // The erased person's email does not survive in the trail.
    expect(JSON.stringify(entries[0])).not.toContain(client.email);
  });

  it("happy: a user with past bookings stays as an anonymised tombstone", async () => {
    const admin = await createUser("admin");
    const client = await createClient();
    const coach = await createCoach();
    await query(
      `INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes, status) VALUES ($1, $2, '2020-01-01T10:00:00Z', 60, 'completed')`,
      [client.id, coach.id],
    );
    expect((await del(`/admin/users/${client.id}`, { token: admin.token })).status).toBe(204);
    const [row] = await query(`SELECT email, password_hash, is_active FROM users WHERE id = $1`, [client.id]);
    expect(row).toEqual({ email: `deleted-${client.id}@invalid`, password_hash: null, is_active: false });
    const entries = await auditEntries(admin, `actor_id=${admin.id}&action=user.delete`);
    expect(entries.map((entry) => [entry.target_id, entry.details.outcome])).toEqual([[client.id, "anonymised"]]);
  });

  it("error: unknown 404, malformed 400", async () => {
    const admin = await createUser("admin");
    expectEnvelope(await del(`/admin/users/${UNKNOWN_ID}`, { token: admin.token }), 404, "NOT_FOUND");
    expectEnvelope(await del("/admin/users/nope", { token: admin.token }), 400, "VALIDATION_ERROR");
  });

  it("error: deleting the last active admin is 409 and changes nothing", async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const admin = await createUser("admin");
      const { result, intruders } = await asOnlyActiveAdmin([admin.id], () =>
        del(`/admin/users/${admin.id}`, { token: admin.token }),
      );
      if (intruders > 0) continue;
      expectEnvelope(result, 409, "CONFLICT");
      expect(await query(`SELECT id FROM users WHERE id = $1 AND is_active`, [admin.id])).toHaveLength(1);
      expect(await auditEntries(admin, `actor_id=${admin.id}&action=user.delete`)).toEqual([]);
      return;
    }
    throw new Error("could not isolate a single active admin");
  });

  it("happy: an admin with another active admin around can be deleted", async () => {
    const admin = await createUser("admin");
    const target = await createUser("admin", { email: uniqueEmail("admin-target") });
    expect((await del(`/admin/users/${target.id}`, { token: admin.token })).status).toBe(204);
  });
});
