/**
 * `npx node scripts/generate-phase1.ts --rows 20000 --out phase1.csv [--invalid-every 0] [--prefix run1]`
 *
 * Writes a synthetic Phase-1 export for the import throughput figure: every
 * column of the contract's format, ~80 % clients and ~20 % coaches, real
 * bcrypt hashes (a few, computed once and reused: hashing 20,000 passwords at
 * cost 10 would take minutes and measure bcrypt, not the import), names and
 * bios with commas, quotes and line breaks (quoted by csv-stringify), `;`
 * lists. `--invalid-every N` makes every N-th row invalid (a bad email, rate,
 * language or time zone in turn) to measure the error path too. Emails carry
 * the prefix (random by default), so that every generated file is new to the
 * database.
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import bcrypt from "bcryptjs";
import { stringify } from "csv-stringify/sync";
import { PHASE1_COLUMNS } from "../src/services/admin/import.ts";

const USAGE = "usage: npx node scripts/generate-phase1.ts --rows 20000 --out phase1.csv [--invalid-every N] [--prefix P]";

const ARGS = {
  options: {
    rows: { type: "string", default: "20000" },
    out: { type: "string" },
    "invalid-every": { type: "string", default: "0" },
    prefix: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
} as const;

const FIRST = ["Ana", "Li", "Omar", "Sofia", "Jean-Luc", "Aiko", "Mateo", "Priya", "Olu", "Ingrid", "Zoë", "Björn"];
const LAST = [
  "López",
  "Wei",
  "Haddad",
  "Rossi",
  "Dubois",
  "Tanaka",
  "García",
  "Sharma",
  "Adeyemi",
  "Ohlsson",
  "O'Neil",
  "Smith, Jr.",
];
const ZONES = ["Europe/Madrid", "Asia/Shanghai", "America/New_York", "Africa/Lagos", "Asia/Tokyo", "Europe/Berlin", "UTC"];
const LANGUAGES = ["English", "Spanish", "Mandarin Chinese", "French", "Arabic", "German", "Japanese", "Portuguese", "Hindi"];
const COUNTRIES = ["Spain", "China", "United States", "Nigeria", "Japan", "Germany", "Brazil", "India", "France"];
const EXPERTISE = ["relocation", "cross-cultural communication", "career transition", "family adjustment", "leadership abroad"];
const CURRENCIES = ["USD", "EUR", "GBP"];

function pick<T>(items: readonly T[], index: number): T {
  return items[index % items.length] as T;
}

function some<T>(items: readonly T[], index: number, count: number): T[] {
  return Array.from({ length: count }, (_, k) => pick(items, index + k * 3));
}

function main(): void {
  const { values } = parseArgs(ARGS);
  if (values.help || !values.out) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const rows = Number(values.rows);
  const invalidEvery = Number(values["invalid-every"]);
  if (!Number.isInteger(rows) || rows < 1) throw new Error("--rows must be a positive integer");
  if (!Number.isInteger(invalidEvery) || invalidEvery < 0) throw new Error("--invalid-every must be 0 or a positive integer");
  const prefix = values.prefix ?? crypto.randomUUID().slice(0, 8);

  // A few real hashes of the old system's kinds ($2b$ and PHP's $2y$), cost 10.
  const hashes = ["Legacy#Pass1", "Legacy#Pass2", "Legacy#Pass3"].map((password, index) => {
    const hash = bcrypt.hashSync(password, 10);
    return index === 2 ? hash.replace(/^\$2b\$/, "$2y$") : hash;
  });

  const records: string[][] = [];
  let invalid = 0;
  for (let i = 0; i < rows; i++) {
    const coach = i % 5 === 4;
    const created = new Date(Date.UTC(2019, 0, 1) + (i % 1500) * 86_400_000 + (i % 86_400) * 1000);
    const record: Record<(typeof PHASE1_COLUMNS)[number], string> = {
      email: `phase1-${prefix}-${i}@example.test`,
      role: coach ? "coach" : "client",
      first_name: pick(FIRST, i),
      last_name: pick(LAST, i * 7),
      password_hash: i % 10 === 9 ? "" : pick(hashes, i),
      phone: coach ? "" : `+34 6${String(i).padStart(8, "0")}`,
      timezone: coach ? "" : pick(ZONES, i),
      bio: coach ? `Coach #${i}: "helping expats settle",\nthen thrive.` : "",
      hourly_rate: coach ? (25 + (i % 476) + (i % 2 === 0 ? 0.5 : 0)).toFixed(2) : "",
      currency: coach ? pick(CURRENCIES, i) : "",
      languages: coach ? some(LANGUAGES, i, 1 + (i % 3)).join(";") : "",
      countries: coach ? some(COUNTRIES, i, 1 + (i % 2)).join(";") : "",
      expertise: coach ? some(EXPERTISE, i, 2).join(";") : "",
      created_at: i % 3 === 0 ? created.toISOString().slice(0, 10) : created.toISOString(),
    };
    if (invalidEvery > 0 && i % invalidEvery === invalidEvery - 1) {
      invalid++;
      const kind = invalid % 4;
      if (kind === 0) record.email = `not-an-email-${i}`;
      else if (kind === 1) record.timezone = "Atlantis/Capital";
      else if (kind === 2) record.role = "admin";
      else record.created_at = "2020-02-30";
    }
    records.push(PHASE1_COLUMNS.map((column) => record[column]));
  }
  const csv = stringify(records, { header: true, columns: [...PHASE1_COLUMNS] });
  fs.writeFileSync(values.out, csv);
  process.stderr.write(
    `generate-phase1: ${rows.toLocaleString("en-US")} rows (${invalid.toLocaleString("en-US")} invalid), ` +
      `${(csv.length / 1024 / 1024).toFixed(2)} MB -> ${values.out} (prefix ${prefix})\n`,
  );
}

main();
