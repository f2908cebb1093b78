/**
 * CSV exports (contract v2): GET /admin/users?format=csv and
 * GET /admin/bookings?format=csv -- every matching row (not one page),
 * streamed by keyset chunks, header row, columns named as the JSON item's
 * fields, the formula-injection rule; and the admin date rules (issue 19:
 * /admin/bookings?end_date=9999-12-31 was a 500).
 */
import { parse } from "csv-parse/sync";
import { afterAll, describe, expect, it } from "vitest";
import { ADMIN_BOOKING_CSV_COLUMNS, ADMIN_USER_CSV_COLUMNS } from "../../src/contract/admin.ts";
import { EXPORT_CHUNK_ROWS } from "../../src/services/admin/exports.ts";
import { baseUrl, expectEnvelope, get, type Json } from "../helpers/api.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const tag = () => `csv${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;

/** `count` users whose emails contain `marker`, inserted in one statement (identical created_at: ties by id). */
async function bulkUsers(marker: string, count: number): Promise<void> {
  await query(
    `INSERT INTO users (email, password_hash, role, is_active, email_verified)
     SELECT 'u' || n || '-' || $1 || '@example.test', NULL, 'client', true, false FROM generate_series(1, $2) AS n`,
    [marker, count],
  );
}

async function csv(path: string, token: string): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${baseUrl()}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("GET /admin/users?format=csv", () => {
  it("happy: every matching user across several chunks, once each, in the list's order, as the JSON items", async () => {
    const admin = await createUser("admin");
    const marker = tag();
    const count = EXPORT_CHUNK_ROWS * 2 + 37;
    await bulkUsers(marker, count);
    const result = await csv(`/admin/users?format=csv&search=${marker}&limit=5`, admin.token);
    expect(result.status).toBe(200);
    expect(result.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(result.headers.get("content-disposition")).toMatch(/^attachment; filename="users-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(result.text.split("\r\n")[0]).toBe(ADMIN_USER_CSV_COLUMNS.join(","));
    const rows = parse(result.text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(count);
    expect(new Set(rows.map((row) => row.id)).size).toBe(count);
    expect(rows.every((row) => (row.email ?? "").includes(marker) && row.role === "client" && row.is_active === "true")).toBe(
      true,
    );
    // Same first rows, same order, same values as the JSON list.
    const json = await get(`/admin/users?search=${marker}&limit=100`, { token: admin.token });
    expect(Object.keys(json.body.items[0])).toEqual(ADMIN_USER_CSV_COLUMNS);
    const first = json.body.items[0] as Json;
    expect(rows[0]).toEqual(
      Object.fromEntries(Object.entries(first).map(([key, value]) => [key, value === null ? "" : String(value)])),
    );
    expect(rows.slice(0, 100).map((row) => row.id)).toEqual(json.body.items.map((item: Json) => item.id));
  });

  it("happy: filters apply; no match is just the header row", async () => {
    const admin = await createUser("admin");
    const coach = await createCoach({ firstName: `Zed${tag()}` });
    const result = await csv(`/admin/users?format=csv&role=coach&search=${encodeURIComponent(coach.email)}`, admin.token);
    const rows = parse(result.text, { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.id)).toEqual([coach.id]);
    expect(rows[0]?.first_name).toMatch(/^Zed/);
    const none = await csv(`/admin/users?format=csv&search=${tag()}`, admin.token);
    expect(none.text).toBe(`${ADMIN_USER_CSV_COLUMNS.join(",")}\r\n`);
  });

  it("security: cells that a spreadsheet would run as formulas get a leading apostrophe", async () => {
    const admin = await createUser("admin");
    const marker = tag();
    const names = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", 'Plain, "quoted"'];
    for (const [index, name] of names.entries()) {
      const client = await createClient();
      await query("UPDATE users SET email = $2 WHERE id = $1", [client.id, `f${index}-${marker}@example.test`]);
      await query("UPDATE client_profiles SET first_name = $2, last_name = $3 WHERE user_id = $1", [client.id, name, name]);
    }
    const result = await csv(`/admin/users?format=csv&search=${marker}`, admin.token);
    const rows = parse(result.text, { columns: true }) as Record<string, string>[];
    const firstNames = rows.map((row) => row.first_name).sort();
    expect(firstNames).toEqual(
      ['\'=HYPERLINK("http://evil")', "'+1+1", "'-2+3", "'@SUM(A1)", "'\tTab", "'\rCR", 'Plain, "quoted"'].sort(),
    );
    expect(rows.every((row) => row.last_name === row.first_name)).toBe(true);
  });

  it("security: admins only (403 / 401), and a bad format is 400", async () => {
    const client = await createClient();
    expectEnvelope(await get("/admin/users?format=csv", { token: client.token }), 403, "FORBIDDEN");
    expectEnvelope(await get("/admin/users?format=csv"), 401, "UNAUTHORIZED");
    const admin = await createUser("admin");
    expectEnvelope(await get("/admin/users?format=xlsx", { token: admin.token }), 400, "VALIDATION_ERROR");
  });

  it.runIf(isRealPostgres())(
    "scale: a 100,000-row export streams completely (real Postgres)",
    async () => {
      const admin = await createUser("admin");
      const marker = tag();
      await bulkUsers(marker, 100_000);
      const started = Date.now();
      const response = await fetch(`${baseUrl()}/admin/users?format=csv&search=${marker}`, {
        headers: { authorization: `Bearer ${admin.token}` },
      });
      expect(response.status).toBe(200);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let firstChunkAt = 0;
      let lines = 0;
      let chunks = 0;
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks += 1;
        firstChunkAt ||= Date.now() - started;
        lines += (decoder.decode(value, { stream: true }).match(/\r\n/g) ?? []).length;
      }
      const total = Date.now() - started;
      console.log(
        `100k-row users export: first bytes after ${firstChunkAt} ms, complete after ${total} ms, ${chunks} body chunks`,
      );
      expect(lines).toBe(100_001); // header + rows (emails and names hold no line breaks)
      expect(chunks).toBeGreaterThan(10);
      await query("DELETE FROM users WHERE email LIKE $1", [`%-${marker}@example.test`]);
    },
    300_000,
  );
});

describe("GET /admin/bookings?format=csv", () => {
  it("happy: every matching booking, columns as the JSON item with the parties dotted, date filters applied", async () => {
    const admin = await createUser("admin");
    const client = await createClient({ firstName: "-Minus" });
    const coach = await createCoach({ firstName: "Cora" });
    const base = Date.UTC(2033, 2, 1, 9);
    for (let i = 0; i < 150; i++) {
      await query(
        "INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes, status, notes) VALUES ($1, $2, $3, 60, 'cancelled', $4)",
        [client.id, coach.id, new Date(base + i * 3_600_000).toISOString(), i === 0 ? "=1+2" : null],
      );
    }
    const path = `/admin/bookings?format=csv&coach_id=${coach.id}&start_date=2033-03-01&end_date=2033-03-07`;
    const result = await csv(path, admin.token);
    expect(result.status).toBe(200);
    expect(result.headers.get("content-disposition")).toMatch(/^attachment; filename="bookings-/);
    expect(result.text.split("\r\n")[0]).toBe(ADMIN_BOOKING_CSV_COLUMNS.join(","));
    expect(ADMIN_BOOKING_CSV_COLUMNS).toEqual(expect.arrayContaining(["client.first_name", "coach.id", "session_datetime"]));
    const rows = parse(result.text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(150); // more than one page (max 100)
    expect((rows[0]?.session_datetime ?? "") > (rows[1]?.session_datetime ?? "")).toBe(true);
    expect(rows.every((row) => row["coach.first_name"] === "Cora" && row["client.first_name"] === "'-Minus")).toBe(true);
    expect(rows.find((row) => row.notes !== "")?.notes).toBe("'=1+2");
    const narrower = await csv(`/admin/bookings?format=csv&coach_id=${coach.id}&end_date=2033-03-01`, admin.token);
    expect(parse(narrower.text, { columns: true })).toHaveLength(15); // 09:00..23:00 on March 1st
  });
});

describe("admin date rules (issue 19)", () => {
  it("end_date=9999-12-31 is accepted (was a 500); years outside 1900-9999 are 400", async () => {
    const admin = await createUser("admin");
    const ok = await get("/admin/bookings?end_date=9999-12-31", { token: admin.token });
    expect(ok.status, ok.text).toBe(200);
    expect((await get("/admin/bookings?start_date=1900-01-01&end_date=9999-12-31", { token: admin.token })).status).toBe(200);
    expect((await get("/admin/bookings?end_date=9999-12-31T23:59:59Z", { token: admin.token })).status).toBe(200);
    for (const bad of [
      "end_date=10000-01-01",
      "start_date=1899-12-31",
      "start_date=0001-01-01T00:00:00Z",
      "end_date=9999-12-31T23:59:59-05:00",
      "start_date=2026-03-02&end_date=2026-03-01",
      "start_date=2026-03-01T12:00:00Z&end_date=2026-03-01T11:00:00Z",
    ]) {
      const result = await get(`/admin/bookings?${bad}`, { token: admin.token });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
    }
    // A timestamp start inside the end date's day is a valid range.
    expect(
      (await get("/admin/bookings?start_date=2026-03-01T12:00:00Z&end_date=2026-03-01", { token: admin.token })).status,
    ).toBe(200);
  });

  it("GET /admin/revenue takes any period up to 10 years and lists only days with activity", async () => {
    const admin = await createUser("admin");
    const result = await get("/admin/revenue?start_date=2020-01-01&end_date=2029-12-31&currency=XTS", { token: admin.token });
    expect(result.status, result.text).toBe(200);
    expect(result.body.period).toEqual({ start_date: "2020-01-01", end_date: "2029-12-31", days: 3653 });
    expect(result.body.daily_breakdown.every((entry: Json) => entry.bookings > 0)).toBe(true);
    expectEnvelope(
      await get("/admin/revenue?start_date=2020-01-01&end_date=2030-01-01", { token: admin.token }),
      400,
      "VALIDATION_ERROR",
    );
  });
});
