/**
 * OWASP API2:2023 Broken Authentication — the token verifier pins HS256 and
 * the key, checks expiry against the server clock, the token type, the
 * issuer and the required claims; revoked users' tokens stop working;
 * every secured operation of the document refuses an anonymous caller;
 * login does not reveal which emails exist; passwords are stored as bcrypt
 * cost >= 12. (Password guessing: see rate-limit-login.test.ts.)
 */

import fc from "fast-check";
import { base64url, SignJWT } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { listOperations, type OpenApiDocument, validValue } from "../../scripts/lib/openapi-fuzz.ts";
import { signToken } from "../../src/lib/tokens.ts";
import { baseUrl, type CallResult, call, del, expectEnvelope, get, patch, post, uniqueEmail } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { accessToken, createClient, createUser, FIXTURE_PASSWORD } from "../helpers/fixtures.ts";
import { TEST_JWT_SECRET } from "../helpers/stack.ts";

afterAll(async () => {
  await closeTestPool();
});

const KEY = new TextEncoder().encode(TEST_JWT_SECRET);
const OTHER_KEY = new TextEncoder().encode("another-secret-0123456789-abcdefghijklmnopqrstuvwxyz");

function claims(sub: string, extra: Record<string, unknown> = {}) {
  return { role: "admin", type: "access", ...extra, sub, jti: crypto.randomUUID() };
}

async function sign(
  payload: Record<string, unknown>,
  options: { key?: Uint8Array; alg?: string; iat?: number; exp?: number; iss?: string | null } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setIssuedAt(options.iat ?? now)
    .setExpirationTime(options.exp ?? now + 3600);
  if (options.iss !== null) jwt = jwt.setIssuer(options.iss ?? "culturebridge");
  return jwt.sign(options.key ?? KEY);
}

function unsigned(payload: Record<string, unknown>): string {
  const encode = (value: unknown) => base64url.encode(new TextEncoder().encode(JSON.stringify(value)));
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: "none", typ: "JWT" })}.${encode({ iss: "culturebridge", iat: now, exp: now + 3600, ...payload })}.`;
}

async function expectUnauthorized(token: string, label: string): Promise<void> {
  const result = await call("GET", "/profile", { headers: { authorization: `Bearer ${token}` } });
  expect(result.status, `${label}: ${result.text.slice(0, 200)}`).toBe(401);
  expectEnvelope(result, 401, "UNAUTHORIZED");
}

describe("API2 token verification", () => {
  it("accepts a genuine access token (control)", async () => {
    const user = await createUser("client");
    expect((await get("/profile", { token: user.token })).status).toBe(200);
  });

  it("rejects alg:none, another key, and algorithm confusion (HS512/HS384 with the right secret)", async () => {
    const user = await createUser("client");
    await expectUnauthorized(unsigned(claims(user.id, { role: "client" })), "alg none");
    await expectUnauthorized(
      unsigned(claims(user.id, { role: "client" })).replace(/\.$/, ".c2lnbmF0dXJl"),
      "alg none with a signature",
    );
    await expectUnauthorized(await sign(claims(user.id, { role: "client" }), { key: OTHER_KEY }), "other key");
    await expectUnauthorized(await sign(claims(user.id, { role: "client" }), { alg: "HS512" }), "HS512");
    await expectUnauthorized(await sign(claims(user.id, { role: "client" }), { alg: "HS384" }), "HS384");
  });

  it("rejects a tampered payload (role raised to admin, signature kept)", async () => {
    const user = await createUser("client");
    const [header, payload, signature] = user.token.split(".") as [string, string, string];
    const decoded = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
    const raised = base64url.encode(new TextEncoder().encode(JSON.stringify({ ...decoded, role: "admin" })));
    const forged = `${header}.${raised}.${signature}`;
    await expectUnauthorized(forged, "tampered role");
    expectEnvelope(await call("GET", "/admin/users", { headers: { authorization: `Bearer ${forged}` } }), 401, "UNAUTHORIZED");
  });

  it("rejects an expired token, judged by the server clock", async () => {
    const user = await createUser("client");
    const dayAgo = new Date(Date.now() - 25 * 3_600_000);
    await expectUnauthorized(await accessToken(user.id, "client", dayAgo), "expired");
    // A valid token is refused once the server clock passes its exp.
    const fresh = await accessToken(user.id, "client");
    const later = await get("/profile", { token: fresh, now: new Date(Date.now() + 25 * 3_600_000) });
    expectEnvelope(later, 401, "UNAUTHORIZED");
  });

  it("rejects a refresh token used as an access token, a wrong issuer, missing claims and an unknown role", async () => {
    const user = await createUser("client");
    const refresh = (
      await signToken(KEY, { sub: user.id, role: "client", type: "refresh", fam: crypto.randomUUID() }, new Date())
    ).token;
    await expectUnauthorized(refresh, "refresh as access");
    await expectUnauthorized(await sign(claims(user.id, { role: "client" }), { iss: "someone-else" }), "issuer");
    await expectUnauthorized(await sign(claims(user.id, { role: "client" }), { iss: null }), "no issuer");
    await expectUnauthorized(await sign({ role: "client", type: "access", sub: user.id }), "no jti");
    await expectUnauthorized(await sign({ role: "client", type: "access", jti: crypto.randomUUID() }), "no sub");
    await expectUnauthorized(await sign(claims(user.id, { role: "superuser" })), "unknown role");
    await expectUnauthorized(await sign(claims(user.id, { role: "client", type: "id" })), "unknown type");
  });

  it("rejects malformed Authorization headers", async () => {
    for (const header of [
      "Bearer",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      "Bearer a.b",
      "Bearer a.b.c",
      "Token abc",
      `Bearer ${"x".repeat(10_000)}`,
    ]) {
      const result = await call("GET", "/profile", { headers: { authorization: header } });
      expectEnvelope(result, 401, "UNAUTHORIZED");
    }
  });
});

describe("API2 revocation", () => {
  it("a deactivated user's existing token stops working on the next request; so does a demoted admin's", async () => {
    const admin = await createUser("admin");
    const victim = await createUser("coach");
    expect((await get("/profile", { token: victim.token })).status).toBe(200);
    expect((await patch(`/admin/users/${victim.id}`, { is_active: false }, { token: admin.token })).status).toBe(200);
    const after = await get("/profile", { token: victim.token });
    expect([401, 403]).toContain(after.status);

    const otherAdmin = await createUser("admin");
    expect((await get("/admin/users", { token: otherAdmin.token })).status).toBe(200);
    expect((await patch(`/admin/users/${otherAdmin.id}`, { role: "client" }, { token: admin.token })).status).toBe(200);
    const demoted = await get("/admin/users", { token: otherAdmin.token });
    expect([401, 403]).toContain(demoted.status);
  });

  it("a deleted account's token stops working", async () => {
    const user = await createUser("client");
    expect((await del("/profile", { token: user.token })).status).toBe(204);
    const after = await get("/profile", { token: user.token });
    expect([401, 403, 404]).toContain(after.status);
    expect(after.status).not.toBe(200);
  });
});

describe("API2 every secured operation refuses anonymous callers", () => {
  it("answers 401 (never 2xx) to a well-formed request without a token, for every operation that declares bearer security", async () => {
    const doc = (await get("/openapi.json")).body as OpenApiDocument;
    const secured = listOperations(doc).filter((operation) => operation.secured);
    expect(secured.length).toBeGreaterThan(30);
    const failures: string[] = [];
    for (const operation of secured) {
      // A few generated bodies: the first schema-valid one must meet the 401; none may pass.
      const statuses: number[] = [];
      for (let seed = 1; seed <= 5 && !statuses.includes(401); seed++) {
        let path = operation.path;
        for (const parameter of operation.pathParams) path = path.replace(`{${parameter.name}}`, crypto.randomUUID());
        let options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {};
        if (operation.body?.contentType === "application/json") {
          const [sample] = fc.sample(validValue(operation.body.schema, { doc, method: operation.method, depth: 0 }), {
            numRuns: 1,
            seed,
          });
          options = {
            body: JSON.parse(
              JSON.stringify(sample ?? {}, (_key, value) =>
                value && typeof value === "object" && "$pool" in value ? crypto.randomUUID() : value,
              ),
            ),
          };
        } else if (operation.body?.contentType === "text/csv") {
          options = { rawBody: "email,role\n", headers: { "content-type": "text/csv" } };
        }
        const result: CallResult = await call(operation.method, path, options);
        statuses.push(result.status);
        if (result.status === 401) expectEnvelope(result, 401, "UNAUTHORIZED");
      }
      if (!statuses.includes(401) || statuses.some((status) => status < 300))
        failures.push(`${operation.key} -> ${statuses.join(",")}`);
    }
    expect(failures).toEqual([]);
  });
});

describe("API2 credentials", () => {
  it("login answers unknown email and wrong password identically (no account enumeration)", async () => {
    const user = await createUser("client");
    const wrongPassword = await post("/auth/login", { email: user.email, password: "Wrong#Pass1" });
    const unknownEmail = await post("/auth/login", { email: uniqueEmail("ghost"), password: "Wrong#Pass1" });
    expectEnvelope(wrongPassword, 401, "UNAUTHORIZED");
    expectEnvelope(unknownEmail, 401, "UNAUTHORIZED");
    expect(wrongPassword.body.error.message).toBe(unknownEmail.body.error.message);
    expect(wrongPassword.body.error.details).toEqual(unknownEmail.body.error.details);
  });

  it("password reset answers the same for existing and unknown accounts", async () => {
    const user = await createUser("client");
    const known = await post("/auth/reset-password", { email: user.email });
    const unknown = await post("/auth/reset-password", { email: uniqueEmail("ghost") });
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(known.body).toEqual(unknown.body);
  });

  it("stores passwords as bcrypt with cost >= 12, never in responses", async () => {
    const email = uniqueEmail("hash");
    const signup = await post("/auth/signup", { email, password: "Str0ng#Passw0rd", role: "client" });
    expect(signup.status, signup.text).toBe(201);
    expect(signup.text).not.toMatch(/password|\$2[aby]\$/i);
    const [row] = await query<{ password_hash: string }>("SELECT password_hash FROM users WHERE email = $1", [email]);
    const match = /^\$2[aby]\$(\d{2})\$/.exec(row?.password_hash ?? "");
    expect(Number(match?.[1])).toBeGreaterThanOrEqual(12);
  });

  it("refuses weak passwords at signup", async () => {
    for (const password of ["short1!", "alllowercase1!", "ALLUPPERCASE1!", "NoDigits!!", "NoSpecial123", "x".repeat(129)]) {
      expectEnvelope(
        await post("/auth/signup", { email: uniqueEmail("weak"), password, role: "client" }),
        400,
        "VALIDATION_ERROR",
      );
    }
  });

  it("a refresh token works once: reusing it is refused (rotation with reuse detection)", async () => {
    const client = await createClient();
    const login = await post("/auth/login", { email: client.email, password: FIXTURE_PASSWORD });
    expect(login.status).toBe(200);
    const first = await post("/auth/refresh", { refresh_token: login.body.refresh_token });
    expect(first.status).toBe(200);
    expectEnvelope(await post("/auth/refresh", { refresh_token: login.body.refresh_token }), 401, "UNAUTHORIZED");
    // Reuse revoked the family: the successor is dead too.
    expectEnvelope(await post("/auth/refresh", { refresh_token: first.body.refresh_token }), 401, "UNAUTHORIZED");
    expect(baseUrl()).toMatch(/^http/);
  });
});
