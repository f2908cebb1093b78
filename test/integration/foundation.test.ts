import { describe, expect, it } from "vitest";
import { call, expectEnvelope, get } from "../helpers/api.ts";

describe("health and docs", () => {
  it("GET /health reports a connected database and cache", async () => {
    const result = await get("/health");
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ status: "healthy", database: "connected", cache: "connected" });
    expect(result.body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(typeof result.body.version).toBe("string");
  });

  it("GET /openapi.json is an OpenAPI 3.1 document with the bearer scheme and the error envelope", async () => {
    const result = await get("/openapi.json");
    expect(result.status).toBe(200);
    expect(result.body.openapi).toBe("3.1.0");
    expect(result.body.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(result.body.components.schemas.Error).toBeDefined();
    expect(result.body.paths["/health"].get).toBeDefined();
  });

  it("GET /docs serves an HTML documentation page over /openapi.json", async () => {
    const result = await get("/docs");
    expect(result.status).toBe(200);
    expect(result.headers.get("content-type")).toContain("text/html");
    expect(result.text).toContain("/openapi.json");
  });
});

describe("cross-cutting HTTP", () => {
  it("answers an unknown route with the NOT_FOUND envelope and the request id", async () => {
    const result = await get("/no/such/route");
    const error = expectEnvelope(result, 404, "NOT_FOUND");
    expect(error.request_id).toMatch(/^req_/);
  });

  it("answers a known path with a wrong method with 405 and Allow", async () => {
    const result = await call("DELETE", "/health");
    expectEnvelope(result, 405, "METHOD_NOT_ALLOWED");
    expect(result.headers.get("allow")).toContain("GET");
  });

  it("echoes a sane incoming X-Request-Id and replaces an insane one", async () => {
    const sane = await get("/health", { headers: { "x-request-id": "client-abc_123" } });
    expect(sane.headers.get("x-request-id")).toBe("client-abc_123");
    const insane = await get("/no/route", { headers: { "x-request-id": "<script>alert(1)</script>" } });
    expect(insane.headers.get("x-request-id")).toMatch(/^req_/);
    expect(insane.body.error.request_id).toBe(insane.headers.get("x-request-id"));
  });

  it("sets the security headers on every response, errors included", async () => {
    for (const result of [await get("/health"), await get("/nope")]) {
      expect(result.headers.get("x-content-type-options")).toBe("nosniff");
      expect(result.headers.get("x-frame-options")).toBe("DENY");
      expect(result.headers.get("strict-transport-security")).toContain("max-age=");
      expect(result.headers.get("content-security-policy")).toContain("default-src");
    }
  });

  it("sends rate-limit headers that count down", async () => {
    const first = await get("/health");
    const second = await get("/health");
    expect(first.headers.get("x-ratelimit-limit")).toBe("1000000");
    expect(Number(second.headers.get("x-ratelimit-remaining"))).toBeLessThan(Number(first.headers.get("x-ratelimit-remaining")));
    expect(Number(first.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000 - 1);
  });

  it("allows CORS only for configured origins", async () => {
    const allowed = await call("OPTIONS", "/health", {
      headers: { origin: "https://app.culturebridge.test", "access-control-request-method": "GET" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.culturebridge.test");
    const denied = await call("OPTIONS", "/health", {
      headers: { origin: "https://evil.test", "access-control-request-method": "GET" },
    });
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("rejects JSON bodies over 1 MB with 413 PAYLOAD_TOO_LARGE", async () => {
    const big = JSON.stringify({ padding: "x".repeat(1024 * 1024 + 10) });
    const result = await call("POST", "/auth/login", { rawBody: big, headers: { "content-type": "application/json" } });
    expectEnvelope(result, 413, "PAYLOAD_TOO_LARGE");
  });
});
