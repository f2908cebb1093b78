/**
 * POST /admin/import: the Phase-1 CSV through the API (real workerd, so
 * csv-parse runs inside the Workers runtime): good, bad and duplicate rows
 * with their line numbers, the idempotent re-run, old bcrypt hashes that
 * still log in, profiles, the audit entry, and whole-file refusals.
 */
import bcrypt from "bcryptjs";
import { afterAll, describe, expect, it } from "vitest";
import { call, expectEnvelope, get, type Json, post } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const HEADER =
  "email,role,first_name,last_name,password_hash,phone,timezone,bio,hourly_rate,currency,languages,countries,expertise,created_at";

function importCsv(admin: TestUser, csv: string, contentType = "text/csv; charset=utf-8") {
  return call("POST", "/admin/import", { token: admin.token, rawBody: csv, headers: { "content-type": contentType } });
}

function marker(): string {
  return crypto.randomUUID().slice(0, 8);
}

describe("POST /admin/import", () => {
  it("happy: imports good rows, reports bad ones by line, skips duplicates; a re-run imports nothing twice", async () => {
    const admin = await createUser("admin");
    const m = marker();
    const existing = await createUser("client", { email: `existing-${m}@example.test` });
    // An old system's $2b$ hash (cost 10) and a $2y$ one (PHP's spelling of the same algorithm).
    const oldHash = await bcrypt.hash("OldSystem#2019", 10);
    const phpHash = (await bcrypt.hash("PhpSide#2018", 10)).replace(/^\$2b\$/, "$2y$");
    const csv = [
      HEADER, // line 1
      `ana-${m}@example.test,client,Ana,López,${oldHash},+34 600 000 000,Europe/Madrid,,,,,,,2021-04-01`, // 2 good client
      `li-${m}@example.test,coach,Li,"Wei, Jr.",${phpHash},,,"Coach for ""global"" nomads`, // 3 good coach, bio spans lines 3-4
      `in Asia",120.50,eur,"Mandarin Chinese;english",China;Singapore,relocation;careers,2020-01-15T09:30:00Z`,
      `bad-email-${m},client,X,,,,,,,,,,,`, // 5 bad email
      ``, // 6 blank: ignored
      `root-${m}@example.test,admin,Root,,,,,,,,,,,`, // 7 admin not importable
      `rate-${m}@example.test,coach,Cheap,,,,,,10,USD,English,,,`, // 8 rate below 25
      `EXISTING-${m}@example.test,client,Dup,,,,,,,,,,,`, // 9 already present (case-insensitive)
      `ana-${m}@example.test,client,Ana again,,,,,,,,,,,`, // 10 duplicate within the file
      `mixed-${m}@example.test,client,Mixed,,,,,Has a bio,,,,,,`, // 11 coach column on a client
      `short-${m}@example.test,client`, // 12 wrong field count
      `nohash-${m}@example.test,client,No,Hash,,,,,,,,,,`, // 13 good, no password
    ].join("\n");

    const result = await importCsv(admin, csv);
    expect(result.status, result.text).toBe(200);
    expect(result.body).toMatchObject({ processed: 10, imported: 3, skipped: 2, failed: 5 });
    expect(result.body.errors.map((error: Json) => error.line)).toEqual([5, 7, 8, 11, 12]);
    expect(result.body.errors).toHaveLength(5);
    const reasons = Object.fromEntries(result.body.errors.map((error: Json) => [error.line, error.reason]));
    expect(reasons[5]).toMatch(/^email:/);
    expect(reasons[7]).toMatch(/^role:/);
    expect(reasons[8]).toMatch(/hourly_rate: Must be at least 25/);
    expect(reasons[11]).toMatch(/bio: Must be empty for a client/);
    expect(reasons[12]).toMatch(/Expected 14 fields/);

    // The rows landed with their profiles.
    const [ana] = await query(
      `SELECT u.role, u.password_hash, u.is_active, u.email_verified, u.created_at, p.first_name, p.last_name, p.phone, p.timezone, p.quiz_data
         FROM users u JOIN client_profiles p ON p.user_id = u.id WHERE u.email = $1`,
      [`ana-${m}@example.test`],
    );
    expect(ana).toMatchObject({
      role: "client",
      password_hash: oldHash,
      is_active: true,
      email_verified: false,
      first_name: "Ana",
      last_name: "López",
      phone: "+34 600 000 000",
      timezone: "Europe/Madrid",
      quiz_data: {},
    });
    expect((ana?.created_at as Date | undefined)?.toISOString()).toBe("2021-04-01T00:00:00.000Z");
    const [li] = await query(
      `SELECT p.first_name, p.last_name, p.bio, p.hourly_rate, p.currency, p.languages, p.countries, p.expertise, u.created_at
         FROM users u JOIN coach_profiles p ON p.user_id = u.id WHERE u.email = $1`,
      [`li-${m}@example.test`],
    );
    expect(li).toMatchObject({
      first_name: "Li",
      last_name: "Wei, Jr.",
      bio: 'Coach for "global" nomads\nin Asia',
      hourly_rate: "120.50",
      currency: "EUR",
      languages: ["Mandarin Chinese", "English"],
      countries: ["China", "Singapore"],
      expertise: ["relocation", "careers"],
    });
    const [noHash] = await query(`SELECT password_hash FROM users WHERE email = $1`, [`nohash-${m}@example.test`]);
    expect(noHash).toEqual({ password_hash: null });
    const [untouched] = await query(`SELECT id, role FROM users WHERE email = $1`, [existing.email]);
    expect(untouched).toEqual({ id: existing.id, role: "client" });

    // Old hashes verify at login; a user without one cannot log in (must reset).
    expect((await post("/auth/login", { email: `ana-${m}@example.test`, password: "OldSystem#2019" })).status).toBe(200);
    expect((await post("/auth/login", { email: `li-${m}@example.test`, password: "PhpSide#2018" })).status).toBe(200);
    expectEnvelope(
      await post("/auth/login", { email: `nohash-${m}@example.test`, password: "Anything#123" }),
      401,
      "UNAUTHORIZED",
    );

    // One audit entry for the import.
    const audit = await get(`/admin/audit-log?actor_id=${admin.id}&action=import.phase1`, { token: admin.token });
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      target_type: "import",
      target_id: null,
      details: { source: "api", processed: 10, imported: 3, skipped: 2, failed: 5, coaches_imported: 1, clients_imported: 2 },
    });

    // Re-run: the valid rows are now all "already present".
    const again = await importCsv(admin, csv);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ processed: 10, imported: 0, skipped: 5, failed: 5 });
    expect(again.body.errors).toEqual(result.body.errors);
    const [count] = await query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE email LIKE $1`, [`%-${m}@example.test`]);
    expect(Number(count?.n)).toBe(4);
  });

  it("happy: a header with only some columns, in another order", async () => {
    const admin = await createUser("admin");
    const m = marker();
    const result = await importCsv(admin, `role,EMAIL,first_name\r\ncoach,few-${m}@example.test,Few\r\n`);
    expect(result.body).toEqual({ processed: 1, imported: 1, skipped: 0, failed: 0, errors: [] });
    const [row] = await query(
      `SELECT p.first_name, p.currency, p.hourly_rate FROM users u JOIN coach_profiles p ON p.user_id = u.id WHERE u.email = $1`,
      [`few-${m}@example.test`],
    );
    expect(row).toEqual({ first_name: "Few", currency: "USD", hourly_rate: null });
  });

  it("happy: importing coaches bumps the coaches version (cached matches go stale)", async () => {
    const admin = await createUser("admin");
    const version = async () =>
      Number(
        (
          await query<{ v: string }>(`SELECT coalesce((SELECT value FROM app_counters WHERE name = 'coaches_version'), 0) AS v`)
        )[0]?.v,
      );
    const before = await version();
    const result = await importCsv(
      admin,
      `email,role,hourly_rate,languages\nimported-coach-${marker()}@example.test,coach,80,Spanish\n`,
    );
    expect(result.body.imported).toBe(1);
    expect(await version()).toBeGreaterThan(before);
  });

  it("error: a file that is not the Phase-1 format is refused as a whole (400) and imports nothing", async () => {
    const admin = await createUser("admin");
    const m = marker();
    const cases = [
      `email,first_name\nnorole-${m}@example.test,A\n`, // no role column
      `email,role,nickname\nnick-${m}@example.test,client,N\n`, // unknown column
      `email,role\nquote-${m}@example.test,client\n"open-${m}@example.test,client\n`, // unclosed quote
      "", // empty
      "   \n", // blank
    ];
    for (const csv of cases) expectEnvelope(await importCsv(admin, csv), 400, "VALIDATION_ERROR");
    const landed = await query(`SELECT id FROM users WHERE email LIKE $1`, [`%-${m}@example.test`]);
    expect(landed).toEqual([]);
    expect((await get(`/admin/audit-log?actor_id=${admin.id}`, { token: admin.token })).body.total).toBe(0);
  });

  it("error: the body must be sent as text/csv", async () => {
    const admin = await createUser("admin");
    expectEnvelope(await importCsv(admin, "email,role\n", "application/json"), 400, "VALIDATION_ERROR");
    expectEnvelope(await importCsv(admin, "email,role\n", "text/plain"), 400, "VALIDATION_ERROR");
  });

  it("error: a CSV body over 20 MB is 413", async () => {
    const admin = await createUser("admin");
    const big = `${HEADER}\n${"x".repeat(20 * 1024 * 1024 + 10)}\n`;
    expectEnvelope(await importCsv(admin, big), 413, "PAYLOAD_TOO_LARGE");
  });

  it("happy: a CSV body over the 1 MB JSON limit is accepted", async () => {
    const admin = await createUser("admin");
    const m = marker();
    const rows = Array.from(
      { length: 15_000 },
      (_, i) => `bulk-import-${m}-${i}@example.test,client,First${i},Last${i},,,,,,,,,,`,
    );
    const csv = `${HEADER}\n${rows.join("\n")}\n`;
    expect(csv.length).toBeGreaterThan(1024 * 1024);
    const result = await importCsv(admin, csv);
    expect(result.status, result.text.slice(0, 300)).toBe(200);
    expect(result.body).toMatchObject({ processed: 15_000, imported: 15_000, skipped: 0, failed: 0 });
    const [count] = await query<{ n: string }>(
      `SELECT count(*) AS n FROM client_profiles p JOIN users u ON u.id = p.user_id WHERE u.email LIKE $1`,
      [`bulk-import-${m}-%`],
    );
    expect(Number(count?.n)).toBe(15_000);
  });
});
