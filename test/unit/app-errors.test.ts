/**
 * The error envelope for failures no route anticipates, on the real app
 * assembled by createApp() (Node, no bindings needed for these paths).
 */
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app.ts";

const env = { ENVIRONMENT: "test", DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none" };

function appWithFaultyRoutes() {
  const app = createApp();
  app.get("/test/throws", () => {
    throw new Error("secret internal detail at /srv/app.ts:42");
  });
  app.get("/test/throws-string", () => {
    throw "a thrown string";
  });
  return app;
}

describe("unexpected exceptions", () => {
  it("become a 500 INTERNAL_ERROR envelope with the request id and no details or stack", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      for (const path of ["/test/throws", "/test/throws-string"]) {
        const response = await appWithFaultyRoutes().request(path, { headers: { "x-request-id": "req-under-test" } }, env);
        expect(response.status).toBe(500);
        const text = await response.text();
        const body = JSON.parse(text) as { error: Record<string, unknown> };
        expect(body.error).toMatchObject({ code: "INTERNAL_ERROR", details: {}, request_id: "req-under-test" });
        expect(response.headers.get("x-request-id")).toBe("req-under-test");
        expect(text).not.toContain("secret internal detail");
        expect(text).not.toContain(".ts:");
      }
      // ...while the log keeps the cause, tied to the request id
      expect(
        errors.mock.calls.some(
          ([line]) => String(line).includes("req-under-test") && String(line).includes("secret internal detail"),
        ),
      ).toBe(true);
    } finally {
      errors.mockRestore();
    }
  });

  it("malformed JSON on a validated route is a 400 VALIDATION_ERROR envelope", async () => {
    const response = await appWithFaultyRoutes().request(
      "/auth/login",
      { method: "POST", headers: { "content-type": "application/json" }, body: '{"email": "a@b.c", ' },
      env,
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; request_id: string } };
    expect(body.error.code).toBe("VALIDATION_ERROR");
    expect(body.error.request_id).toMatch(/^req_/);
  });
});
