/**
 * Phase-1 data migration: users and their profiles from the old system's CSV
 * export, by `POST /admin/import` and by `npm run import:phase1` (the same
 * code over node-postgres, see scripts/import-phase1.ts).
 *
 * Format (contract, Admin): a header row, then one row per user with the
 * columns email, role, first_name, last_name, password_hash, phone, timezone,
 * bio, hourly_rate, currency, languages, countries, expertise, created_at.
 * `email` and `role` are required; the others may be left out of the header.
 * Lists are `;`-separated. Columns of the other role's profile must be empty
 * (phone and timezone are client fields; bio, hourly_rate, currency,
 * languages, countries and expertise are coach fields).
 *
 * Outcome of each data row (blank lines are ignored):
 * - imported: a user and a profile row are created;
 * - skipped: the email already exists (an earlier run, a signup, or an
 *   earlier row of the same file) - re-running a file imports nothing twice;
 * - failed: the row is invalid; it is reported in `errors` with its line
 *   number (the physical line where the record starts, header = line 1) and
 *   the reason. Skipped rows are not errors and are not listed, so that
 *   `failed === errors.length` and a re-run's report stays readable.
 * A file that is not CSV at all (an unclosed quote: nothing after it can be
 * attributed to a row) or whose header is wrong is rejected as a whole (400).
 */

import { parse } from "csv-parse/sync";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { clientProfiles, coachProfiles, users } from "../../../drizzle/schema.ts";
import { badRequest } from "../../lib/errors.ts";
import {
  currencyField,
  emailField,
  freeTextList,
  hourlyRateField,
  languageList,
  nameField,
  phoneField,
  timeZoneField,
} from "../../lib/fields.ts";
import { bumpCoachesVersion } from "../coaches-version.ts";
import { type AnyDatabase, writeAudit } from "./audit.ts";

export const PHASE1_COLUMNS = [
  "email",
  "role",
  "first_name",
  "last_name",
  "password_hash",
  "phone",
  "timezone",
  "bio",
  "hourly_rate",
  "currency",
  "languages",
  "countries",
  "expertise",
  "created_at",
] as const;

export type Phase1Column = (typeof PHASE1_COLUMNS)[number];

const REQUIRED_COLUMNS: readonly Phase1Column[] = ["email", "role"];
const CLIENT_ONLY: readonly Phase1Column[] = ["phone", "timezone"];
const COACH_ONLY: readonly Phase1Column[] = ["bio", "hourly_rate", "currency", "languages", "countries", "expertise"];

/** Rows per multi-row INSERT: ~7-11 parameters a row stays far below Postgres' 65,535 per statement. */
export const IMPORT_BATCH_SIZE = 1000;

/** The longest bio the import accepts (the column is text; this keeps one row from being megabytes). */
const MAX_BIO_LENGTH = 5000;

/**
 * bcrypt hashes of the old system, kept as they are (bcryptjs verifies
 * `$2a$`, `$2b$` and `$2y$` alike): version, cost 04-31, 22 characters of
 * salt and 31 of hash in bcrypt's base64 alphabet.
 */
export const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;

export interface ImportError {
  line: number;
  reason: string;
}

export interface ImportReport {
  processed: number;
  imported: number;
  skipped: number;
  failed: number;
  errors: ImportError[];
}

export interface CsvRow {
  /** Physical line where the record starts (header = 1). */
  line: number;
  fields: string[];
}

export interface ParsedCsv {
  header: Phase1Column[];
  rows: CsvRow[];
}

const LINE_BREAK = /\r\n|\r|\n/g;
const LEADING_EMPTY_LINES = /^(?:\r\n|\r|\n)*/;

function countLineBreaks(text: string): number {
  return text.match(LINE_BREAK)?.length ?? 0;
}

interface ParsedRecord {
  record: string[];
  raw: string;
}

/**
 * Parses the file with csv-parse and gives each record the line it starts on.
 * csv-parse's own `info.lines` is where a record ends (and counts a CRLF
 * inside a quoted field twice), so the line is counted here from the raw
 * text of the records, which together are the whole input: the breaks before
 * a record, plus the empty lines folded into its raw text, plus one.
 */
export function parsePhase1Csv(text: string): ParsedCsv {
  let records: ParsedRecord[];
  try {
    records = parse(text, {
      bom: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as ParsedRecord[];
  } catch (error) {
    const lines = (error as { lines?: unknown }).lines;
    throw badRequest("The file is not valid CSV", {
      line: typeof lines === "number" ? lines : null,
      reason: error instanceof Error ? error.message : String(error),
    });
  }
  let breaksBefore = 0;
  const located: CsvRow[] = [];
  for (const { record, raw } of records) {
    const leadingBreaks = countLineBreaks(LEADING_EMPTY_LINES.exec(raw)?.[0] ?? "");
    located.push({ line: breaksBefore + leadingBreaks + 1, fields: record });
    breaksBefore += countLineBreaks(raw);
  }
  const [headerRow, ...rows] = located;
  if (!headerRow) throw badRequest("The file is empty: a header row is required", { required: REQUIRED_COLUMNS });
  return { header: parseHeader(headerRow.fields), rows: rows.filter((row) => row.fields.some((field) => field.trim() !== "")) };
}

function parseHeader(fields: string[]): Phase1Column[] {
  const names = fields.map((field) => field.trim().toLowerCase());
  const known = new Set<string>(PHASE1_COLUMNS);
  const unknown = names.filter((name) => !known.has(name));
  const duplicated = names.filter((name, index) => names.indexOf(name) !== index);
  const missing = REQUIRED_COLUMNS.filter((name) => !names.includes(name));
  if (unknown.length > 0 || duplicated.length > 0 || missing.length > 0) {
    throw badRequest("The header row does not match the Phase-1 format", {
      ...(missing.length > 0 ? { missing_columns: missing } : {}),
      ...(unknown.length > 0 ? { unknown_columns: unknown } : {}),
      ...(duplicated.length > 0 ? { duplicated_columns: [...new Set(duplicated)] } : {}),
      expected_columns: PHASE1_COLUMNS,
    });
  }
  return names as Phase1Column[];
}

// ---------------------------------------------------------------------------
// row validation: the API's own field validators
// ---------------------------------------------------------------------------

export interface ValidUser {
  email: string;
  role: "client" | "coach";
  passwordHash: string | null;
  firstName: string | null;
  lastName: string | null;
  createdAt: Date;
  client?: { phone: string | null; timezone: string | null };
  coach?: {
    bio: string | null;
    hourlyRate: string | null;
    currency: string;
    languages: string[];
    countries: string[];
    expertise: string[];
  };
}

export type RowVerdict = { ok: true; user: ValidUser } | { ok: false; reason: string };

const roleField = z.enum(["client", "coach"], { message: 'Must be "client" or "coach"' });
const bioField = z.string().trim().max(MAX_BIO_LENGTH);
const DECIMAL = /^\d+(\.\d+)?$/;

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * `created_at` as the old system wrote it: a date, or a date and time with an
 * optional offset (no offset = UTC). Impossible dates (2024-02-30) and dates
 * after `now` are refused.
 */
export function parseCreatedAt(value: string, now: Date): Date | string {
  const match = TIMESTAMP.exec(value);
  if (!match) return "Must be a date (YYYY-MM-DD) or an ISO-8601 timestamp";
  const [, year, month, day, hour, minute, second] = match;
  const probe = new Date(
    Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour ?? 0), Number(minute ?? 0), Number(second ?? 0)),
  );
  if (
    probe.getUTCFullYear() !== Number(year) ||
    probe.getUTCMonth() !== Number(month) - 1 ||
    probe.getUTCDate() !== Number(day) ||
    Number(hour ?? 0) > 23 ||
    Number(minute ?? 0) > 59 ||
    Number(second ?? 0) > 59
  ) {
    return "Is not a real date";
  }
  const hasZone = match[7] !== undefined;
  const iso = value.replace(" ", "T");
  const parsed = hasZone ? new Date(iso) : match[4] !== undefined ? new Date(`${iso}Z`) : probe;
  if (Number.isNaN(parsed.getTime())) return "Must be a date (YYYY-MM-DD) or an ISO-8601 timestamp";
  if (parsed.getTime() > now.getTime()) return "Lies in the future";
  return parsed;
}

function splitList(value: string): string[] {
  return value
    .split(";")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** Validates one data row (fields keyed by column) the way the API validates the same fields. */
export function validateRow(values: Partial<Record<Phase1Column, string>>, now: Date): RowVerdict {
  const problems: string[] = [];
  const text = (column: Phase1Column) => (values[column] ?? "").trim();
  const check = <T>(column: Phase1Column, schema: z.ZodType<T>, value: unknown): T | undefined => {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    problems.push(`${column}: ${[...new Set(result.error.issues.map((issue) => issue.message))].join(", ")}`);
    return undefined;
  };
  const optional = <T>(column: Phase1Column, schema: z.ZodType<T>): T | null => {
    const value = text(column);
    return value === "" ? null : (check(column, schema, value) ?? null);
  };

  const required = <T>(column: Phase1Column, schema: z.ZodType<T>, value: string): T | undefined => {
    if (value !== "") return check(column, schema, value);
    problems.push(`${column}: Required`);
    return undefined;
  };
  const email = required("email", emailField, text("email"));
  const role = required("role", roleField, text("role").toLowerCase());
  const firstName = optional("first_name", nameField);
  const lastName = optional("last_name", nameField);

  const hash = text("password_hash");
  if (hash !== "" && !BCRYPT_HASH.test(hash)) problems.push("password_hash: Must be a bcrypt hash ($2a$, $2b$ or $2y$) or empty");

  let createdAt = now;
  if (text("created_at") !== "") {
    const parsed = parseCreatedAt(text("created_at"), now);
    if (typeof parsed === "string") problems.push(`created_at: ${parsed}`);
    else createdAt = parsed;
  }

  // Columns of the other role's profile must stay empty (the contract), so
  // that no value of the old export is silently dropped.
  if (role) {
    const foreign = role === "client" ? COACH_ONLY : CLIENT_ONLY;
    for (const column of foreign) {
      if (text(column) !== "")
        problems.push(`${column}: Must be empty for a ${role} (only ${role === "client" ? "coaches" : "clients"} have it)`);
    }
  }

  let client: ValidUser["client"];
  let coach: ValidUser["coach"];
  if (role === "client") {
    client = { phone: optional("phone", phoneField), timezone: optional("timezone", timeZoneField) };
  } else if (role === "coach") {
    let hourlyRate: string | null = null;
    const rate = text("hourly_rate");
    if (rate !== "") {
      if (!DECIMAL.test(rate)) problems.push("hourly_rate: Must be a number such as 80 or 95.50");
      else {
        const parsedRate = check("hourly_rate", hourlyRateField, Number(rate));
        if (parsedRate !== undefined) hourlyRate = parsedRate.toFixed(2);
      }
    }
    coach = {
      bio: optional("bio", bioField),
      hourlyRate,
      currency: optional("currency", currencyField) ?? "USD",
      languages: check("languages", languageList, splitList(text("languages"))) ?? [],
      countries: check("countries", freeTextList, splitList(text("countries"))) ?? [],
      expertise: check("expertise", freeTextList, splitList(text("expertise"))) ?? [],
    };
  }

  if (problems.length > 0 || !email || !role) return { ok: false, reason: problems.join("; ") };
  return {
    ok: true,
    user: {
      email,
      role,
      passwordHash: hash === "" ? null : hash,
      firstName,
      lastName,
      createdAt,
      ...(client ? { client } : {}),
      ...(coach ? { coach } : {}),
    },
  };
}

// ---------------------------------------------------------------------------
// the import
// ---------------------------------------------------------------------------

export interface ImportOptions {
  /** The admin who imports (null for the CLI). */
  actorId: string | null;
  now: Date;
  /** "api" or "cli", and the file name when known: recorded in the audit entry. */
  source: { kind: "api" | "cli"; file?: string };
  batchSize?: number;
  /** Called after each batch with the data rows handled so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** One row of a batch as the INSERT statement reads it (json_to_recordset column names). */
interface BatchRecord {
  email: string;
  password_hash: string | null;
  role: "client" | "coach";
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  timezone: string | null;
  bio: string | null;
  hourly_rate: string | null;
  currency: string | null;
  languages: string[] | null;
  countries: string[] | null;
  expertise: string[] | null;
  created_at: string;
}

/**
 * One batch in one statement and one round trip: the rows travel as a single
 * JSON parameter (no 65,535-parameter ceiling, no per-value query building),
 * `INSERT INTO users ... ON CONFLICT (email) DO NOTHING RETURNING` creates
 * the accounts whose email is new, and the same statement creates the
 * profiles of exactly those accounts from the RETURNING rows. An email that
 * exists already (or is inserted concurrently) gets neither account nor
 * profile: it counts as skipped.
 */
async function insertBatch(tx: AnyDatabase, batch: ValidUser[], now: Date): Promise<{ imported: number; coaches: number }> {
  const records: BatchRecord[] = batch.map((user) => ({
    email: user.email,
    password_hash: user.passwordHash,
    role: user.role,
    first_name: user.firstName,
    last_name: user.lastName,
    phone: user.client?.phone ?? null,
    timezone: user.client?.timezone ?? null,
    bio: user.coach?.bio ?? null,
    hourly_rate: user.coach?.hourlyRate ?? null,
    currency: user.coach?.currency ?? null,
    languages: user.coach?.languages ?? null,
    countries: user.coach?.countries ?? null,
    expertise: user.coach?.expertise ?? null,
    created_at: user.createdAt.toISOString(),
  }));
  const result = await tx.execute(sql`
    WITH input AS (
      SELECT * FROM json_to_recordset(${JSON.stringify(records)}::json) AS r(
        email text, password_hash text, role text, first_name text, last_name text, phone text, timezone text,
        bio text, hourly_rate numeric, currency text, languages text[], countries text[], expertise text[],
        created_at timestamptz)
    ),
    inserted AS (
      INSERT INTO ${users} (email, password_hash, role, is_active, email_verified, created_at, updated_at)
      SELECT email, password_hash, role::user_role, true, false, created_at, ${now.toISOString()}::timestamptz FROM input
      ON CONFLICT (email) DO NOTHING
      RETURNING id, email, role
    ),
    clients AS (
      INSERT INTO ${clientProfiles} (user_id, first_name, last_name, phone, timezone, created_at, updated_at)
      SELECT inserted.id, input.first_name, input.last_name, input.phone, input.timezone, input.created_at, ${now.toISOString()}::timestamptz
        FROM inserted JOIN input USING (email)
       WHERE inserted.role = 'client'
      RETURNING 1
    ),
    coaches AS (
      INSERT INTO ${coachProfiles} (user_id, first_name, last_name, bio, hourly_rate, currency, languages, countries, expertise, created_at, updated_at)
      SELECT inserted.id, input.first_name, input.last_name, input.bio, input.hourly_rate, input.currency,
             input.languages, input.countries, input.expertise, input.created_at, ${now.toISOString()}::timestamptz
        FROM inserted JOIN input USING (email)
       WHERE inserted.role = 'coach'
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM inserted) AS imported, (SELECT count(*) FROM clients) AS clients, (SELECT count(*) FROM coaches) AS coaches
  `);
  // node-postgres and the Neon driver both answer a pg QueryResult; the
  // generic PgDatabase type cannot know which driver it is.
  const [row] = (
    result as unknown as { rows: { imported: string | number; clients: string | number; coaches: string | number }[] }
  ).rows;
  const imported = Number(row?.imported ?? 0);
  const profiles = Number(row?.clients ?? 0) + Number(row?.coaches ?? 0);
  // Every new account has its profile, or the transaction must not commit.
  if (profiles !== imported) throw new Error(`import: ${imported} accounts but ${profiles} profiles in one batch`);
  return { imported, coaches: Number(row?.coaches ?? 0) };
}

/**
 * Validates every row, then inserts the valid ones in batches (one statement
 * per batch, see insertBatch), all in one transaction together
 * with the audit entry and the coaches-version bump: the import is applied
 * completely or not at all if the database fails half way, and a re-run
 * finds every committed email and skips it.
 */
export async function importPhase1(db: AnyDatabase, csvText: string, options: ImportOptions): Promise<ImportReport> {
  const { header, rows } = parsePhase1Csv(csvText);
  const batchSize = options.batchSize ?? IMPORT_BATCH_SIZE;
  const errors: ImportError[] = [];
  let skipped = 0;
  const seen = new Set<string>();
  const valid: ValidUser[] = [];

  for (const row of rows) {
    if (row.fields.length !== header.length) {
      errors.push({ line: row.line, reason: `Expected ${header.length} fields (as in the header), found ${row.fields.length}` });
      continue;
    }
    const values: Partial<Record<Phase1Column, string>> = {};
    header.forEach((column, index) => {
      values[column] = row.fields[index] ?? "";
    });
    const verdict = validateRow(values, options.now);
    if (!verdict.ok) {
      errors.push({ line: row.line, reason: verdict.reason });
      continue;
    }
    // The first row of an email wins; a later one is a duplicate like an existing account.
    if (seen.has(verdict.user.email)) {
      skipped++;
      continue;
    }
    seen.add(verdict.user.email);
    valid.push(verdict.user);
  }

  const invalidOrDuplicate = rows.length - valid.length;
  options.onProgress?.(invalidOrDuplicate, rows.length);

  let imported = 0;
  let coachesImported = 0;
  await db.transaction(async (tx) => {
    for (let offset = 0; offset < valid.length; offset += batchSize) {
      const batch = valid.slice(offset, offset + batchSize);
      const { imported: batchImported, coaches } = await insertBatch(tx, batch, options.now);
      imported += batchImported;
      coachesImported += coaches;
      skipped += batch.length - batchImported;
      options.onProgress?.(invalidOrDuplicate + offset + batch.length, rows.length);
    }
    // New coaches appear in discovery and matching at once: cached matches are stale.
    if (coachesImported > 0) await bumpCoachesVersion(tx);
    await writeAudit(tx, {
      actorId: options.actorId,
      action: "import.phase1",
      targetType: "import",
      targetId: null,
      details: {
        source: options.source.kind,
        ...(options.source.file ? { file: options.source.file } : {}),
        processed: rows.length,
        imported,
        skipped,
        failed: errors.length,
        coaches_imported: coachesImported,
        clients_imported: imported - coachesImported,
      },
    });
  });

  return { processed: rows.length, imported, skipped, failed: errors.length, errors };
}
