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

  it("the job's writes bump the edge data versions: a released hold is not hidden by a cached free-slot list", async () => {
    const coachId = crypto.randomUUID();
    const clientId = crypto.randomUUID();
    const session = createDatabase(bindings);
    try {
      await session.db.execute(
        sql`insert into users (id, email, role) values (${coachId}, ${`cron-coach-${coachId}@example.test`}, 'coach'),
                                                      (${clientId}, ${`cron-client-${clientId}@example.test`}, 'client')`,
      );
      // A hold nobody paid for, older than the 30-minute bound: the job releases it.
      await session.db.execute(
        sql`insert into bookings (client_id, coach_id, session_datetime, duration_minutes, status, created_at, updated_at)
            values (${clientId}, ${coachId}, now() + interval '3 days', 60, 'pending', now() - interval '2 hours', now() - interval '2 hours')`,
      );
    } finally {
      await session.end();
    }
    const kv = bindings.MATCH_CACHE as KVNamespace;
    await kv.put("ver:bookings", "before-the-job");
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "*/5 * * * *" }), bindings, ctx);
    await waitOnExecutionContext(ctx);
    const check = createDatabase(bindings);
    try {
      const rows = await check.db.execute<{ status: string }>(sql`select status from bookings where client_id = ${clientId}`);
      expect(rows.rows[0]?.status).toBe("cancelled");
    } finally {
      await check.end();
    }
    expect(await kv.get("ver:bookings")).not.toBe("before-the-job");
  });
});
