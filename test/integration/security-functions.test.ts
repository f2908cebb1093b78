/**
 * OWASP API5:2023 Broken Function Level Authorization — every admin
 * operation of the document (walked from /openapi.json, so a new admin route
 * is covered the day it lands) answers 401 to anonymous callers and 403 to
 * clients and coaches, before touching anything; role-specific functions
 * outside /admin (booking, matching, resources, announcements, signup as
 * admin) refuse the other roles.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listOperations, type OpenApiDocument, type Operation } from "../../scripts/lib/openapi-fuzz.ts";
import { type CallResult, call, expectEnvelope, get, post, uniqueEmail } from "../helpers/api.ts";
import { book, slot } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(async () => {
  await closeTestPool();
});

let client: TestUser;
let coach: TestUser;
let admin: TestUser;
let adminOperations: Operation[];

beforeAll(async () => {
  [client, coach, admin] = await Promise.all([createClient(), createCoach(), createUser("admin")]);
  const doc = (await get("/openapi.json")).body as OpenApiDocument;
  adminOperations = listOperations(doc).filter((operation) => operation.path.startsWith("/admin"));
});

/** A request that would be valid for an admin: real ids, well-formed bodies. */
const victims: { userId: string; postId: string }[] = [];

async function adminRequest(operation: Operation, token: string | undefined): Promise<CallResult> {
  const victim = await createUser("client");
  const [post] = await query<{ id: string }>(
    "INSERT INTO posts (author_id, title, content, post_type) VALUES ($1, 'Victim post', 'x', 'discussion') RETURNING id",
    [victim.id],
  );
  victims.push({ userId: victim.id, postId: (post as { id: string }).id });
  let id = operation.path.startsWith("/admin/posts") ? (post as { id: string }).id : victim.id;
  if (operation.path.startsWith("/admin/coaches/")) id = (await createCoach()).id;
  if (operation.path.startsWith("/admin/reviews/")) {
    // A real review: a completed past session between a fresh client and coach, reviewed.
    const [coach, client] = await Promise.all([createCoach(), createClient()]);
    const [booking] = await query<{ id: string }>(
      `INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes, status)
       VALUES ($1, $2, now() - interval '3 days', 60, 'completed') RETURNING id`,
      [client.id, coach.id],
    );
    const [review] = await query<{ id: string }>(
      "INSERT INTO reviews (booking_id, coach_id, client_id, rating) VALUES ($1, $2, $3, 5) RETURNING id",
      [booking?.id, coach.id, client.id],
    );
    id = (review as { id: string }).id;
  }
  const path = operation.path.replace("{id}", id);
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (operation.body?.contentType === "text/csv") {
    return call(operation.method, path, {
      rawBody: `email,role\n${uniqueEmail("imported")},client\n`,
      headers: { ...headers, "content-type": "text/csv" },
    });
  }
  if (operation.body)
    return call(operation.method, path, {
      headers,
      body:
        operation.method !== "PATCH"
          ? {}
          : operation.path.startsWith("/admin/coaches/")
            ? { is_verified: true, note: "control" }
            : { is_active: false, role: "admin" },
    });
  return call(operation.method, path, { headers });
}

describe("API5 every admin operation of the document", () => {
  it("covers the whole admin surface of the contract", () => {
    const keys = adminOperations.map((operation) => operation.key);
    for (const expected of [
      "GET /admin/metrics",
      "GET /admin/users",
      "GET /admin/users/{id}",
      "PATCH /admin/users/{id}",
      "DELETE /admin/users/{id}",
      "GET /admin/bookings",
      "DELETE /admin/posts/{id}",
      "GET /admin/revenue",
      "GET /admin/audit-log",
      "POST /admin/import",
    ]) {
      expect(keys).toContain(expected);
    }
    for (const operation of adminOperations) expect(operation.secured, operation.key).toBe(true);
  });

  it("anonymous -> 401, client and coach -> 403, and their attempts change nothing", async () => {
    for (const operation of adminOperations) {
      expectEnvelope(await adminRequest(operation, undefined), 401, "UNAUTHORIZED");
      for (const caller of [client, coach]) {
        const result = await adminRequest(operation, caller.token);
        expect(result.status, `${operation.key} as ${caller.role}: ${result.text.slice(0, 200)}`).toBe(403);
        expectEnvelope(result, 403, "FORBIDDEN");
      }
    }
    // Every user and post the refused attempts aimed at is untouched.
    for (const { userId, postId } of victims) {
      const [user] = await query<{ role: string; is_active: boolean }>("SELECT role, is_active FROM users WHERE id = $1", [
        userId,
      ]);
      expect(user).toEqual({ role: "client", is_active: true });
      expect(await query("SELECT id FROM posts WHERE id = $1", [postId])).toHaveLength(1);
    }
    const [{ n: auditAfter }] = (await query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE actor_id IN ($1, $2)", [
      client.id,
      coach.id,
    ])) as [{ n: string }];
    expect(auditAfter).toBe("0");
  });

  it("an admin reaches every admin operation (control: the 403s above are about the role)", async () => {
    for (const operation of adminOperations) {
      const result = await adminRequest(operation, admin.token);
      expect([200, 204], `${operation.key}: ${result.status} ${result.text.slice(0, 200)}`).toContain(result.status);
    }
  });

  it("a token whose role claim was admin but whose account is not an admin anymore is refused", async () => {
    const formerAdmin = await createUser("admin");
    const patched = await call("PATCH", `/admin/users/${formerAdmin.id}`, { token: admin.token, body: { role: "coach" } });
    expect(patched.status).toBe(200);
    const result = await get("/admin/users", { token: formerAdmin.token });
    expect([401, 403]).toContain(result.status);
  });
});

describe("API5 role-specific functions outside /admin", () => {
  it("only clients book sessions and ask for matches", async () => {
    for (const caller of [coach, admin]) {
      const booking = await post(
        "/booking",
        {
          coach_id: coach.id,
          session_datetime: slot(2100 + Math.floor(Math.random() * 300), 10).toISOString(),
          duration_minutes: 60,
        },
        { token: caller.token },
      );
      expectEnvelope(booking, 403, "FORBIDDEN");
      expectEnvelope(await post("/match", {}, { token: caller.token }), 403, "FORBIDDEN");
      expectEnvelope(await get("/match/cache/info", { token: caller.token }), 403, "FORBIDDEN");
      expectEnvelope(await call("DELETE", "/match/cache", { token: caller.token }), 403, "FORBIDDEN");
    }
  });

  it("only coaches and admins publish resources; only admins post announcements", async () => {
    const resource = { title: "R", description: "d", resource_type: "article", url: "https://example.com/r", tags: [] };
    expectEnvelope(await post("/community/resources", resource, { token: client.token }), 403, "FORBIDDEN");
    expect((await post("/community/resources", resource, { token: coach.token })).status).toBe(201);
    for (const caller of [client, coach]) {
      expectEnvelope(
        await post("/community/posts", { title: "Official", content: "x", post_type: "announcement" }, { token: caller.token }),
        403,
        "FORBIDDEN",
      );
    }
    expect(
      (await post("/community/posts", { title: "Official", content: "x", post_type: "announcement" }, { token: admin.token }))
        .status,
    ).toBe(201);
  });

  it("a client cannot confirm or complete a booking (coach/admin functions)", async () => {
    const ownClient = await createClient();
    const ownCoach = await createCoach();
    const booking = await book(ownClient, ownCoach, slot(2500 + Math.floor(Math.random() * 300), 10));
    for (const status of ["confirmed", "completed"]) {
      const result = await call("PATCH", `/booking/${booking.id}/status`, { token: ownClient.token, body: { status } });
      expect([400, 403]).toContain(result.status);
    }
    const [row] = await query<{ status: string }>("SELECT status FROM bookings WHERE id = $1", [booking.id]);
    expect(row?.status).toBe("pending");
  });

  it("nobody becomes an admin by signing up", async () => {
    expectEnvelope(
      await post("/auth/signup", { email: uniqueEmail("admin"), password: "Str0ng#Passw0rd", role: "admin" }),
      403,
      "FORBIDDEN",
    );
  });
});
