/**
 * The login throttle (contract, beyond): at most 10 failed POST /auth/login
 * attempts per (email, client IP) in any 15 minutes, then 429
 * RATE_LIMIT_EXCEEDED in the common envelope with Retry-After; a successful
 * login clears the count; the key includes the IP, so failing from one
 * address cannot lock the victim out from theirs.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  LOGIN_ACCOUNT_FAILURE_LIMIT,
  LOGIN_FAILURE_LIMIT,
  LOGIN_FAILURE_WINDOW_SECONDS,
  loginThrottleKey,
} from "../../src/platform/throttle.ts";
import { type CallResult, call, expectEnvelope } from "../helpers/api.ts";
import { closeTestPool } from "../helpers/db.ts";
import { createUser, FIXTURE_PASSWORD } from "../helpers/fixtures.ts";

afterAll(async () => {
  await closeTestPool();
});

const WRONG_PASSWORD = "Wrong#Pass99";

function freshIp(): string {
  const byte = () => Math.floor(Math.random() * 254) + 1;
  return `172.16.${byte()}.${byte()}`;
}

function login(email: string, password: string, ip: string, now?: Date): Promise<CallResult> {
  return call("POST", "/auth/login", { body: { email, password }, headers: { "cf-connecting-ip": ip }, ...(now ? { now } : {}) });
}

async function failTimes(times: number, email: string, ip: string, now?: Date): Promise<void> {
  for (let i = 0; i < times; i++) {
    const result = await login(email, WRONG_PASSWORD, ip, now);
    expectEnvelope(result, 401, "UNAUTHORIZED");
  }
}

describe("login throttle: happy path", () => {
  it("lets a user log in normally through the throttle (the route still reads the JSON body)", async () => {
    const user = await createUser("client");
    const result = await login(user.email, FIXTURE_PASSWORD, freshIp());
    expect(result.status).toBe(200);
    expect(result.body.user.email).toBe(user.email);
    expect(result.headers.get("x-ratelimit-limit")).not.toBeNull();
  });

  it("a successful login resets the failure count", async () => {
    const user = await createUser("client");
    const ip = freshIp();
    await failTimes(LOGIN_FAILURE_LIMIT - 1, user.email, ip);
    expect((await login(user.email, FIXTURE_PASSWORD, ip)).status).toBe(200);
    // A full allowance again: 10 more failures are answered 401, only the 11th is 429.
    await failTimes(LOGIN_FAILURE_LIMIT, user.email, ip);
    expectEnvelope(await login(user.email, WRONG_PASSWORD, ip), 429, "RATE_LIMIT_EXCEEDED");
  });
});

describe("login throttle: errors", () => {
  it("answers the 11th attempt within 15 minutes with 429, the envelope and Retry-After, even with the right password", async () => {
    const user = await createUser("coach");
    const ip = freshIp();
    // Whole seconds, so that Retry-After is exact.
    const start = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
    await failTimes(LOGIN_FAILURE_LIMIT, user.email, ip, start);
    const blocked = await login(user.email, FIXTURE_PASSWORD, ip, new Date(start.getTime() + 60_000));
    const error = expectEnvelope(blocked, 429, "RATE_LIMIT_EXCEEDED");
    const retryAfter = Number(blocked.headers.get("retry-after"));
    expect(retryAfter).toBe(LOGIN_FAILURE_WINDOW_SECONDS - 60);
    expect(error.details).toMatchObject({
      limit: LOGIN_FAILURE_LIMIT,
      window_seconds: LOGIN_FAILURE_WINDOW_SECONDS,
      retry_after_seconds: retryAfter,
    });
    expect(blocked.body.access_token).toBeUndefined();
    // The general limit's headers are on the throttle's 429 as well.
    expect(blocked.headers.get("x-ratelimit-remaining")).not.toBeNull();
  });

  it("slides: 14 minutes later still blocked, once the oldest failure is 15 minutes old the account can be tried again", async () => {
    const user = await createUser("client");
    const ip = freshIp();
    const start = new Date(Date.now() + 7_200_000);
    await failTimes(LOGIN_FAILURE_LIMIT, user.email, ip, start);
    expectEnvelope(
      await login(user.email, FIXTURE_PASSWORD, ip, new Date(start.getTime() + 14 * 60_000)),
      429,
      "RATE_LIMIT_EXCEEDED",
    );
    const after = await login(
      user.email,
      FIXTURE_PASSWORD,
      ip,
      new Date(start.getTime() + LOGIN_FAILURE_WINDOW_SECONDS * 1000 + 1_000),
    );
    expect(after.status).toBe(200);
  });

  it("counts failures for unknown emails the same way (no account enumeration by throttle behaviour)", async () => {
    const email = `nobody-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const ip = freshIp();
    await failTimes(LOGIN_FAILURE_LIMIT, email, ip);
    expectEnvelope(await login(email, WRONG_PASSWORD, ip), 429, "RATE_LIMIT_EXCEEDED");
  });

  it("does not count malformed or invalid requests (400), and survives them", async () => {
    const user = await createUser("client");
    const ip = freshIp();
    for (let i = 0; i < LOGIN_FAILURE_LIMIT + 2; i++) {
      const malformed = await call("POST", "/auth/login", {
        rawBody: "{email:",
        headers: { "content-type": "application/json", "cf-connecting-ip": ip },
      });
      expectEnvelope(malformed, 400, "VALIDATION_ERROR");
    }
    expectEnvelope(
      await call("POST", "/auth/login", { body: { email: 42, password: 1 }, headers: { "cf-connecting-ip": ip } }),
      400,
      "VALIDATION_ERROR",
    );
    expect((await login(user.email, FIXTURE_PASSWORD, ip)).status).toBe(200);
  });
});

describe("login throttle: security", () => {
  it("cannot lock the victim out from another IP: the attacker's IP is blocked, the victim's is not", async () => {
    const victim = await createUser("client");
    const attackerIp = freshIp();
    await failTimes(LOGIN_FAILURE_LIMIT, victim.email, attackerIp);
    expectEnvelope(await login(victim.email, WRONG_PASSWORD, attackerIp), 429, "RATE_LIMIT_EXCEEDED");
    const fromVictim = await login(victim.email, FIXTURE_PASSWORD, freshIp());
    expect(fromVictim.status).toBe(200);
    // ...and the victim's success does not unblock the attacker's (email, IP) pair.
    expectEnvelope(await login(victim.email, FIXTURE_PASSWORD, attackerIp), 429, "RATE_LIMIT_EXCEEDED");
  });

  it("keys per email: a blocked IP can still log into another account", async () => {
    const first = await createUser("client");
    const second = await createUser("client");
    const ip = freshIp();
    await failTimes(LOGIN_FAILURE_LIMIT, first.email, ip);
    expectEnvelope(await login(first.email, FIXTURE_PASSWORD, ip), 429, "RATE_LIMIT_EXCEEDED");
    expect((await login(second.email, FIXTURE_PASSWORD, ip)).status).toBe(200);
  });

  it("normalises the email as the login does: case and surrounding spaces do not buy extra attempts", async () => {
    const user = await createUser("client");
    const ip = freshIp();
    const variants = [user.email, user.email.toUpperCase(), ` ${user.email} `, `\t${user.email.toUpperCase()}`];
    for (let i = 0; i < LOGIN_FAILURE_LIMIT; i++) {
      expectEnvelope(await login(variants[i % variants.length] as string, WRONG_PASSWORD, ip), 401, "UNAUTHORIZED");
    }
    expectEnvelope(await login(user.email.toUpperCase(), FIXTURE_PASSWORD, ip), 429, "RATE_LIMIT_EXCEEDED");
    expect(loginThrottleKey(` ${user.email.toUpperCase()} `, ip)).toBe(loginThrottleKey(user.email, ip));
  });
});

describe("login throttle: issue 19", () => {
  function freshPrefix(): string {
    const group = () => Math.floor(Math.random() * 0xffff).toString(16);
    return `2001:db8:${group()}:${group()}`;
  }

  it("keys IPv6 by /64: other addresses of the same /64 get no fresh tries; another /64 is another client", async () => {
    const user = await createUser("client");
    const prefix = freshPrefix();
    for (let i = 0; i < LOGIN_FAILURE_LIMIT; i++) {
      // Every attempt from a different address of one /64 (privacy addresses, SLAAC).
      expectEnvelope(await login(user.email, WRONG_PASSWORD, `${prefix}:${(i + 1).toString(16)}::1`), 401, "UNAUTHORIZED");
    }
    expectEnvelope(await login(user.email, FIXTURE_PASSWORD, `${prefix}:ffff:ffff:ffff:ffff`), 429, "RATE_LIMIT_EXCEEDED");
    expectEnvelope(await login(user.email, FIXTURE_PASSWORD, `${prefix.toUpperCase()}::abcd`), 429, "RATE_LIMIT_EXCEEDED");
    expect((await login(user.email, FIXTURE_PASSWORD, `${freshPrefix()}::1`)).status).toBe(200);
    expect(loginThrottleKey(user.email, `${prefix}::1`)).toBe(loginThrottleKey(user.email, `${prefix}:0:1:2:3`));
  });

  it("IPv4-mapped IPv6 counts as its IPv4 address", async () => {
    const user = await createUser("client");
    const ip = freshIp();
    await failTimes(LOGIN_FAILURE_LIMIT, user.email, `::ffff:${ip}`);
    expectEnvelope(await login(user.email, FIXTURE_PASSWORD, ip), 429, "RATE_LIMIT_EXCEEDED");
  });

  it(`caps failures per account across addresses (${LOGIN_ACCOUNT_FAILURE_LIMIT} in 15 minutes), then 429 from anywhere`, async () => {
    const user = await createUser("client");
    const start = new Date(Math.floor(Date.now() / 1000) * 1000 + 3 * 3_600_000);
    const perIp = LOGIN_FAILURE_LIMIT - 1; // below the pair limit: only the account cap can stop it
    let failures = 0;
    while (failures < LOGIN_ACCOUNT_FAILURE_LIMIT) {
      const ip = freshIp();
      const batch = Math.min(perIp, LOGIN_ACCOUNT_FAILURE_LIMIT - failures);
      await Promise.all(
        Array.from({ length: batch }, () =>
          login(user.email, WRONG_PASSWORD, ip, start).then((r) => expectEnvelope(r, 401, "UNAUTHORIZED")),
        ),
      );
      failures += batch;
    }
    const blocked = await login(user.email, FIXTURE_PASSWORD, freshIp(), new Date(start.getTime() + 1_000));
    const error = expectEnvelope(blocked, 429, "RATE_LIMIT_EXCEEDED");
    expect(error.details).toMatchObject({ limit: LOGIN_ACCOUNT_FAILURE_LIMIT, scope: "account" });
    // Another account is not affected; the cap slides away after the window.
    expect((await login((await createUser("client")).email, FIXTURE_PASSWORD, freshIp(), start)).status).toBe(200);
    const after = new Date(start.getTime() + LOGIN_FAILURE_WINDOW_SECONDS * 1000 + 1_000);
    expect((await login(user.email, FIXTURE_PASSWORD, freshIp(), after)).status).toBe(200);
  });
});
