/**
 * Admin routes: admins only. Every route, without a token (401), with a
 * client's and a coach's token (403), with a garbage token (401), and a
 * demoted admin's old token (401 once revoked). The 403 comes before any
 * validation, so a non-admin learns nothing from bad parameters either.
 */
import { afterAll, describe, expect, it } from "vitest";
import { call, expectEnvelope, get, patch } from "../helpers/api.ts";
import { closeTestPool } from "../helpers/db.ts";
import { createUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const SOME_ID = "00000000-0000-4000-8000-000000000000";

const ROUTES: { method: string; path: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }[] = [
  { method: "GET", path: "/admin/metrics?days=30" },
  { method: "GET", path: "/admin/users" },
  { method: "GET", path: `/admin/users/${SOME_ID}` },
  { method: "PATCH", path: `/admin/users/${SOME_ID}`, body: { is_active: false } },
  { method: "DELETE", path: `/admin/users/${SOME_ID}` },
  { method: "GET", path: "/admin/bookings" },
  { method: "DELETE", path: `/admin/posts/${SOME_ID}` },
  { method: "GET", path: "/admin/revenue" },
  { method: "GET", path: "/admin/revenue?format=csv" },
  { method: "GET", path: "/admin/audit-log" },
  {
    method: "POST",
    path: "/admin/import",
    rawBody: "email,role\nx@example.test,client\n",
    headers: { "content-type": "text/csv" },
  },
];

function send(route: (typeof ROUTES)[number], token?: string) {
  return call(route.method, route.path, {
    ...(route.body !== undefined ? { body: route.body } : {}),
    ...(route.rawBody !== undefined ? { rawBody: route.rawBody } : {}),
    ...(route.headers ? { headers: route.headers } : {}),
    ...(token ? { token } : {}),
  });
}

describe("admin routes: security", () => {
  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    "%s: 401 without a token",
    async (_name, route) => {
      expectEnvelope(await send(route), 401, "UNAUTHORIZED");
    },
  );

  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    "%s: 401 with an invalid token",
    async (_name, route) => {
      expectEnvelope(await send(route, "not.a.jwt"), 401, "UNAUTHORIZED");
    },
  );

  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    "%s: 403 for a client and for a coach",
    async (_name, route) => {
      const client = await createUser("client");
      const coach = await createUser("coach");
      expectEnvelope(await send(route, client.token), 403, "FORBIDDEN");
      expectEnvelope(await send(route, coach.token), 403, "FORBIDDEN");
    },
  );

  it("answers 403 before validating parameters (no information for non-admins)", async () => {
    const client = await createUser("client");
    expectEnvelope(await get("/admin/metrics?days=9999", { token: client.token }), 403, "FORBIDDEN");
    expectEnvelope(await get("/admin/users/not-a-uuid", { token: client.token }), 403, "FORBIDDEN");
  });

  it("an unknown /admin path is still closed to non-admins", async () => {
    const coach = await createUser("coach");
    expectEnvelope(await get("/admin/secret-things", { token: coach.token }), 403, "FORBIDDEN");
  });

  it("a demoted admin's existing token stops working at once", async () => {
    const actor = await createUser("admin");
    const demoted = await createUser("admin");
    expect((await get("/admin/metrics", { token: demoted.token })).status).toBe(200);
    const result = await patch(`/admin/users/${demoted.id}`, { role: "client" }, { token: actor.token });
    expect(result.status, result.text).toBe(200);
    expectEnvelope(await get("/admin/metrics", { token: demoted.token }), 401, "UNAUTHORIZED");
  });

  it("a deactivated admin's existing token stops working at once", async () => {
    const actor = await createUser("admin");
    const deactivated = await createUser("admin");
    const result = await patch(`/admin/users/${deactivated.id}`, { is_active: false }, { token: actor.token });
    expect(result.status, result.text).toBe(200);
    expectEnvelope(await get("/admin/users", { token: deactivated.token }), 401, "UNAUTHORIZED");
  });

  it("every admin route is in the OpenAPI document with bearer security and 401/403 responses", async () => {
    const doc = (await get("/openapi.json")).body;
    const expected: [string, string][] = [
      ["/admin/metrics", "get"],
      ["/admin/users", "get"],
      ["/admin/users/{id}", "get"],
      ["/admin/users/{id}", "patch"],
      ["/admin/users/{id}", "delete"],
      ["/admin/bookings", "get"],
      ["/admin/posts/{id}", "delete"],
      ["/admin/revenue", "get"],
      ["/admin/audit-log", "get"],
      ["/admin/import", "post"],
    ];
    for (const [path, method] of expected) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation.security).toEqual([{ bearerAuth: [] }]);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["401", "403"]));
    }
    expect(Object.keys(doc.paths["/admin/revenue"].get.responses["200"].content)).toEqual(
      expect.arrayContaining(["application/json", "text/csv"]),
    );
    expect(Object.keys(doc.paths["/admin/import"].post.requestBody.content)).toEqual(["text/csv"]);
  });
});
