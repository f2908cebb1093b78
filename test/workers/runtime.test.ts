import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { createDatabase } from "../../src/db/client.ts";
import type { Bindings } from "../../src/env.ts";
import worker from "../../src/index.ts";

const bindings = env as unknown as Bindings;

describe("inside workerd", () => {
  it("reaches Postgres through the Neon driver and the WebSocket proxy", async () => {
    const session = createDatabase(bindings);
    try {
      const result = await session.db.execute<{ answer: number }>(sql`select 41 + 1 as answer`);
      expect(Number(result.rows[0]?.answer)).toBe(42);
      expect(session.queryCount()).toBe(1);
    } finally {
      await session.end();
    }
  });

  it("serves /health through the Worker's fetch handler with a per-request pool", async () => {
    for (let i = 0; i < 3; i++) {
      // several requests in a row: a module-level pool would fail from the second on
      const ctx = createExecutionContext();
      const response = await worker.fetch(new Request("http://api.test/health"), bindings, ctx);
      await waitOnExecutionContext(ctx);
      const body = (await response.json()) as { status: string; database: string };
      expect(response.status).toBe(200);
      expect(body).toMatchObject({ status: "healthy", database: "connected" });
    }
  });

  it("runs the scheduled maintenance job", async () => {
    const controller = createScheduledController({ scheduledTime: new Date(), cron: "*/5 * * * *" });
    const ctx = createExecutionContext();
    const logged = vi.spyOn(console, "log");
    try {
      await worker.scheduled(controller, bindings, ctx);
      await waitOnExecutionContext(ctx);
      const report = logged.mock.calls
        .map(([line]) => {
          try {
            return JSON.parse(String(line)) as Record<string, unknown>;
          } catch {
            return undefined;
          }
        })
        .find((line) => line?.msg === "maintenance");
      // Every step ran and reported a count (the job reached the database for each).
      expect(report).toMatchObject({ cron: "*/5 * * * *" });
      for (const step of ["stale_pending_bookings", "expired_match_cache", "expired_refresh_tokens"]) {
        expect(typeof report?.[step], step).toBe("number");
      }
    } finally {
      logged.mockRestore();
    }
  });
});
