/**
 * `npm run import:phase1 -- file.csv [--report report.json] [--batch-size 1000]`
 *
 * The Phase-1 data migration against the database at DATABASE_URL, with the
 * very service behind POST /admin/import (src/services/admin/import.ts) over
 * node-postgres instead of the Neon driver: same validation, same batches,
 * same report, one audit entry (actor null, source "cli", the file name).
 *
 * Progress goes to stderr while the batches run; the report
 * `{processed, imported, skipped, failed, errors}` is written as JSON to
 * stdout, or to the --report file. Exit status: 0 when the file was
 * processed (even with invalid rows: they are in the report), 2 for a usage
 * error or a file that is not in the Phase-1 format, 1 for anything else.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { AppError } from "../src/lib/errors.ts";
import { IMPORT_BATCH_SIZE, importPhase1 } from "../src/services/admin/import.ts";
import { connectNode } from "./lib/node-db.ts";

const USAGE = "usage: npm run import:phase1 -- users.csv [--report report.json] [--batch-size 1000]   (DATABASE_URL must be set)";

function fail(message: string, status = 2): never {
  process.stderr.write(`import:phase1: ${message}\n${status === 2 ? `${USAGE}\n` : ""}`);
  process.exit(status);
}

const format = (value: number) => value.toLocaleString("en-US");

/** One progress line per batch; on a terminal the line is redrawn in place. */
function progressPrinter(): (done: number, total: number) => void {
  const tty = process.stderr.isTTY;
  return (done, total) => {
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    const line = `import:phase1: ${format(done)}/${format(total)} rows (${percent}%)`;
    process.stderr.write(tty ? `\r${line}${done === total ? "\n" : ""}` : `${line}\n`);
  };
}

const ARGS = {
  options: { report: { type: "string" }, "batch-size": { type: "string" }, help: { type: "boolean", short: "h" } },
  allowPositionals: true,
  strict: true,
} as const;

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<typeof ARGS>>;
  try {
    parsed = parseArgs(ARGS);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const url = process.env.DATABASE_URL;
  if (!url) fail("DATABASE_URL is not set");
  if (positionals.length !== 1) fail("give exactly one CSV file");
  const file = positionals[0] as string;
  const batchSize = values["batch-size"] === undefined ? IMPORT_BATCH_SIZE : Number(values["batch-size"]);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) fail("--batch-size must be an integer from 1 to 5000");

  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    fail(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }

  const { db, close } = connectNode(url);
  const started = performance.now();
  try {
    const report = await importPhase1(db, text, {
      actorId: null,
      now: new Date(),
      source: { kind: "cli", file: path.basename(file) },
      batchSize,
      onProgress: progressPrinter(),
    });
    const seconds = (performance.now() - started) / 1000;
    const json = `${JSON.stringify(report, null, 2)}\n`;
    if (values.report) fs.writeFileSync(values.report, json);
    else process.stdout.write(json);
    process.stderr.write(
      `import:phase1: ${format(report.processed)} rows in ${seconds.toFixed(2)} s ` +
        `(${format(Math.round(report.processed / Math.max(seconds, 1e-3)))} rows/s): ` +
        `${format(report.imported)} imported, ${format(report.skipped)} skipped (already present), ${format(report.failed)} failed` +
        `${values.report ? `; report written to ${values.report}` : ""}\n`,
    );
  } catch (error) {
    if (error instanceof AppError && error.code === "VALIDATION_ERROR") {
      fail(`${error.message}\n${JSON.stringify(error.details, null, 2)}`);
    }
    throw error;
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`import:phase1 failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
