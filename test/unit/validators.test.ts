/**
 * The shared validators (src/lib/fields.ts, quiz.ts, availability.ts): every
 * rule of the contract's Profiles validation, accepted and refused.
 */
import { describe, expect, it } from "vitest";
import { availabilitySchema, availabilityWindows, parseWindow } from "../../src/lib/availability.ts";
import {
  currencyField,
  emailField,
  freeTextList,
  hourlyRateField,
  httpUrlField,
  isIanaTimeZone,
  languageList,
  nameField,
  phoneField,
  timeZoneField,
} from "../../src/lib/fields.ts";
import { canonicalLanguage, LANGUAGES } from "../../src/lib/languages.ts";
import { parseStoredQuiz, quizHash, quizSchema } from "../../src/lib/quiz.ts";

const valid = (schema: { safeParse(value: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

function completeQuiz(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    target_countries: ["Spain"],
    cultural_goals: ["integrate into local culture"],
    preferred_languages: ["English"],
    industry: "technology",
    family_status: "married_with_children",
    previous_expat_experience: true,
    timeline_urgency: 1,
    budget_range: { min: 0, max: 150 },
    coaching_style: "structured",
    specific_challenges: ["schooling"],
    home_country: "India",
    current_country: "Germany",
    relocation_stage: "planning",
    career_level: "executive",
    communication_style: "indirect",
    preferred_session_duration: 90,
    session_frequency: "biweekly",
    preferred_times: ["morning", "weekend"],
    timezone: "Asia/Kolkata",
    languages_learning: [],
    ...overrides,
  };
}

describe("fields", () => {
  it("time zones: real IANA zones only", () => {
    for (const zone of [
      "Europe/Madrid",
      "UTC",
      "America/Argentina/Buenos_Aires",
      "America/Port-au-Prince",
      "Etc/GMT+5",
      "Asia/Kolkata",
    ]) {
      expect(isIanaTimeZone(zone), zone).toBe(true);
    }
    for (const zone of [
      "Mars/Olympus",
      "",
      "Europe/Atlantis",
      "../etc/passwd",
      "Europe/Madrid; DROP",
      "+02:00",
      "Europe/Madrid/Extra/Deep",
    ]) {
      expect(isIanaTimeZone(zone), zone).toBe(false);
    }
    expect(timeZoneField.parse("  Europe/Paris ")).toBe("Europe/Paris");
    expect(valid(timeZoneField, "x".repeat(65))).toBe(false);
  });

  it("names: trimmed, 1-100 characters", () => {
    expect(nameField.parse("  Ana ")).toBe("Ana");
    expect(valid(nameField, "x".repeat(100))).toBe(true);
    expect(valid(nameField, "x".repeat(101))).toBe(false);
    expect(valid(nameField, "   ")).toBe(false);
  });

  it("phones: E.164-ish, 7-15 digits, <= 20 characters", () => {
    for (const phone of ["+34600123456", "+34 600 123 456", "(555) 123-4567", "030.1234567", "1234567"])
      expect(valid(phoneField, phone), phone).toBe(true);
    for (const phone of [
      "123456",
      "call me",
      "+34 600 ABC 456",
      "+1 234 567 890 123 456 7",
      "+1234567890123456",
      "34+600123456",
      "",
    ]) {
      expect(valid(phoneField, phone), phone).toBe(false);
    }
  });

  it("video URLs: http(s) only", () => {
    for (const url of ["https://video.example/intro", "http://example.com/v?id=1"])
      expect(valid(httpUrlField, url), url).toBe(true);
    for (const url of [
      "javascript:alert(1)",
      "ftp://example.com/v",
      "//example.com/v",
      "not a url",
      "data:text/html,hi",
      `https://example.com/${"x".repeat(500)}`,
    ]) {
      expect(valid(httpUrlField, url), url).toBe(false);
    }
  });

  it("URLs with control characters are refused, not cleaned (CR/LF would reach emails)", () => {
    for (const url of [
      "https://meet.example/room\r\nBcc: victim@example.com",
      "https://meet.example/room\n",
      "\r\nhttps://meet.example/room",
      "https://meet.example/ro\tom",
      "https://meet.example/room\u0000",
      "https://meet.example/room\u007f",
    ]) {
      expect(valid(httpUrlField, url), JSON.stringify(url)).toBe(false);
    }
    expect(valid(httpUrlField, "  https://meet.example/room  "), "surrounding spaces are trimmed").toBe(true);
  });

  it("hourly rate: 25.00-500.00 with at most two decimals", () => {
    for (const rate of [25, 25.0, 99.99, 100.3, 500]) expect(valid(hourlyRateField, rate), String(rate)).toBe(true);
    for (const rate of [24.99, 500.01, 0, -50, 99.999, Number.NaN, Number.POSITIVE_INFINITY, "100"]) {
      expect(valid(hourlyRateField, rate), String(rate)).toBe(false);
    }
  });

  it("currency: three letters, upper-cased", () => {
    expect(currencyField.parse("eur")).toBe("EUR");
    for (const code of ["EURO", "US", "U5D", ""]) expect(valid(currencyField, code), code).toBe(false);
  });

  it("free-text lists: trimmed entries of 1-100 characters, at most 20", () => {
    expect(freeTextList.parse([" Spain ", "Mexico"])).toEqual(["Spain", "Mexico"]);
    expect(
      valid(
        freeTextList,
        Array.from({ length: 20 }, (_, i) => `c${i}`),
      ),
    ).toBe(true);
    expect(
      valid(
        freeTextList,
        Array.from({ length: 21 }, (_, i) => `c${i}`),
      ),
    ).toBe(false);
    expect(valid(freeTextList, [""])).toBe(false);
    expect(valid(freeTextList, ["x".repeat(101)])).toBe(false);
    expect(valid(freeTextList, "Spain")).toBe(false);
  });

  it("languages: a fixed list of 50+ English names, case-insensitive, stored canonical, de-duplicated", () => {
    expect(LANGUAGES.length).toBeGreaterThanOrEqual(50);
    expect(LANGUAGES).toContain("Spanish");
    expect(LANGUAGES).toContain("Mandarin Chinese");
    expect(canonicalLanguage("  mandarin   CHINESE ")).toBe("Mandarin Chinese");
    expect(languageList.parse(["spanish", "ENGLISH", "Spanish"])).toEqual(["Spanish", "English"]);
    expect(valid(languageList, ["English", "Klingon"])).toBe(false);
    expect(valid(languageList, [])).toBe(true);
  });

  it("emails: trimmed and lower-cased", () => {
    expect(emailField.parse("  Ana@Example.COM ")).toBe("ana@example.com");
    for (const email of ["not-an-email", "a@", "@b.com", `${"x".repeat(250)}@b.com`])
      expect(valid(emailField, email), email).toBe(false);
  });
});

describe("quiz: the 20 factors", () => {
  it("accepts a complete quiz and normalises it", () => {
    const parsed = quizSchema.parse(
      completeQuiz({ preferred_languages: ["spanish", "Spanish", "english"], preferred_times: ["evening", "evening"] }),
    );
    expect(parsed.preferred_languages).toEqual(["Spanish", "English"]);
    expect(parsed.preferred_times).toEqual(["evening"]);
    expect(Object.keys(parsed)).toHaveLength(20);
  });

  it.each(Object.keys(completeQuiz()))("refuses a quiz without %s, naming it", (factor) => {
    const quiz = completeQuiz();
    delete quiz[factor];
    const result = quizSchema.safeParse(quiz);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path[0])).toContain(factor);
  });

  it.each([
    ["target_countries", []],
    ["cultural_goals", "integration"],
    ["preferred_languages", []],
    ["preferred_languages", ["Dothraki"]],
    ["industry", ""],
    ["family_status", "divorced"],
    ["previous_expat_experience", "yes"],
    ["timeline_urgency", 0],
    ["timeline_urgency", 6],
    ["timeline_urgency", 2.5],
    ["budget_range", { min: 200, max: 100 }],
    ["budget_range", { min: -1, max: 100 }],
    ["budget_range", { min: 10, max: 100, currency: "USD" }],
    ["coaching_style", "laissez-faire"],
    ["specific_challenges", []],
    ["home_country", ""],
    ["current_country", 42],
    ["relocation_stage", "moving"],
    ["career_level", "intern"],
    ["communication_style", "loud"],
    ["preferred_session_duration", 45],
    ["preferred_session_duration", "60"],
    ["session_frequency", "daily"],
    ["preferred_times", []],
    ["preferred_times", ["night"]],
    ["timezone", "Mars/Olympus"],
    ["languages_learning", ["Elvish"]],
  ])("refuses %s = %j", (factor, value) => {
    const result = quizSchema.safeParse(completeQuiz({ [factor]: value }));
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path[0])).toContain(factor);
  });

  it("refuses unknown keys (a quiz is exactly the 20 factors)", () => {
    expect(valid(quizSchema, completeQuiz({ favourite_colour: "blue" }))).toBe(false);
  });

  it("parseStoredQuiz tells complete from incomplete stored data", () => {
    expect(parseStoredQuiz({})).toBeUndefined();
    expect(parseStoredQuiz(null)).toBeUndefined();
    expect(parseStoredQuiz({ target_countries: ["Spain"] })).toBeUndefined();
    expect(parseStoredQuiz(completeQuiz())).toMatchObject({ home_country: "India" });
  });

  it("quizHash ignores key order and changes with any value", async () => {
    const quiz = completeQuiz();
    const reversed = Object.fromEntries(Object.entries(quiz).reverse());
    expect(await quizHash(reversed)).toBe(await quizHash(quiz));
    expect(await quizHash(completeQuiz({ timeline_urgency: 2 }))).not.toBe(await quizHash(quiz));
    expect(await quizHash(quiz)).toMatch(/^[0-9a-f]{24}$/);
  });
});

describe("availability", () => {
  it("accepts the contract's example, adjacent windows and a window ending at 24:00", () => {
    const example = { timezone: "Europe/Madrid", monday: ["09:00-12:00", "14:00-17:00"], tuesday: ["09:00-12:00"] };
    expect(availabilitySchema.parse(example)).toEqual(example);
    expect(valid(availabilitySchema, { sunday: ["09:00-10:00", "10:00-10:30", "23:00-24:00"] })).toBe(true);
    expect(valid(availabilitySchema, {})).toBe(true);
  });

  it.each([
    [{ monday: ["09:15-10:00"] }, "not on a 30-minute boundary"],
    [{ monday: ["09:00-10:45"] }, "end not on a 30-minute boundary"],
    [{ monday: ["10:00-09:00"] }, "start after end"],
    [{ monday: ["10:00-10:00"] }, "empty window"],
    [{ monday: ["09:00-11:00", "10:30-12:00"] }, "overlap"],
    [{ monday: ["09:00-12:00", "08:00-09:30"] }, "overlap out of order"],
    [{ monday: ["9:00-10:00"] }, "single-digit hour"],
    [{ monday: ["09:00-24:30"] }, "past midnight"],
    [{ monday: ["24:00-24:00"] }, "start at 24:00"],
    [{ monday: "09:00-10:00" }, "not a list"],
    [{ monday: [900] }, "not a string"],
    [{ funday: ["09:00-10:00"] }, "unknown weekday"],
    [{ timezone: "Nowhere/Town" }, "unknown zone"],
  ])("refuses %j (%s)", (availability: unknown, _reason: string) => {
    expect(valid(availabilitySchema, availability)).toBe(false);
  });

  it("parseWindow reads minutes after midnight", () => {
    expect(parseWindow("09:30-12:00")).toEqual({ start: 570, end: 720 });
    expect(parseWindow("23:30-24:00")).toEqual({ start: 1410, end: 1440 });
    expect(parseWindow("25:00-26:00")).toBeUndefined();
    expect(parseWindow("garbage")).toBeUndefined();
  });

  it("availabilityWindows: sorted minute windows per weekday, UTC by default, invalid entries skipped", () => {
    const { timezone, days } = availabilityWindows({ monday: ["14:00-15:00", "09:00-10:00", "junk"], friday: "09:00-10:00" });
    expect(timezone).toBe("UTC");
    expect(days.monday).toEqual([
      { start: 540, end: 600 },
      { start: 840, end: 900 },
    ]);
    expect(days.friday).toEqual([]);
    expect(days.sunday).toEqual([]);
    expect(availabilityWindows({ timezone: "Asia/Tokyo" }).timezone).toBe("Asia/Tokyo");
    expect(availabilityWindows(null).timezone).toBe("UTC");
  });
});
