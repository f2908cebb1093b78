/**
 * OWASP API8:2023 Security Misconfiguration — security headers on every kind
 * of answer (JSON, errors, 204, CSV, iCalendar, images, the docs page,
 * preflights); CORS only for configured origins; no stack traces or server
 * fingerprints; and a production deployment that ignores the test-only
 * knobs (X-Test-Now clock, /dev/emails, X-DB-Queries) and refuses to
 * authenticate without a proper JWT_SECRET instead of falling back to a
 * development key.
 */
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { WranglerDev } from "../../scripts/lib/wrangler.ts";
import { createApp } from "../../src/app.ts";
import { signToken } from "../../src/lib/tokens.ts";
import { type CallResult, call, del, expectEnvelope, get, post } from "../helpers/api.ts";
import { confirmedBooking, slot } from "../helpers/booking-flow.ts";
import { closeTestPool } from "../helpers/db.ts";
import { accessToken, createClient, createCoach, createUser } from "../helpers/fixtures.ts";
import { startTestWorker, TEST_JWT_SECRET } from "../helpers/stack.ts";

let production: WranglerDev;

beforeAll(async () => {
  // Production settings, with the test-only switch left on: it must have no effect there.
  // No STRIPE_API_BASE: outside development an http Stripe base (the test fake) is a configuration error (503).
  production = await startTestWorker(
    { databaseUrl: inject("databaseUrl"), proxyUrl: inject("proxyUrl"), stripeUrl: inject("stripeUrl") },
    { ENVIRONMENT: "production", ALLOW_TEST_CLOCK: "1", CORS_ORIGINS: "", STRIPE_API_BASE: "" },
  );
});

afterAll(async () => {
  await production?.stop();
  await closeTestPool();
});

function expectSecurityHeaders(result: CallResult, label: string, csp: RegExp = /default-src 'none'/): void {
  expect(result.headers.get("x-content-type-options"), label).toBe("nosniff");
  expect(result.headers.get("x-frame-options"), label).toBe("DENY");
  expect(result.headers.get("strict-transport-security"), label).toMatch(/max-age=\d{7,}/);
  expect(result.headers.get("content-security-policy"), label).toMatch(csp);
  expect(result.headers.get("content-security-policy"), label).toContain("frame-ancestors 'none'");
  expect(result.headers.get("referrer-policy"), label).toBe("no-referrer");
  expect(result.headers.get("x-powered-by"), label).toBeNull();
  expect(result.headers.get("x-request-id"), label).toBeTruthy();
}

describe("API8 security headers on every kind of answer", () => {
  it("JSON, errors (400/401/403/404/405/413), 204, CSV, iCalendar, image, preflight, the document and the docs page", async () => {
    const client = await createClient();
    const coach = await createCoach();
    const admin = await createUser("admin");
    await confirmedBooking(client, coach, slot(5500 + Math.floor(Math.random() * 300), 10));
    const feed = await post("/calendar/feed-token", undefined, { token: client.token });
    const png = new Uint8Array(64);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const form = new FormData();
    form.append("photo", new Blob([png], { type: "image/png" }), "p.png");
    const uploaded = await call("POST", "/profile/photo", { token: client.token, rawBody: form });
    const created = await post(
      "/community/posts",
      { title: "t", content: "c", post_type: "discussion" },
      { token: client.token },
    );

    const answers: [string, CallResult][] = [
      ["200 JSON", await get("/health")],
      ["400", await post("/auth/login", { email: 1 })],
      ["401", await get("/profile")],
      ["403", await get("/admin/users", { token: client.token })],
      ["404", await get("/nowhere")],
      ["405", await call("PUT", "/health")],
      [
        "413",
        await call("POST", "/auth/login", {
          rawBody: "x".repeat(1024 * 1024 + 1),
          headers: { "content-type": "application/json" },
        }),
      ],
      ["204", await del(`/community/posts/${created.body.id}`, { token: client.token })],
      ["CSV", await get("/admin/revenue?format=csv", { token: admin.token })],
      ["iCalendar", await get(new URL(feed.body.feed_url).pathname)],
      ["image", await get(new URL(uploaded.body.photo_url).pathname)],
      [
        "preflight",
        await call("OPTIONS", "/profile", {
          headers: { origin: "https://app.culturebridge.test", "access-control-request-method": "PUT" },
        }),
      ],
      ["openapi.json", await get("/openapi.json")],
    ];
    expect(answers.map(([label, result]) => `${label} ${result.status}`)).toEqual([
      "200 JSON 200",
      "400 400",
      "401 401",
      "403 403",
      "404 404",
      "405 405",
      "413 413",
      "204 204",
      "CSV 200",
      "iCalendar 200",
      "image 200",
      "preflight 204",
      "openapi.json 200",
    ]);
    for (const [label, result] of answers) expectSecurityHeaders(result, label);
    // The docs page loads its bundle from a CDN: a CSP of its own, still no framing.
    expectSecurityHeaders(await get("/docs"), "docs", /script-src/);
  });

  it("stored text comes back as JSON with nosniff, never as HTML", async () => {
    const user = await createUser("client");
    const created = await post(
      "/community/posts",
      { title: "<script>alert(1)</script>", content: "<img src=x onerror=alert(1)>", post_type: "discussion" },
      { token: user.token },
    );
    const read = await get(`/community/posts/${created.body.id}`, { token: user.token });
    expect(read.headers.get("content-type")).toMatch(/^application\/json/);
    expect(read.body.title).toBe("<script>alert(1)</script>");
  });
});

describe("API8 CORS", () => {
  it("grants only configured origins, never a wildcard, and varies on Origin", async () => {
    const allowed = await call("GET", "/health", { headers: { origin: "https://app.culturebridge.test" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.culturebridge.test");
    expect(allowed.headers.get("vary") ?? "").toMatch(/origin/i);
    for (const origin of [
      "https://evil.example",
      "null",
      "https://app.culturebridge.test.evil.example",
      "http://app.culturebridge.test",
    ]) {
      for (const method of ["GET", "OPTIONS"]) {
        const result = await call(method, "/profile", {
          headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
        });
        expect(result.headers.get("access-control-allow-origin"), `${method} ${origin}`).toBeNull();
        expect(result.headers.get("access-control-allow-credentials"), `${method} ${origin}`).toBeNull();
      }
    }
  });

  it("a deployment without CORS_ORIGINS allows no cross-origin access at all", async () => {
    const result = await call(
      "OPTIONS",
      "/health",
      { headers: { origin: "https://app.culturebridge.test", "access-control-request-method": "GET" } },
      production.url,
    );
    expect(result.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("API8 production ignores test-only switches", () => {
  it("X-Test-Now does not move the clock: an expired token stays expired", async () => {
    const user = await createUser("client");
    const issued = new Date(Date.now() - 25 * 3_600_000);
    const expired = await accessToken(user.id, "client", issued);
    const result = await call("GET", "/profile", { token: expired, now: new Date(issued.getTime() + 60_000) }, production.url);
    expectEnvelope(result, 401, "UNAUTHORIZED");
    // Control: the test deployment honours it (that is what the header is for).
    expect((await get("/profile", { token: expired, now: new Date(issued.getTime() + 60_000) })).status).toBe(200);
  });

  it("/dev/emails does not exist, and no X-DB-Queries header is sent", async () => {
    expectEnvelope(await call("GET", "/dev/emails?to=someone@example.test", {}, production.url), 404, "NOT_FOUND");
    const user = await createUser("client");
    const profile = await call("GET", "/profile", { token: user.token }, production.url);
    expect(profile.status).toBe(200);
    expect(profile.headers.get("x-db-queries")).toBeNull();
    expect((await get("/profile", { token: user.token })).headers.get("x-db-queries")).not.toBeNull();
  });

  it("without a JWT_SECRET (or with a short one) production refuses to authenticate instead of using a default key", async () => {
    const app = createApp();
    const user = await createUser("client");
    const developmentKeyToken = (
      await signToken(
        new TextEncoder().encode("culturebridge-development-only-secret-do-not-use-in-production"),
        { sub: user.id, role: "client", type: "access" },
        new Date(),
      )
    ).token;
    const context = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
    for (const secret of [undefined, "", "short-secret"]) {
      const env = {
        ENVIRONMENT: "production",
        DATABASE_URL: inject("databaseUrl"),
        WS_PROXY: inject("proxyUrl"),
        ...(secret !== undefined ? { JWT_SECRET: secret } : {}),
      };
      for (const token of [
        developmentKeyToken,
        (await signToken(new TextEncoder().encode(secret || "x"), { sub: user.id, role: "client", type: "access" }, new Date()))
          .token,
      ]) {
        const response = await app.request("/profile", { headers: { authorization: `Bearer ${token}` } }, env, context);
        expect(response.status, `secret ${JSON.stringify(secret)}`).toBe(503);
        const body = (await response.json()) as { error: { code: string } };
        expect(body.error.code).toBe("SERVICE_UNAVAILABLE");
      }
    }
    // Control: with the real secret the same app authenticates.
    const good = await app.request(
      "/profile",
      { headers: { authorization: `Bearer ${user.token}` } },
      {
        ENVIRONMENT: "production",
        DATABASE_URL: inject("databaseUrl"),
        WS_PROXY: inject("proxyUrl"),
        JWT_SECRET: TEST_JWT_SECRET,
        PUBLIC_BASE_URL: "https://api.culturebridge.test",
      },
      context,
    );
    expect(good.status).toBe(200);
  });

  it("production without (or with a malformed) PUBLIC_BASE_URL refuses to serve: 503 on every route, one log line, no localhost links", async () => {
    const app = createApp();
    const context = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      for (const publicBaseUrl of [undefined, "not a url", "ftp://files.example"]) {
        const env = {
          ENVIRONMENT: "production",
          DATABASE_URL: inject("databaseUrl"),
          WS_PROXY: inject("proxyUrl"),
          JWT_SECRET: TEST_JWT_SECRET,
          ...(publicBaseUrl !== undefined ? { PUBLIC_BASE_URL: publicBaseUrl } : {}),
        };
        for (const path of ["/health", "/coaches", "/openapi.json", "/calendar/feed-token"]) {
          const response = await app.request(path, {}, env, context);
          expect(response.status, `${path} with PUBLIC_BASE_URL ${JSON.stringify(publicBaseUrl)}`).toBe(503);
          const body = (await response.json()) as { error: { code: string } };
          expect(body.error.code).toBe("SERVICE_UNAVAILABLE");
        }
      }
      const configLines = logged.mock.calls.map(([line]) => String(line)).filter((line) => line.includes("configuration"));
      expect(configLines.length).toBeGreaterThanOrEqual(1);
      expect(configLines.some((line) => line.includes("PUBLIC_BASE_URL"))).toBe(true);
    } finally {
      logged.mockRestore();
    }
  });
});

describe("API8 no stack traces, no fingerprints", () => {
  it("malformed input of every kind answers the envelope without internals", async () => {
    const user = await createUser("client");
    const probes = [
      await call("POST", "/auth/login", { rawBody: '{"email": ', headers: { "content-type": "application/json" } }),
      await call("POST", "/community/posts", {
        token: user.token,
        rawBody: "[".repeat(5000),
        headers: { "content-type": "application/json" },
      }),
      await call("GET", "/booking/%E0%A4%A", { token: user.token }),
      await call("GET", "/coaches/' OR 1=1 --", { token: user.token }),
      await call("PUT", "/profile", {
        token: user.token,
        rawBody: "\u0000\u0001",
        headers: { "content-type": "application/json" },
      }),
      await call("POST", "/auth/login", { rawBody: "email=a", headers: { "content-type": "application/x-www-form-urlencoded" } }),
    ];
    for (const result of probes) {
      expect(result.status).toBeGreaterThanOrEqual(400);
      expect(result.status).toBeLessThan(500);
      expect(result.body?.error?.code).toEqual(expect.any(String));
      expect(result.text).not.toMatch(/\bat \S+ \(|node_modules|\.ts:\d+|SyntaxError|drizzle|postgres/i);
    }
  });
});
