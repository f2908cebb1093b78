/**
 * OWASP API9:2023 Improper Inventory Management — what is served and what is
 * documented are the same set: every route the app registers is an operation
 * of /openapi.json (only the document and the docs page themselves are not),
 * every documented operation is served, each documents its auth and its
 * error answers, and common "forgotten" paths (old versions, debug and admin
 * consoles, config files) are simply not there.
 */
import { afterAll, describe, expect, it } from "vitest";
import { listOperations, type OpenApiDocument } from "../../scripts/lib/openapi-fuzz.ts";
import { createApp } from "../../src/app.ts";
import { call, expectEnvelope, get } from "../helpers/api.ts";
import { closeTestPool } from "../helpers/db.ts";
import { createUser } from "../helpers/fixtures.ts";

afterAll(async () => {
  await closeTestPool();
});

/** Served but deliberately not operations of the document. */
const NOT_OPERATIONS = new Set(["GET /openapi.json", "GET /docs"]);

/** Routes the app registers (middleware excluded), as "METHOD /path/:param". */
function registeredRoutes(): string[] {
  const app = createApp();
  const routes = app.routes
    .filter((route) => route.method !== "ALL" && !route.path.includes("*"))
    .map((route) => `${route.method} ${route.path}`);
  return [...new Set(routes)];
}

/** A registered path and a documented one denote the same route: literal segments equal, parameters in the same places. */
function samePath(registered: string, documented: string): boolean {
  const a = registered.split("/");
  const b = documented.split("/");
  if (a.length !== b.length) return false;
  return a.every((segment, index) => {
    const other = b[index] as string;
    if (segment.startsWith(":")) return other.includes("{");
    return segment === other;
  });
}

async function documentedOperations() {
  const doc = (await get("/openapi.json")).body as OpenApiDocument;
  return { doc, operations: listOperations(doc) };
}

describe("API9 inventory: served == documented", () => {
  it("every route the app serves is documented in /openapi.json", async () => {
    const { operations } = await documentedOperations();
    const undocumented = registeredRoutes().filter((route) => {
      if (NOT_OPERATIONS.has(route)) return false;
      const [method, path] = route.split(" ") as [string, string];
      return !operations.some((operation) => operation.method === method && samePath(path, operation.path));
    });
    expect(undocumented).toEqual([]);
  });

  it("every documented operation is served (no phantom operations)", async () => {
    const { operations } = await documentedOperations();
    const routes = registeredRoutes();
    const phantom = operations.filter(
      (operation) =>
        !routes.some((route) => {
          const [method, path] = route.split(" ") as [string, string];
          return method === operation.method && samePath(path, operation.path);
        }),
    );
    expect(phantom.map((operation) => operation.key)).toEqual([]);
    // And over HTTP: none of them answers "no route".
    for (const operation of operations) {
      const path = operation.path.replace(/\{[^}]+\}/g, "00000000-0000-4000-8000-000000000000");
      const result = await call(
        operation.method,
        path,
        operation.method === "GET" || operation.method === "DELETE" ? {} : { body: {} },
      );
      expect(result.body?.error?.message ?? "", operation.key).not.toMatch(/^No route for/);
      expect(result.status, operation.key).not.toBe(405);
    }
  });

  it("every operation documents its auth and its error answers in the envelope", async () => {
    const { doc, operations } = await documentedOperations();
    expect(doc.openapi).toBe("3.1.0");
    const problems: string[] = [];
    for (const operation of operations) {
      const statuses = Object.keys(operation.responses);
      if (!statuses.some((status) => status.startsWith("2"))) problems.push(`${operation.key}: no success answer`);
      if (operation.secured && !statuses.includes("401")) problems.push(`${operation.key}: secured but no 401`);
      if (!statuses.includes("429")) problems.push(`${operation.key}: no 429 (every route is rate limited)`);
      if ((operation.pathParams.length > 0 || operation.body || operation.queryParams.length > 0) && !statuses.includes("400"))
        problems.push(`${operation.key}: takes input but no 400`);
      for (const status of statuses.filter((code) => Number(code) >= 400)) {
        const schema = operation.responses[status]?.content?.["application/json"]?.schema;
        if (operation.key !== "GET /health" && schema?.$ref !== "#/components/schemas/Error")
          problems.push(`${operation.key}: ${status} is not the Error envelope`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("an operation that does not declare bearer security never demands a token", async () => {
    const { operations } = await documentedOperations();
    for (const operation of operations.filter((candidate) => !candidate.secured)) {
      const path = operation.path.replace(/\{[^}]+\}/g, "00000000-0000-4000-8000-000000000000");
      const result = await call(operation.method, path, operation.method === "GET" ? {} : { body: {} });
      // A 401 here may only be about a credential in the body (e.g. a refresh token), never "log in first".
      if (result.status === 401) expect(result.body.error.message, operation.key).not.toMatch(/Authentication required/i);
    }
  });
});

describe("API9 no forgotten surfaces", () => {
  it("old versions, consoles, config and debug paths are 404 in the envelope", async () => {
    for (const path of [
      "/api",
      "/api/v1/users",
      "/v1/auth/login",
      "/v2/coaches",
      "/.env",
      "/.git/config",
      "/debug",
      "/graphql",
      "/metrics",
      "/server-status",
      "/swagger.json",
      "/openapi.yaml",
      "/users",
      "/auth/admin",
      "/internal",
      "/wp-admin",
      "/phpinfo.php",
    ]) {
      expectEnvelope(await get(path), 404, "NOT_FOUND");
    }
  });

  it("unknown paths under /admin/ are guarded like the admin routes (401/403), and 404 even for an admin", async () => {
    const admin = await createUser("admin");
    const client = await createUser("client");
    for (const path of ["/admin", "/admin/config", "/admin/debug", "/admin/export-all", "/admin/users/export"]) {
      expectEnvelope(await get(path), 401, "UNAUTHORIZED");
      expectEnvelope(await get(path, { token: client.token }), 403, "FORBIDDEN");
      const asAdmin = await get(path, { token: admin.token });
      expect([400, 404], `${path}: ${asAdmin.status}`).toContain(asAdmin.status);
    }
  });
});
