/** Phase-1 import: CSV parsing with line numbers, header rules, row validation (no database). */
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/lib/errors.ts";
import { BCRYPT_HASH, type Phase1Column, parseCreatedAt, parsePhase1Csv, validateRow } from "../../src/services/admin/import.ts";

const NOW = new Date("2026-06-01T12:00:00Z");
const HASH = "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5rHdqDlDzqZ6wL2DsjvWJ2Mw4kqJ3Ja";

function lines(text: string) {
  return parsePhase1Csv(text).rows.map((row) => [row.line, row.fields[0]]);
}

function expectBadRequest(fn: () => unknown): Record<string, unknown> {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("VALIDATION_ERROR");
    return (error as AppError).details;
  }
  throw new Error("expected a 400");
}

describe("parsePhase1Csv: line numbers (header = line 1, a record's first line)", () => {
  it("counts plain LF rows", () => {
    expect(lines("email,role\na@x.test,client\nb@x.test,coach\n")).toEqual([
      [2, "a@x.test"],
      [3, "b@x.test"],
    ]);
  });

  it("counts CRLF rows, blank lines and a last row without a line break", () => {
    expect(lines("email,role\r\na@x.test,client\r\n\r\n\r\nb@x.test,coach")).toEqual([
      [2, "a@x.test"],
      [5, "b@x.test"],
    ]);
  });

  it("gives a multi-line quoted record its first line and counts the lines inside it", () => {
    const text = 'email,role,bio\na@x.test,coach,"line one\nline two\r\nline three"\n\nb@x.test,coach,x\n';
    expect(lines(text)).toEqual([
      [2, "a@x.test"],
      [6, "b@x.test"],
    ]);
    const crlf = 'email,role,bio\r\n"a@x.test",coach,"one\r\ntwo"\r\n\r\nb@x.test,coach,x\r\n';
    expect(lines(crlf)).toEqual([
      [2, "a@x.test"],
      [5, "b@x.test"],
    ]);
  });

  it("ignores a byte order mark, whitespace-only rows and trailing empty rows", () => {
    const parsed = parsePhase1Csv("\uFEFFEmail , ROLE\na@x.test,client\n,\n   \nb@x.test,client\n\n\n");
    expect(parsed.header).toEqual(["email", "role"]);
    expect(parsed.rows.map((row) => row.line)).toEqual([2, 5]);
  });
});

describe("parsePhase1Csv: the file as a whole", () => {
  it("requires a header with email and role, refuses unknown and duplicated columns", () => {
    expect(expectBadRequest(() => parsePhase1Csv("email,first_name\na@x.test,A\n"))).toMatchObject({ missing_columns: ["role"] });
    expect(expectBadRequest(() => parsePhase1Csv("email,role,nickname\n"))).toMatchObject({ unknown_columns: ["nickname"] });
    expect(expectBadRequest(() => parsePhase1Csv("email,role,email\n"))).toMatchObject({ duplicated_columns: ["email"] });
    expectBadRequest(() => parsePhase1Csv(""));
  });

  it("accepts the full header of the contract in any order", () => {
    const header =
      "created_at,expertise,countries,languages,currency,hourly_rate,bio,timezone,phone,password_hash,last_name,first_name,role,email";
    expect(parsePhase1Csv(`${header}\n`).header).toHaveLength(14);
  });

  it("rejects a file with an unclosed quote (no row after it can be trusted), naming the line", () => {
    const details = expectBadRequest(() => parsePhase1Csv('email,role\na@x.test,client\n"b@x.test,client\nc@x.test,client\n'));
    expect(details.line).toBeTypeOf("number");
    expect(String(details.reason)).toMatch(/quote/i);
  });
});

describe("validateRow", () => {
  const client = (values: Partial<Record<Phase1Column, string>>) =>
    validateRow({ email: "Ana@Example.test", role: "client", ...values }, NOW);
  const coach = (values: Partial<Record<Phase1Column, string>>) =>
    validateRow({ email: "coach@example.test", role: "coach", ...values }, NOW);

  it("accepts a full client row and normalises it like the API", () => {
    const verdict = client({
      first_name: " Ana ",
      last_name: "López",
      password_hash: HASH,
      phone: "+34 600 000 000",
      timezone: "Europe/Madrid",
      created_at: "2024-03-01",
    });
    expect(verdict).toEqual({
      ok: true,
      user: {
        email: "ana@example.test",
        role: "client",
        passwordHash: HASH,
        firstName: "Ana",
        lastName: "López",
        createdAt: new Date("2024-03-01T00:00:00Z"),
        client: { phone: "+34 600 000 000", timezone: "Europe/Madrid" },
      },
    });
  });

  it("accepts a full coach row: canonical languages, ;-lists, rate with cents, currency upper-cased", () => {
    const verdict = coach({
      first_name: "Li",
      bio: "Twenty years abroad",
      hourly_rate: "95.50",
      currency: "eur",
      languages: "spanish; MANDARIN CHINESE;English",
      countries: "Spain;China",
      expertise: "relocation; family",
    });
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.user.coach).toEqual({
      bio: "Twenty years abroad",
      hourlyRate: "95.50",
      currency: "EUR",
      languages: ["Spanish", "Mandarin Chinese", "English"],
      countries: ["Spain", "China"],
      expertise: ["relocation", "family"],
    });
    expect(verdict.user.passwordHash).toBeNull();
    expect(verdict.user.createdAt).toEqual(NOW);
  });

  it("defaults an empty coach currency to USD and an empty rate to none", () => {
    const verdict = coach({});
    expect(verdict.ok && verdict.user.coach).toMatchObject({ currency: "USD", hourlyRate: null, languages: [] });
  });

  it.each([
    [{ email: "" }, /email: Required/],
    [{ email: "not-an-email" }, /email:/],
    [{ role: "admin" }, /role: Must be "client" or "coach"/],
    [{ role: "" }, /role: Required/],
    [{ first_name: "x".repeat(101) }, /first_name:/],
    [{ phone: "call me" }, /phone:/],
    [{ timezone: "Mars/Olympus" }, /timezone: Must be an IANA time zone/],
    [{ password_hash: "plaintext-password" }, /password_hash: Must be a bcrypt hash/],
    [{ password_hash: "$2x$12$C6UzMDM.H6dfI/f/IKcEeO5rHdqDlDzqZ6wL2DsjvWJ2Mw4kqJ3Ja" }, /password_hash/],
    [{ created_at: "2024-02-30" }, /created_at: Is not a real date/],
    [{ created_at: "yesterday" }, /created_at:/],
    [{ created_at: "2099-01-01" }, /created_at: Lies in the future/],
    [{ hourly_rate: "100" }, /hourly_rate: Must be empty for a client/],
    [{ bio: "hi", languages: "English" }, /bio: Must be empty for a client.*languages: Must be empty for a client/],
  ])("refuses a client row with %j", (values, reason) => {
    const verdict = client(values as Partial<Record<Phase1Column, string>>);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(reason);
  });

  it.each([
    [{ hourly_rate: "24.99" }, /hourly_rate: Must be at least 25.00/],
    [{ hourly_rate: "500.01" }, /hourly_rate: Must be at most 500.00/],
    [{ hourly_rate: "cheap" }, /hourly_rate: Must be a number/],
    [{ hourly_rate: "99.999" }, /hourly_rate: At most two decimals/],
    [{ currency: "EURO" }, /currency:/],
    [{ languages: "English;Klingon" }, /languages: Unknown language "Klingon"/],
    [{ countries: Array.from({ length: 21 }, (_, i) => `C${i}`).join(";") }, /countries:/],
    [{ expertise: "x".repeat(101) }, /expertise:/],
    [{ phone: "+34600000000" }, /phone: Must be empty for a coach/],
    [{ timezone: "UTC" }, /timezone: Must be empty for a coach/],
  ])("refuses a coach row with %j", (values, reason) => {
    const verdict = coach(values as Partial<Record<Phase1Column, string>>);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(reason);
  });

  it("lists every problem of a row in its reason", () => {
    const verdict = validateRow({ email: "bad", role: "client", timezone: "Nowhere", bio: "x" }, NOW);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason.split("; ").map((part) => part.split(":")[0])).toEqual(["email", "bio", "timezone"]);
  });
});

describe("parseCreatedAt and the bcrypt pattern", () => {
  it.each([
    ["2024-03-01", "2024-03-01T00:00:00.000Z"],
    ["2024-03-01T10:20:30Z", "2024-03-01T10:20:30.000Z"],
    ["2024-03-01 10:20:30", "2024-03-01T10:20:30.000Z"],
    ["2024-03-01T10:20:30.123456", "2024-03-01T10:20:30.123Z"],
    ["2024-03-01T10:20:30+02:00", "2024-03-01T08:20:30.000Z"],
    ["2024-03-01T10:20", "2024-03-01T10:20:00.000Z"],
  ])("reads %s", (input, iso) => {
    expect((parseCreatedAt(input, NOW) as Date).toISOString()).toBe(iso);
  });

  it.each(["2024-3-1", "2024-02-29T25:00:00", "2023-02-29", "01/03/2024", "2024-03-01T10:20:30 UTC"])("refuses %s", (input) => {
    expect(typeof parseCreatedAt(input, NOW)).toBe("string");
  });

  it("knows the three bcrypt prefixes and refuses others", () => {
    for (const prefix of ["$2a$", "$2b$", "$2y$"]) expect(BCRYPT_HASH.test(HASH.replace("$2b$", prefix))).toBe(true);
    for (const bad of [HASH.replace("$2b$", "$2$"), HASH.slice(0, -1), HASH.replace("$12$", "$03$"), `${HASH}x`])
      expect(BCRYPT_HASH.test(bad)).toBe(false);
  });
});
