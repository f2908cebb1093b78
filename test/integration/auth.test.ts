/**
 * Auth routes over HTTP against the Worker in wrangler dev: per route happy,
 * error and security cases. Each test makes its own accounts.
 */

import { SignJWT } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { type CallResult, call, expectEnvelope, get, type Json, post, uniqueEmail } from "../helpers/api.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { createUser, FIXTURE_PASSWORD } from "../helpers/fixtures.ts";
import { TEST_JWT_SECRET } from "../helpers/stack.ts";

const PASSWORD = "Str0ng#Passw0rd";
const HOUR = 60 * 60 * 1000;

afterAll(closeTestPool);

async function signup(role: "client" | "coach" = "client", email = uniqueEmail(role)): Promise<Json> {
  const result = await post("/auth/signup", { email, password: PASSWORD, role });
  expect(result.status, result.text).toBe(201);
  return result.body;
}

function jwtPart(token: string, index: 0 | 1): Json {
  return JSON.parse(Buffer.from(token.split(".")[index] as string, "base64url").toString("utf8"));
}

/** The last email to `to` whose subject matches, and the token of its link. */
async function emailToken(to: string, subject: RegExp): Promise<string> {
  const result = await get(`/dev/emails?to=${encodeURIComponent(to)}`);
  expect(result.status).toBe(200);
  const email = (result.body.items as Json[]).find((item) => subject.test(item.subject));
  expect(email, `no email "${subject}" to ${to}`).toBeDefined();
  const match = /token=([A-Za-z0-9_-]+)/.exec(email.text);
  expect(match).not.toBeNull();
  return (match as RegExpExecArray)[1] as string;
}

function fieldMessages(result: CallResult, field: string): string[] {
  return (result.body.error.details.errors as Json[]).filter((error) => error.field === field).map((error) => error.message);
}

/** An authenticated read serves as the probe for access-token checks. */
function probe(token: string, options: { now?: Date } = {}) {
  return get("/profile", { token, ...options });
}

describe("POST /auth/signup", () => {
  describe("happy", () => {
    it("creates a client, signs it in and answers the contract's fields", async () => {
      const email = uniqueEmail("Signup");
      const result = await post("/auth/signup", { email: `  ${email.toUpperCase()} `, password: PASSWORD, role: "client" });
      expect(result.status).toBe(201);
      const body = result.body;
      expect(body).toMatchObject({
        email: email.toLowerCase(),
        role: "client",
        is_active: true,
        email_verified: false,
        token_type: "bearer",
        expires_in: 86400,
      });
      expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(body.user).toEqual({ id: body.id, email: email.toLowerCase(), role: "client" });
      expect(typeof body.access_token).toBe("string");
      expect(typeof body.refresh_token).toBe("string");
      expect(body).not.toHaveProperty("password_hash");
      expect(result.text).not.toContain("$2");
      const [row] = await query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [body.id]);
      expect(row?.password_hash).toMatch(/^\$2[ab]\$12\$/);
    });

    it("creates a coach whose access token carries the contract's claims", async () => {
      const body = await signup("coach");
      const header = jwtPart(body.access_token, 0);
      const claims = jwtPart(body.access_token, 1);
      expect(header.alg).toBe("HS256");
      expect(claims).toMatchObject({ sub: body.id, role: "coach", type: "access" });
      expect(claims.exp - claims.iat).toBe(86400);
      expect(typeof claims.jti).toBe("string");
      const refresh = jwtPart(body.refresh_token, 1);
      expect(refresh).toMatchObject({ sub: body.id, role: "coach", type: "refresh" });
      expect(refresh.exp - refresh.iat).toBe(7 * 86400);
      // the token works at once
      const me = await get("/profile", { token: body.access_token });
      expect(me.status).toBe(200);
    });

    it("sends a verification email with a token link", async () => {
      const body = await signup();
      const token = await emailToken(body.email, /verify/i);
      expect(token.length).toBeGreaterThanOrEqual(32);
      const [stored] = await query<{ token_hash: string; purpose: string; expires_at: Date }>(
        "SELECT token_hash, purpose, expires_at FROM email_tokens WHERE user_id = $1",
        [body.id],
      );
      expect(stored?.purpose).toBe("verify");
      expect(stored?.token_hash).not.toBe(token); // stored hashed
      expect(stored?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  describe("error", () => {
    it("answers 409 for an email already taken in another case", async () => {
      const email = uniqueEmail("dup");
      await signup("client", email);
      const result = await post("/auth/signup", { email: email.toUpperCase(), password: PASSWORD, role: "coach" });
      expectEnvelope(result, 409, "CONFLICT");
      const [count] = await query<{ n: string }>("SELECT count(*) AS n FROM users WHERE lower(email) = $1", [
        email.toLowerCase(),
      ]);
      expect(Number(count?.n)).toBe(1);
    });

    it.each([
      ["Sh0rt#a", /at least 8/],
      ["lowercase#only1", /uppercase/],
      ["UPPERCASE#ONLY1", /lowercase/],
      ["NoDigits#Here", /digit/],
      ["NoSpecial1Here", /special/],
      [`Aa1#${"x".repeat(125)}`, /at most 128/],
    ])("rejects the weak password %j naming the broken rule", async (password, rule) => {
      const email = uniqueEmail("weak");
      const result = await post("/auth/signup", { email, password, role: "client" });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      const messages = fieldMessages(result, "password");
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(rule);
      expect(await query("SELECT 1 FROM users WHERE email = $1", [email])).toHaveLength(0);
    });

    it("lists every broken password rule at once", async () => {
      const result = await post("/auth/signup", { email: uniqueEmail(), password: "abc", role: "client" });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(fieldMessages(result, "password")).toHaveLength(4); // length, uppercase, digit, special
    });

    it.each([
      [{ email: "not-an-email", password: PASSWORD, role: "client" }, "email"],
      [{ email: uniqueEmail(), password: PASSWORD, role: "superuser" }, "role"],
      [{ email: uniqueEmail(), password: PASSWORD }, "role"],
      [{ password: PASSWORD, role: "client" }, "email"],
    ])("rejects a bad body %j with 400 naming the field", async (body, field) => {
      const result = await post("/auth/signup", body);
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(fieldMessages(result, field).length).toBeGreaterThan(0);
    });

    it("rejects malformed JSON with 400", async () => {
      const result = await call("POST", "/auth/signup", {
        rawBody: "{not json",
        headers: { "content-type": "application/json" },
      });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
    });
  });

  describe("security", () => {
    it("refuses self-signup as admin with 403 and creates nothing", async () => {
      const email = uniqueEmail("wannabe");
      const result = await post("/auth/signup", { email, password: PASSWORD, role: "admin" });
      expectEnvelope(result, 403, "FORBIDDEN");
      expect(await query("SELECT 1 FROM users WHERE email = $1", [email])).toHaveLength(0);
    });
  });
});

describe("POST /auth/login", () => {
  describe("happy", () => {
    it("signs in case-insensitively, answers the contract's body and records last_seen_at", async () => {
      const user = await createUser("coach");
      await query("UPDATE users SET last_seen_at = NULL WHERE id = $1", [user.id]);
      const result = await post("/auth/login", { email: user.email.toUpperCase(), password: FIXTURE_PASSWORD });
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({
        token_type: "bearer",
        expires_in: 86400,
        user: { id: user.id, email: user.email, role: "coach" },
      });
      expect(Object.keys(result.body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type", "user"]);
      const [row] = await query<{ last_seen_at: Date | null }>("SELECT last_seen_at FROM users WHERE id = $1", [user.id]);
      expect(row?.last_seen_at).not.toBeNull();
    });

    it("verifies a $2b$ hash made by the old system (another bcrypt implementation)", async () => {
      const email = uniqueEmail("legacy");
      // libxcrypt's crypt(3), cost 10, password "OldSystem#Pass1"
      await query("INSERT INTO users (email, password_hash, role) VALUES ($1, $2, 'client')", [
        email,
        "$2b$10$0OPR.V3/fEfSKG28jOmJr.1tjrwNeKD3Nbmy6K/EWifIdbzFjiMRu",
      ]);
      const result = await post("/auth/login", { email, password: "OldSystem#Pass1" });
      expect(result.status, result.text).toBe(200);
      expectEnvelope(await post("/auth/login", { email, password: "OldSystem#Pass2" }), 401, "UNAUTHORIZED");
    });
  });

  describe("error", () => {
    it("answers wrong password and unknown email with the same 401 message", async () => {
      const user = await createUser("client");
      const wrongPassword = expectEnvelope(
        await post("/auth/login", { email: user.email, password: "Wrong#Passw0rd" }),
        401,
        "UNAUTHORIZED",
      );
      const unknownEmail = expectEnvelope(
        await post("/auth/login", { email: uniqueEmail("nobody"), password: FIXTURE_PASSWORD }),
        401,
        "UNAUTHORIZED",
      );
      expect(wrongPassword.message).toBe(unknownEmail.message);
      expect(wrongPassword.details).toEqual(unknownEmail.details);
    });

    it("answers 403 for a deactivated account with the right password, 401 with a wrong one", async () => {
      const user = await createUser("client", { isActive: false });
      expectEnvelope(await post("/auth/login", { email: user.email, password: FIXTURE_PASSWORD }), 403, "FORBIDDEN");
      expectEnvelope(await post("/auth/login", { email: user.email, password: "Wrong#Passw0rd" }), 401, "UNAUTHORIZED");
    });

    it("answers 401 for an account without a password (imported, must reset)", async () => {
      const email = uniqueEmail("imported");
      await query("INSERT INTO users (email, password_hash, role) VALUES ($1, NULL, 'client')", [email]);
      expectEnvelope(await post("/auth/login", { email, password: "" }), 400, "VALIDATION_ERROR");
      expectEnvelope(await post("/auth/login", { email, password: "Anything#1" }), 401, "UNAUTHORIZED");
    });

    it("rejects a body without fields with 400", async () => {
      expectEnvelope(await post("/auth/login", {}), 400, "VALIDATION_ERROR");
    });
  });

  describe("security", () => {
    it("rejects a tampered payload, alg:none, a foreign key, a refresh token and an expired token with 401", async () => {
      const user = await createUser("client");
      const login = (await post("/auth/login", { email: user.email, password: FIXTURE_PASSWORD })).body;
      const [header, , signature] = login.access_token.split(".");
      const elevated = Buffer.from(JSON.stringify({ ...jwtPart(login.access_token, 1), role: "admin" })).toString("base64url");
      const tampered = `${header}.${elevated}.${signature}`;
      const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${elevated}.`;
      const now = Math.floor(Date.now() / 1000);
      const foreign = await new SignJWT({ role: "client", type: "access" })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(user.id)
        .setIssuer("culturebridge")
        .setJti(crypto.randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(new TextEncoder().encode("another-secret-of-at-least-32-bytes-long!!"));

      expect((await probe(login.access_token)).status).toBe(200); // the genuine token passes
      for (const token of [tampered, none, foreign, login.refresh_token, "garbage"]) {
        expectEnvelope(await probe(token), 401, "UNAUTHORIZED");
      }
      expectEnvelope(await probe(login.access_token, { now: new Date(Date.now() + 25 * HOUR) }), 401, "UNAUTHORIZED");
    });

    it("accepts a token signed with the server's key only with HS256 (no algorithm confusion)", async () => {
      const user = await createUser("client");
      const now = Math.floor(Date.now() / 1000);
      const hs512 = await new SignJWT({ role: "client", type: "access" })
        .setProtectedHeader({ alg: "HS512" })
        .setSubject(user.id)
        .setIssuer("culturebridge")
        .setJti(crypto.randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      expectEnvelope(await probe(hs512), 401, "UNAUTHORIZED");
    });
  });
});

describe("POST /auth/refresh", () => {
  describe("happy", () => {
    it("rotates: every refresh answers a new pair, and the newest keeps working", async () => {
      const session = await signup();
      const first = await post("/auth/refresh", { refresh_token: session.refresh_token });
      expect(first.status, first.text).toBe(200);
      expect(first.body).toMatchObject({ token_type: "bearer", expires_in: 86400 });
      expect(first.body.refresh_token).not.toBe(session.refresh_token);
      expect(jwtPart(first.body.refresh_token, 1).fam).toBe(jwtPart(session.refresh_token, 1).fam);
      const second = await post("/auth/refresh", { refresh_token: first.body.refresh_token });
      expect(second.status).toBe(200);
      expect((await get("/profile", { token: second.body.access_token })).status).toBe(200);
    });
  });

  describe("error", () => {
    it("rejects garbage, an access token and an expired refresh token with 401", async () => {
      const session = await signup();
      expectEnvelope(await post("/auth/refresh", { refresh_token: "garbage" }), 401, "UNAUTHORIZED");
      expectEnvelope(await post("/auth/refresh", { refresh_token: session.access_token }), 401, "UNAUTHORIZED");
      const late = await post(
        "/auth/refresh",
        { refresh_token: session.refresh_token },
        { now: new Date(Date.now() + 8 * 24 * HOUR) },
      );
      expectEnvelope(late, 401, "UNAUTHORIZED");
      expectEnvelope(await post("/auth/refresh", {}), 400, "VALIDATION_ERROR");
    });

    it("rejects the refresh of a deactivated account", async () => {
      const session = await signup();
      await query("UPDATE users SET is_active = false WHERE id = $1", [session.id]);
      expectEnvelope(await post("/auth/refresh", { refresh_token: session.refresh_token }), 401, "UNAUTHORIZED");
    });
  });

  describe("security", () => {
    it("revokes the whole family when a used refresh token is presented again", async () => {
      const session = await signup();
      const other = await post("/auth/login", { email: session.email, password: PASSWORD }); // another family
      const rotated = await post("/auth/refresh", { refresh_token: session.refresh_token });
      expect(rotated.status).toBe(200);
      // the stolen (old) token is replayed
      expectEnvelope(await post("/auth/refresh", { refresh_token: session.refresh_token }), 401, "UNAUTHORIZED");
      // ... and the legitimate newest token of that family is dead too
      expectEnvelope(await post("/auth/refresh", { refresh_token: rotated.body.refresh_token }), 401, "UNAUTHORIZED");
      // other families are untouched
      expect((await post("/auth/refresh", { refresh_token: other.body.refresh_token })).status).toBe(200);
      const family = jwtPart(session.refresh_token, 1).fam;
      const rows = await query<{ revoked_at: Date | null }>("SELECT revoked_at FROM refresh_tokens WHERE family_id = $1", [
        family,
      ]);
      expect(rows.length).toBe(2);
      expect(rows.every((row) => row.revoked_at !== null)).toBe(true);
    });

    it("stores refresh tokens only as hashes", async () => {
      const session = await signup();
      const rows = await query<{ token_hash: string }>("SELECT token_hash FROM refresh_tokens WHERE user_id = $1", [session.id]);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[0]?.token_hash).not.toContain(session.refresh_token);
    });

    it.runIf(isRealPostgres())("lets exactly one of two concurrent refreshes of one token succeed", async () => {
      const session = await signup();
      const results = await Promise.all([1, 2, 3].map(() => post("/auth/refresh", { refresh_token: session.refresh_token })));
      const statuses = results.map((result) => result.status).sort();
      expect(statuses).toEqual([200, 401, 401]);
    });
  });
});

describe("POST /auth/logout", () => {
  it("happy: revokes the session's family (204); its refresh token stops working, other sessions do not", async () => {
    const session = await signup();
    const other = (await post("/auth/login", { email: session.email, password: PASSWORD })).body;
    const result = await post("/auth/logout", { refresh_token: session.refresh_token }, { token: session.access_token });
    expect(result.status).toBe(204);
    expect(result.text).toBe("");
    expectEnvelope(await post("/auth/refresh", { refresh_token: session.refresh_token }), 401, "UNAUTHORIZED");
    expect((await post("/auth/refresh", { refresh_token: other.refresh_token })).status).toBe(200);
    // idempotent
    expect((await post("/auth/logout", { refresh_token: session.refresh_token }, { token: session.access_token })).status).toBe(
      204,
    );
  });

  it("happy: a token rotated before logout is revoked with its family", async () => {
    const session = await signup();
    const rotated = (await post("/auth/refresh", { refresh_token: session.refresh_token })).body;
    expect((await post("/auth/logout", { refresh_token: rotated.refresh_token }, { token: rotated.access_token })).status).toBe(
      204,
    );
    expectEnvelope(await post("/auth/refresh", { refresh_token: rotated.refresh_token }), 401, "UNAUTHORIZED");
  });

  it("error: needs a bearer token (401) and a valid refresh token (401/400)", async () => {
    const session = await signup();
    expectEnvelope(await post("/auth/logout", { refresh_token: session.refresh_token }), 401, "UNAUTHORIZED");
    expectEnvelope(
      await post("/auth/logout", { refresh_token: "garbage" }, { token: session.access_token }),
      401,
      "UNAUTHORIZED",
    );
    expectEnvelope(await post("/auth/logout", {}, { token: session.access_token }), 400, "VALIDATION_ERROR");
  });

  it("security: cannot revoke another user's session (403)", async () => {
    const victim = await signup();
    const attacker = await signup();
    expectEnvelope(
      await post("/auth/logout", { refresh_token: victim.refresh_token }, { token: attacker.access_token }),
      403,
      "FORBIDDEN",
    );
    expect((await post("/auth/refresh", { refresh_token: victim.refresh_token })).status).toBe(200);
  });
});

describe("POST /auth/reset-password and /confirm", () => {
  it("happy: the emailed token sets a new password once, and revokes every refresh token", async () => {
    const session = await signup();
    const request = await post("/auth/reset-password", { email: session.email.toUpperCase() });
    expect(request.status).toBe(200);
    expect(typeof request.body.message).toBe("string");
    const token = await emailToken(session.email, /reset/i);
    const newPassword = "N3w#Password!";
    const confirm = await post("/auth/reset-password/confirm", { token, new_password: newPassword });
    expect(confirm.status, confirm.text).toBe(200);
    expectEnvelope(await post("/auth/login", { email: session.email, password: PASSWORD }), 401, "UNAUTHORIZED");
    expect((await post("/auth/login", { email: session.email, password: newPassword })).status).toBe(200);
    expectEnvelope(await post("/auth/refresh", { refresh_token: session.refresh_token }), 401, "UNAUTHORIZED");
    // single use
    expectEnvelope(await post("/auth/reset-password/confirm", { token, new_password: "An0ther#Pass" }), 400, "VALIDATION_ERROR");
  });

  it("happy: an account without a password (imported) gets one through a reset", async () => {
    const email = uniqueEmail("imported");
    await query("INSERT INTO users (email, password_hash, role) VALUES ($1, NULL, 'coach')", [email]);
    await post("/auth/reset-password", { email });
    const token = await emailToken(email, /reset/i);
    expect((await post("/auth/reset-password/confirm", { token, new_password: "F1rst#Password" })).status).toBe(200);
    expect((await post("/auth/login", { email, password: "F1rst#Password" })).status).toBe(200);
  });

  it("error: the token expires after 1 hour (clock injected)", async () => {
    const session = await signup();
    const requestedAt = new Date();
    await post("/auth/reset-password", { email: session.email }, { now: requestedAt });
    const token = await emailToken(session.email, /reset/i);
    const late = await post(
      "/auth/reset-password/confirm",
      { token, new_password: "N3w#Password!" },
      { now: new Date(requestedAt.getTime() + HOUR + 60_000) },
    );
    expectEnvelope(late, 400, "VALIDATION_ERROR");
    const inTime = await post(
      "/auth/reset-password/confirm",
      { token, new_password: "N3w#Password!" },
      { now: new Date(requestedAt.getTime() + HOUR - 60_000) },
    );
    expect(inTime.status).toBe(200);
  });

  it("error: a weak new password or an unknown token is a 400 and changes nothing", async () => {
    const session = await signup();
    await post("/auth/reset-password", { email: session.email });
    const token = await emailToken(session.email, /reset/i);
    const weak = await post("/auth/reset-password/confirm", { token, new_password: "weak" });
    expectEnvelope(weak, 400, "VALIDATION_ERROR");
    expect(fieldMessages(weak, "new_password").length).toBeGreaterThan(1);
    expectEnvelope(
      await post("/auth/reset-password/confirm", { token: "not-a-token", new_password: "N3w#Password!" }),
      400,
      "VALIDATION_ERROR",
    );
    // the weak attempt did not consume the token
    expect((await post("/auth/reset-password/confirm", { token, new_password: "N3w#Password!" })).status).toBe(200);
  });

  it("error: only the newest reset link works", async () => {
    const session = await signup();
    await post("/auth/reset-password", { email: session.email });
    const older = await emailToken(session.email, /reset/i);
    await post("/auth/reset-password", { email: session.email });
    const newer = await emailToken(session.email, /reset/i);
    expect(newer).not.toBe(older);
    expectEnvelope(
      await post("/auth/reset-password/confirm", { token: older, new_password: "N3w#Password!" }),
      400,
      "VALIDATION_ERROR",
    );
    expect((await post("/auth/reset-password/confirm", { token: newer, new_password: "N3w#Password!" })).status).toBe(200);
  });

  it("security: answers the same for an unknown email and sends nothing", async () => {
    const session = await signup();
    const known = await post("/auth/reset-password", { email: session.email });
    const unknownEmail = uniqueEmail("nobody");
    const unknown = await post("/auth/reset-password", { email: unknownEmail });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual(known.body);
    expect((await get(`/dev/emails?to=${encodeURIComponent(unknownEmail)}`)).body.items).toHaveLength(0);
  });

  it("security: reset tokens are stored hashed", async () => {
    const session = await signup();
    await post("/auth/reset-password", { email: session.email });
    const token = await emailToken(session.email, /reset/i);
    const rows = await query<{ token_hash: string }>(
      "SELECT token_hash FROM email_tokens WHERE user_id = $1 AND purpose = 'reset'",
      [session.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).not.toBe(token);
  });
});

/** The full link of the last email to `to` whose subject matches. */
async function emailLink(to: string, subject: RegExp): Promise<string> {
  const result = await get(`/dev/emails?to=${encodeURIComponent(to)}`);
  const email = (result.body.items as Json[]).find((item) => subject.test(item.subject));
  const match = /(https?:\/\/\S+token=[A-Za-z0-9_-]+)/.exec(email?.text ?? "");
  expect(match, `no link in "${subject}" to ${to}`).not.toBeNull();
  return (match as RegExpExecArray)[1] as string;
}

describe("the links in the emails", () => {
  // v2: the links lead to HTML pages for people (details in auth-account.test.ts).
  it("happy: opening the verification link verifies the address (once)", async () => {
    const session = await signup();
    const link = await emailLink(session.email, /verify/i);
    const opened = await fetch(link);
    expect(opened.status).toBe(200);
    expect(opened.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await opened.text()).toMatch(/Email verified/);
    expect((await get("/profile", { token: session.access_token })).body.email_verified).toBe(true);
    expect(await (await fetch(link)).text()).toMatch(/already used/);
  });

  it("happy: opening the reset link shows the form, without consuming the token", async () => {
    const session = await signup();
    await post("/auth/reset-password", { email: session.email });
    const link = await emailLink(session.email, /reset/i);
    const opened = await fetch(link);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toMatch(/<form method="post"/);
    const token = new URL(link).searchParams.get("token") as string;
    expect((await post("/auth/reset-password/confirm", { token, new_password: "N3w#Password!" })).status).toBe(200);
    expect(await (await fetch(link)).text()).toMatch(/already used/);
  });
});

describe("POST /auth/verify-email", () => {
  it("happy: the emailed token verifies the address once", async () => {
    const session = await signup();
    const token = await emailToken(session.email, /verify/i);
    const result = await post("/auth/verify-email", { token });
    expect(result.status, result.text).toBe(200);
    expect((await get("/profile", { token: session.access_token })).body.email_verified).toBe(true);
    expectEnvelope(await post("/auth/verify-email", { token }), 400, "VALIDATION_ERROR");
  });

  it("error: the token expires after 24 hours; garbage and a reset token are refused", async () => {
    const signedUpAt = new Date();
    const result = await post("/auth/signup", { email: uniqueEmail(), password: PASSWORD, role: "coach" }, { now: signedUpAt });
    const token = await emailToken(result.body.email, /verify/i);
    expectEnvelope(
      await post("/auth/verify-email", { token }, { now: new Date(signedUpAt.getTime() + 24 * HOUR + 60_000) }),
      400,
      "VALIDATION_ERROR",
    );
    expectEnvelope(await post("/auth/verify-email", { token: "garbage" }), 400, "VALIDATION_ERROR");
    await post("/auth/reset-password", { email: result.body.email });
    const resetToken = await emailToken(result.body.email, /reset/i);
    expectEnvelope(await post("/auth/verify-email", { token: resetToken }), 400, "VALIDATION_ERROR");
    const [row] = await query<{ email_verified: boolean }>("SELECT email_verified FROM users WHERE id = $1", [result.body.id]);
    expect(row?.email_verified).toBe(false);
  });
});

describe("revoked access tokens", () => {
  it("a deactivated user's live access token stops working on the next request; login is then 403", async () => {
    const session = await signup();
    const admin = await createUser("admin");
    expect((await get("/profile", { token: session.access_token })).status).toBe(200);
    const deactivate = await call("PATCH", `/admin/users/${session.id}`, { body: { is_active: false }, token: admin.token });
    expect(deactivate.status, deactivate.text).toBe(200);
    expectEnvelope(await get("/profile", { token: session.access_token }), 401, "UNAUTHORIZED");
    expectEnvelope(await post("/auth/refresh", { refresh_token: session.refresh_token }), 401, "UNAUTHORIZED");
    expectEnvelope(await post("/auth/login", { email: session.email, password: PASSWORD }), 403, "FORBIDDEN");
  });

  it("a deleted user's live access token stops working on the next request", async () => {
    const session = await signup();
    expect((await get("/profile", { token: session.access_token })).status).toBe(200);
    expect((await call("DELETE", "/profile", { token: session.access_token })).status).toBe(204);
    expectEnvelope(await get("/profile", { token: session.access_token }), 401, "UNAUTHORIZED");
  });
});
