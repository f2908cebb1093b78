/**
 * Session reminders (contract v2): the cron step, run in Node against the same
 * database through the same Neon driver and WebSocket proxy the Worker uses.
 * Sessions are put in 2031 so that no other test's bookings are due at the
 * moved clocks used here. Overlapping runs on real Postgres.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, type DatabaseSession } from "../../src/db/client.ts";
import { type Bindings, type ServiceEnv, serviceEnvOf } from "../../src/env.ts";
import { createLog } from "../../src/lib/log.ts";
import { runMaintenance } from "../../src/services/maintenance.ts";
import { sendDueReminders } from "../../src/services/reminders.ts";
import { get, type Json, patch, post } from "../helpers/api.ts";
import { book, HOUR } from "../helpers/booking-flow.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { createClient, createCoach, type TestUser } from "../helpers/fixtures.ts";

const sessions: DatabaseSession[] = [];
let env: ServiceEnv;

beforeAll(() => {
  env = serviceEnvOf({ ENVIRONMENT: "test", DATABASE_URL: inject("databaseUrl") } as Bindings, () => {}, createLog());
});
afterAll(async () => {
  await Promise.all(sessions.map((session) => session.end()));
  await closeTestPool();
});

function session(): DatabaseSession {
  const created = createDatabase({ DATABASE_URL: inject("databaseUrl"), WS_PROXY: inject("proxyUrl") });
  sessions.push(created);
  return created;
}

let year = 2031;
/** A confirmed session at 10:00Z on a day of its own in the far future. */
async function confirmedSession(): Promise<{ client: TestUser; coach: TestUser; booking: Json; start: Date }> {
  const [client, coach] = await Promise.all([createClient(), createCoach()]);
  const start = new Date(Date.UTC(year++, 5, 10, 10, 0, 0));
  const booking = await book(client, coach, start);
  await patch(`/booking/${booking.id}/status`, { status: "confirmed" }, { token: coach.token });
  return { client, coach, booking, start };
}

async function reminders(user: TestUser): Promise<Json[]> {
  return ((await get(`/dev/emails?to=${encodeURIComponent(user.email)}`)).body.items as Json[]).filter((mail) =>
    mail.subject.startsWith("Reminder: "),
  );
}

describe("cron: session reminders", () => {
  it("24 h and 1 h before a confirmed session, both parties, each exactly once over repeated runs", async () => {
    const { client, coach, booking, start } = await confirmedSession();
    const db = session().db;
    expect(await sendDueReminders(db, env, new Date(start.getTime() - 25 * HOUR))).toBe(0);
    expect(await sendDueReminders(db, env, new Date(start.getTime() - 23 * HOUR))).toBe(1);
    expect(await sendDueReminders(db, env, new Date(start.getTime() - 22 * HOUR))).toBe(0);
    for (const user of [client, coach]) {
      const mails = await reminders(user);
      expect(mails).toHaveLength(1);
      expect(mails[0].text).toContain(booking.id);
      expect(mails[0].text).toContain("within 24 hours");
      expect(mails[0].text).toMatch(/Meeting link: https:\/\/meet\.jit\.si\//);
    }
    expect(await sendDueReminders(db, env, new Date(start.getTime() - 50 * 60_000))).toBe(1);
    expect(await sendDueReminders(db, env, new Date(start.getTime() - 10 * 60_000))).toBe(0);
    for (const user of [client, coach]) expect(await reminders(user)).toHaveLength(2);
    const claims = await query(`SELECT kind FROM booking_reminders WHERE booking_id = $1 ORDER BY kind`, [booking.id]);
    expect(claims.map((row) => row.kind)).toEqual(["1h", "24h"]);
  });

  it("no reminder for pending or cancelled sessions; a rescheduled session is reminded again at its new time", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const start = new Date(Date.UTC(year++, 5, 10, 10, 0, 0));
    const pending = await book(client, coach, start);
    const db = session().db;
    expect(await sendDueReminders(db, env, new Date(start.getTime() - 2 * HOUR))).toBe(0);
    await patch(`/booking/${pending.id}/status`, { status: "confirmed" }, { token: coach.token });
    expect(await sendDueReminders(db, env, new Date(start.getTime() - 2 * HOUR))).toBe(1);
    const moved = new Date(start.getTime() + 3 * HOUR);
    expect(
      (await post(`/booking/${pending.id}/reschedule`, { session_datetime: moved.toISOString() }, { token: coach.token })).status,
    ).toBe(200);
    expect(await sendDueReminders(db, env, new Date(moved.getTime() - 2 * HOUR))).toBe(1);
    expect(await reminders(client)).toHaveLength(2);
  });

  it("the maintenance job runs the step and reports it", async () => {
    const { start } = await confirmedSession();
    const report = await runMaintenance(session().db, env, new Date(start.getTime() - 30 * 60_000));
    expect(report.session_reminders).toBeGreaterThanOrEqual(1);
  });

  it.runIf(isRealPostgres())("overlapping cron runs (8 at once, separate connections) send each reminder once", async () => {
    const booked = await Promise.all([confirmedSession(), confirmedSession(), confirmedSession()]);
    // Three sessions, three different years: one run per year's moment, eight copies of each at once.
    const claimed = await Promise.all(
      booked.flatMap(({ start }) =>
        Array.from({ length: 8 }, () => sendDueReminders(session().db, env, new Date(start.getTime() - 30 * 60_000))),
      ),
    );
    expect(claimed.reduce((sum, n) => sum + n, 0)).toBe(3);
    for (const { client, coach } of booked) {
      expect(await reminders(client)).toHaveLength(1);
      expect(await reminders(coach)).toHaveLength(1);
    }
  });
});
