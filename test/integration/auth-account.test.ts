/**
 * Account self-service (contract v2: POST /auth/change-password,
 * POST /auth/verify-email/resend), the email-link pages, and the auth defects
 * of issue 19 (each test failed before its fix): access tokens surviving a
 * password reset, reset-email floods, cost-4 hashes never upgraded, deleted
 * users' mail kept in email_outbox. Over HTTP against the Worker in wrangler dev.
 */
import bcrypt from "bcryptjs";
import { afterAll, describe, expect, it } from "vitest";
import { LoginResponse } from "../../src/contract/auth.ts";
import { baseUrl, call, del, expectEnvelope, get, type Json, post, uniqueEmail } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createUser, FIXTURE_PASSWORD } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const PASSWORD = "Str0ng#Passw0rd";
const NEW_PASSWORD = "N3w#Passw0rd!";

function freshIp(): string {
  const byte = () => Math.floor(Math.random() * 254) + 1;
  return `10.${byte()}.${byte()}.${byte()}`;
}

async function signup(email = uniqueEmail("acct")): Promise<Json> {
  const result = await post("/auth/signup", { email, password: PASSWORD, role: "client" });
  expect(result.status, result.text).toBe(201);
  return result.body;
}

async function emails(to: string): Promise<Json[]> {
  const result = await get(`/dev/emails?to=${encodeURIComponent(to)}`);
  expect(result.status).toBe(200);
  return result.body.items as Json[];
}

function tokenOf(text: string): string {
  const match = /token=([A-Za-z0-9_-]+)/.exec(text);
  expect(match, text).not.toBeNull();
  return (match as RegExpExecArray)[1] as string;
}

async function latestToken(to: string, subject: RegExp): Promise<string> {
  const mail = (await emails(to)).find((item) => subject.test(item.subject));
  expect(mail, `no email ${subject} to ${to}`).toBeDefined();
  return tokenOf(mail.text);
}

function changePassword(token: string, body: unknown, ip = freshIp()) {
  return call("POST", "/auth/change-password", { token, body, headers: { "cf-connecting-ip": ip } });
}

describe("POST /auth/change-password", () => {
  it("happy: answers a fresh session; every other session's access and refresh tokens stop working", async () => {
    const first = await signup();
    const other = await post("/auth/login", { email: first.email, password: PASSWORD });
    expect(other.status).toBe(200);

    const changed = await changePassword(first.access_token, { current_password: PASSWORD, new_password: NEW_PASSWORD });
    expect(changed.status, changed.text).toBe(200);
    const session = LoginResponse.parse(changed.body);
    expect(session.user).toMatchObject({ id: first.id, email: first.email, role: "client" });

    // The new session works at once (same second as the change), the old ones do not.
    expect((await get("/profile", { token: session.access_token })).status).toBe(200);
    expectEnvelope(await get("/profile", { token: first.access_token }), 401, "UNAUTHORIZED");
    expectEnvelope(await get("/profile", { token: other.body.access_token }), 401, "UNAUTHORIZED");
    expectEnvelope(await post("/auth/refresh", { refresh_token: first.refresh_token }), 401, "UNAUTHORIZED");
    expectEnvelope(await post("/auth/refresh", { refresh_token: other.body.refresh_token }), 401, "UNAUTHORIZED");
    const refreshed = await post("/auth/refresh", { refresh_token: session.refresh_token });
    expect(refreshed.status, refreshed.text).toBe(200);

    expectEnvelope(await post("/auth/login", { email: first.email, password: PASSWORD }), 401, "UNAUTHORIZED");
    const again = await post("/auth/login", { email: first.email, password: NEW_PASSWORD });
    expect(again.status).toBe(200);
    expect((await get("/profile", { token: again.body.access_token })).status).toBe(200);
    const [row] = await query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [first.id]);
    expect(bcrypt.getRounds(row?.password_hash as string)).toBe(12);
  });

  it("error: a wrong current password is 401 and changes nothing", async () => {
    const user = await signup();
    const result = await changePassword(user.access_token, { current_password: "Wrong#Pass99", new_password: NEW_PASSWORD });
    expectEnvelope(result, 401, "UNAUTHORIZED");
    expect((await get("/profile", { token: user.access_token })).status).toBe(200);
    expect((await post("/auth/login", { email: user.email, password: PASSWORD })).status).toBe(200);
  });

  it("error: a weak new password is 400 with every broken rule; a missing field is 400", async () => {
    const user = await signup();
    const weak = await changePassword(user.access_token, { current_password: PASSWORD, new_password: "weak" });
    const error = expectEnvelope(weak, 400, "VALIDATION_ERROR");
    expect((error.details.errors as Json[]).filter((item) => item.field === "new_password").length).toBeGreaterThan(1);
    expectEnvelope(await changePassword(user.access_token, { new_password: NEW_PASSWORD }), 400, "VALIDATION_ERROR");
  });

  it("security: wrong current passwords count for the login throttle (10, then 429 even with the right one)", async () => {
    const user = await signup();
    const ip = freshIp();
    for (let i = 0; i < 10; i++) {
      const result = await changePassword(
        user.access_token,
        { current_password: `Wrong#Pass${i}`, new_password: NEW_PASSWORD },
        ip,
      );
      expectEnvelope(result, 401, "UNAUTHORIZED");
    }
    const blocked = await changePassword(user.access_token, { current_password: PASSWORD, new_password: NEW_PASSWORD }, ip);
    expectEnvelope(blocked, 429, "RATE_LIMIT_EXCEEDED");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // ...and the same pair is blocked at login too.
    const login = await call("POST", "/auth/login", {
      body: { email: user.email, password: PASSWORD },
      headers: { "cf-connecting-ip": ip },
    });
    expectEnvelope(login, 429, "RATE_LIMIT_EXCEEDED");
  });

  it("security: needs a valid access token (401), and a revoked one does not do", async () => {
    expectEnvelope(
      await call("POST", "/auth/change-password", { body: { current_password: PASSWORD, new_password: NEW_PASSWORD } }),
      401,
      "UNAUTHORIZED",
    );
    const user = await signup();
    const changed = await changePassword(user.access_token, { current_password: PASSWORD, new_password: NEW_PASSWORD });
    expect(changed.status).toBe(200);
    // The token used for the change was issued before it: revoked too.
    expectEnvelope(
      await changePassword(user.access_token, { current_password: NEW_PASSWORD, new_password: PASSWORD }),
      401,
      "UNAUTHORIZED",
    );
  });
});

describe("POST /auth/verify-email/resend", () => {
  it("happy: 202, a new email whose link verifies; the earlier link stops working", async () => {
    const user = await signup();
    const first = await latestToken(user.email, /verify/i);
    const result = await post("/auth/verify-email/resend", undefined, { token: user.access_token });
    expect(result.status, result.text).toBe(202);
    expect(typeof result.body.message).toBe("string");
    const verifyMails = (await emails(user.email)).filter((item) => /verify/i.test(item.subject));
    expect(verifyMails).toHaveLength(2);
    const second = tokenOf(verifyMails[0].text);
    expect(second).not.toBe(first);
    expectEnvelope(await post("/auth/verify-email", { token: first }), 400, "VALIDATION_ERROR");
    expect((await post("/auth/verify-email", { token: second })).status).toBe(200);
    expect((await get("/profile", { token: user.access_token })).body.email_verified).toBe(true);
  });

  it("error: 409 when already verified", async () => {
    const user = await createUser("client"); // fixtures are verified
    expectEnvelope(await post("/auth/verify-email/resend", undefined, { token: user.token }), 409, "CONFLICT");
  });

  it("error: at most 3 an hour per user, then 429 with Retry-After; an hour later again", async () => {
    const user = await signup();
    const start = new Date(Date.now() + 10 * 60_000);
    for (let i = 0; i < 3; i++) {
      const result = await post("/auth/verify-email/resend", undefined, { token: user.access_token, now: start });
      expect(result.status, result.text).toBe(202);
    }
    const blocked = await post("/auth/verify-email/resend", undefined, { token: user.access_token, now: start });
    expectEnvelope(blocked, 429, "RATE_LIMIT_EXCEEDED");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await emails(user.email)).filter((item) => /verify/i.test(item.subject))).toHaveLength(4);
    const later = await post("/auth/verify-email/resend", undefined, {
      token: user.access_token,
      now: new Date(start.getTime() + 3_600_000 + 1_000),
    });
    expect(later.status, later.text).toBe(202);
  });

  it("security: anonymous is 401", async () => {
    expectEnvelope(await post("/auth/verify-email/resend"), 401, "UNAUTHORIZED");
  });
});

describe("issue 19: password reset revokes access tokens issued before it", () => {
  it("an access token from before the reset is 401 afterwards; a login right after the reset works", async () => {
    const user = await signup();
    expect((await get("/profile", { token: user.access_token })).status).toBe(200);
    expect((await post("/auth/reset-password", { email: user.email })).status).toBe(200);
    const token = await latestToken(user.email, /reset/i);
    expect((await post("/auth/reset-password/confirm", { token, new_password: NEW_PASSWORD })).status).toBe(200);
    expectEnvelope(await get("/profile", { token: user.access_token }), 401, "UNAUTHORIZED");
    const login = await post("/auth/login", { email: user.email, password: NEW_PASSWORD });
    expect(login.status).toBe(200);
    expect((await get("/profile", { token: login.body.access_token })).status).toBe(200);
  });
});

describe("issue 19: at most 5 reset emails an hour per address", () => {
  it("25 requests in a burst: every answer is the same 200, 5 emails are sent", async () => {
    const user = await signup();
    const answers = [];
    for (let i = 0; i < 25; i++) answers.push(await post("/auth/reset-password", { email: user.email }));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(new Set(answers.map((answer) => answer.body.message)).size).toBe(1);
    expect((await emails(user.email)).filter((item) => /reset/i.test(item.subject))).toHaveLength(5);
  });

  it("the address's case does not buy extra emails; an hour later the quota is back", async () => {
    const user = await signup();
    const start = new Date(Date.now() + 20 * 60_000);
    for (const variant of [user.email, user.email.toUpperCase(), ` ${user.email}`, user.email, user.email, user.email]) {
      expect((await post("/auth/reset-password", { email: variant.trim() }, { now: start })).status).toBe(200);
    }
    expect((await emails(user.email)).filter((item) => /reset/i.test(item.subject))).toHaveLength(5);
    await post("/auth/reset-password", { email: user.email }, { now: new Date(start.getTime() + 3_600_000 + 1_000) });
    expect((await emails(user.email)).filter((item) => /reset/i.test(item.subject))).toHaveLength(6);
  });
});

describe("issue 19: old bcrypt hashes are upgraded to cost 12 on login", () => {
  it("a cost-4 hash verifies, and after the login the stored hash is cost 12 and still verifies", async () => {
    const user = await createUser("client");
    await query("UPDATE users SET password_hash = $1 WHERE id = $2", [bcrypt.hashSync(FIXTURE_PASSWORD, 4), user.id]);
    const login = await post("/auth/login", { email: user.email, password: FIXTURE_PASSWORD });
    expect(login.status, login.text).toBe(200);
    const [row] = await query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [user.id]);
    expect(bcrypt.getRounds(row?.password_hash as string)).toBe(12);
    expect(await bcrypt.compare(FIXTURE_PASSWORD, row?.password_hash as string)).toBe(true);
    expect((await post("/auth/login", { email: user.email, password: FIXTURE_PASSWORD })).status).toBe(200);
  });

  it("a failed login does not touch the old hash", async () => {
    const user = await createUser("client");
    const old = bcrypt.hashSync(FIXTURE_PASSWORD, 4);
    await query("UPDATE users SET password_hash = $1 WHERE id = $2", [old, user.id]);
    expectEnvelope(await post("/auth/login", { email: user.email, password: "Wrong#Pass99" }), 401, "UNAUTHORIZED");
    const [row] = await query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [user.id]);
    expect(row?.password_hash).toBe(old);
  });
});

describe("issue 19: a deleted account's mail leaves email_outbox", () => {
  it("after DELETE /profile nothing to the address is kept; a new account with it sees only its own mail", async () => {
    const email = uniqueEmail("gone");
    const user = await signup(email);
    await post("/auth/reset-password", { email });
    expect((await emails(email)).length).toBe(2);
    expect((await del("/profile", { token: user.access_token })).status).toBe(204);
    expect(await query("SELECT id FROM email_outbox WHERE to_address = $1", [email])).toHaveLength(0);
    expect(await emails(email)).toEqual([]);
    await signup(email);
    const mails = await emails(email);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toMatch(/verify/i);
  });

  it("mail to other addresses stays", async () => {
    const keep = await signup();
    const gone = await signup();
    expect((await del("/profile", { token: gone.access_token })).status).toBe(204);
    expect((await emails(keep.email)).length).toBe(1);
  });
});

describe("email links and their HTML pages", () => {
  it("happy: the verification link points at APP_BASE_URL (default: this API) and its page verifies", async () => {
    const user = await signup();
    const mail = (await emails(user.email))[0];
    expect(mail.text).toContain(`${baseUrl()}/auth/verify-email?token=`);
    const link = /(http\S+token=[A-Za-z0-9_-]+)/.exec(mail.text)?.[1] as string;
    const pageResponse = await fetch(link);
    expect(pageResponse.status).toBe(200);
    expect(pageResponse.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await pageResponse.text()).toMatch(/Email verified/);
    expect((await get("/profile", { token: user.access_token })).body.email_verified).toBe(true);
    // Used once: the second visit says so, readably.
    const second = await fetch(link);
    expect(second.status).toBe(200);
    expect(await second.text()).toMatch(/invalid, has expired or was already used/);
  });

  it("happy: the reset link shows a form that sets the new password", async () => {
    const user = await signup();
    await post("/auth/reset-password", { email: user.email });
    const mail = (await emails(user.email)).find((item) => /reset/i.test(item.subject));
    expect(mail.text).toContain(`${baseUrl()}/auth/reset-password/confirm?token=`);
    const token = tokenOf(mail.text);
    const form = await fetch(`${baseUrl()}/auth/reset-password/confirm?token=${token}`);
    expect(form.headers.get("content-type")).toMatch(/^text\/html/);
    const markup = await form.text();
    expect(markup).toContain('action="/auth/reset-password/confirm/form"');
    expect(markup).toContain(`value="${token}"`);

    const weak = await fetch(`${baseUrl()}/auth/reset-password/confirm/form`, {
      method: "POST",
      body: new URLSearchParams({ token, new_password: "weak" }),
    });
    expect(weak.status).toBe(200);
    expect(await weak.text()).toMatch(/not strong enough/);

    const done = await fetch(`${baseUrl()}/auth/reset-password/confirm/form`, {
      method: "POST",
      body: new URLSearchParams({ token, new_password: NEW_PASSWORD }),
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toMatch(/Password changed/);
    expectEnvelope(await get("/profile", { token: user.access_token }), 401, "UNAUTHORIZED");
    expect((await post("/auth/login", { email: user.email, password: NEW_PASSWORD })).status).toBe(200);
  });

  it("error: a missing token is the 400 envelope; an unknown token a readable page", async () => {
    expectEnvelope(await get("/auth/verify-email"), 400, "VALIDATION_ERROR");
    const unknown = await fetch(`${baseUrl()}/auth/reset-password/confirm?token=nope`);
    expect(unknown.status).toBe(200);
    expect(await unknown.text()).toMatch(/invalid, has expired or was already used/);
    const json = await call("POST", "/auth/reset-password/confirm/form", { body: { token: "x", new_password: NEW_PASSWORD } });
    expectEnvelope(json, 400, "VALIDATION_ERROR");
  });

  it("security: what the form echoes is escaped; the pages carry the strict CSP", async () => {
    const hostile = `"><script>alert(1)</script>`;
    const response = await fetch(`${baseUrl()}/auth/reset-password/confirm/form`, {
      method: "POST",
      body: new URLSearchParams({ token: hostile, new_password: "weak" }),
    });
    const markup = await response.text();
    expect(markup).not.toContain("<script>");
    expect(markup).toContain("&quot;&gt;&lt;script&gt;");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});
