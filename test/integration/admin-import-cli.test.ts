/**
 * `npm run import:phase1 -- file.csv`: the same import service over
 * node-postgres against DATABASE_URL (here: the test database). Report JSON
 * on stdout or in --report, progress on stderr, exit codes, the audit entry.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { closeTestPool, query } from "../helpers/db.ts";

afterAll(closeTestPool);

const projectRoot = path.resolve(import.meta.dirname, "../..");
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "phase1-cli-"));
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // process.execPath is the Node running vitest (the project's Node 24, via npx).
    const child = spawn(process.execPath, ["scripts/import-phase1.ts", ...args], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: inject("databaseUrl"), ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function writeCsv(name: string, text: string): string {
  const file = path.join(workDir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe("npm run import:phase1", () => {
  it("happy: imports a file, prints the report as JSON and progress per batch; a re-run skips everything", async () => {
    const m = crypto.randomUUID().slice(0, 8);
    const rows = Array.from({ length: 25 }, (_, i) =>
      i % 5 === 0
        ? `cli-${m}-${i}@example.test,coach,Coach${i},,85,English;French`
        : `cli-${m}-${i}@example.test,client,Client${i},,,`,
    );
    rows.splice(3, 0, `bad-${m},client,Bad,,,`); // line 5
    const file = writeCsv(`phase1-${m}.csv`, `email,role,first_name,bio,hourly_rate,languages\n${rows.join("\n")}\n`);

    const first = await runCli([file, "--batch-size", "10"]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      processed: 26,
      imported: 25,
      skipped: 0,
      failed: 1,
      errors: [{ line: 5, reason: expect.stringMatching(/^email:/) }],
    });
    // Progress: after validation, then after each batch of 10 valid rows.
    expect(first.stderr).toContain("11/26 rows");
    expect(first.stderr).toContain("26/26 rows (100%)");
    expect(first.stderr).toMatch(/26 rows in [\d.]+ s \([\d,]+ rows\/s\): 25 imported, 0 skipped \(already present\), 1 failed/);

    const [coach] = await query(
      `SELECT p.languages, p.hourly_rate FROM users u JOIN coach_profiles p ON p.user_id = u.id WHERE u.email = $1`,
      [`cli-${m}-0@example.test`],
    );
    expect(coach).toEqual({ languages: ["English", "French"], hourly_rate: "85.00" });
    const audit = await query(
      `SELECT actor_id, details FROM audit_log WHERE action = 'import.phase1' AND details->>'file' = $1`,
      [path.basename(file)],
    );
    expect(audit).toEqual([{ actor_id: null, details: expect.objectContaining({ source: "cli", imported: 25, failed: 1 }) }]);

    const reportFile = path.join(workDir, `report-${m}.json`);
    const again = await runCli([file, "--report", reportFile]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe("");
    expect(JSON.parse(fs.readFileSync(reportFile, "utf8"))).toMatchObject({ processed: 26, imported: 0, skipped: 25, failed: 1 });
  });

  it("error: usage errors and a file not in the Phase-1 format exit with 2 and import nothing", async () => {
    const m = crypto.randomUUID().slice(0, 8);
    expect((await runCli([])).code).toBe(2);
    expect((await runCli([path.join(workDir, "missing.csv")])).code).toBe(2);
    expect((await runCli(["x.csv"], { DATABASE_URL: "" })).code).toBe(2);
    const wrongHeader = writeCsv(`wrong-${m}.csv`, `mail,role\nwrong-${m}@example.test,client\n`);
    const result = await runCli([wrongHeader]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing_columns");
    expect(await query(`SELECT id FROM users WHERE email = $1`, [`wrong-${m}@example.test`])).toEqual([]);
  });
});
