import { describe, expect, it } from "vitest";
import { sessionPriceMinor, toMinorUnits } from "../../src/lib/currencies.ts";
import { checkAvailability, isAllowedTransition, localTime, refundDue } from "../../src/services/booking-rules.ts";

const at = (iso: string) => new Date(iso);

describe("localTime", () => {
  it("maps an instant to the zone's wall clock, DST included", () => {
    expect(localTime(at("2027-03-28T00:59:00Z"), "Europe/Madrid")).toMatchObject({
      date: "2027-03-28",
      weekday: "sunday",
      minutes: 1 * 60 + 59,
    });
    expect(localTime(at("2027-03-28T01:00:00Z"), "Europe/Madrid")).toMatchObject({ minutes: 3 * 60 });
    expect(localTime(at("2027-01-10T23:30:00Z"), "Asia/Kolkata")).toMatchObject({
      date: "2027-01-11",
      weekday: "monday",
      minutes: 5 * 60,
    });
    expect(localTime(at("2027-01-10T00:00:30Z"), "UTC").minutes).toBeCloseTo(0.5);
  });
});

describe("checkAvailability", () => {
  const weekdayWindows = { timezone: "UTC", monday: ["09:00-12:00", "14:00-17:00"] };

  it("accepts a session inside one window, touching its end", () => {
    // 2027-01-11 is a Monday.
    expect(checkAvailability(weekdayWindows, at("2027-01-11T09:00:00Z"), 60).ok).toBe(true);
    expect(checkAvailability(weekdayWindows, at("2027-01-11T11:00:00Z"), 60).ok).toBe(true);
    expect(checkAvailability(weekdayWindows, at("2027-01-11T15:30:00Z"), 90).ok).toBe(true);
  });

  it("refuses sessions starting before, ending after, or spanning two windows", () => {
    expect(checkAvailability(weekdayWindows, at("2027-01-11T08:30:00Z"), 60).ok).toBe(false);
    expect(checkAvailability(weekdayWindows, at("2027-01-11T11:30:00Z"), 60).ok).toBe(false);
    // 11:30-14:30 spans the gap between the two windows.
    expect(
      checkAvailability({ timezone: "UTC", monday: ["09:00-12:00", "12:00-17:00"] }, at("2027-01-11T11:30:00Z"), 60).ok,
    ).toBe(false);
    expect(checkAvailability(weekdayWindows, at("2027-01-12T09:00:00Z"), 30).ok).toBe(false);
  });

  it("explains why, with the local times", () => {
    const verdict = checkAvailability(weekdayWindows, at("2027-01-11T11:30:00Z"), 60);
    expect(verdict).toMatchObject({
      ok: false,
      timezone: "UTC",
      local_start: "2027-01-11 11:30 (monday)",
      local_end: "2027-01-11 12:30 (monday)",
    });
    expect(checkAvailability({}, at("2027-01-11T11:30:00Z"), 60)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("not published"),
    });
  });

  it("a window ending at 24:00 takes a session ending at local midnight", () => {
    expect(checkAvailability({ timezone: "UTC", monday: ["22:00-24:00"] }, at("2027-01-11T23:00:00Z"), 60).ok).toBe(true);
    expect(checkAvailability({ timezone: "UTC", monday: ["22:00-23:30"] }, at("2027-01-11T23:00:00Z"), 60).ok).toBe(false);
  });

  it("uses the coach's zone, also with half-hour offsets", () => {
    // Monday 09:00 in Kolkata (UTC+5:30) is 03:30Z.
    const kolkata = { timezone: "Asia/Kolkata", monday: ["09:00-10:00"] };
    expect(checkAvailability(kolkata, at("2027-01-11T03:30:00Z"), 60).ok).toBe(true);
    expect(checkAvailability(kolkata, at("2027-01-11T09:00:00Z"), 60).ok).toBe(false);
  });

  it("Europe/Madrid spring forward (2027-03-28): the skipped hour is not bookable time", () => {
    const night = { timezone: "Europe/Madrid", sunday: ["01:00-04:00"] };
    // 01:30 CET + 90 min = 04:00 CEST: on the wall clock 150 minutes, inside 01:00-04:00.
    expect(checkAvailability(night, at("2027-03-28T00:30:00Z"), 90).ok).toBe(true);
    // 03:30 CEST + 60 = 04:30.
    expect(checkAvailability(night, at("2027-03-28T01:30:00Z"), 60).ok).toBe(false);
    const morning = { timezone: "Europe/Madrid", sunday: ["09:00-10:00"] };
    expect(checkAvailability(morning, at("2027-03-28T07:00:00Z"), 60).ok).toBe(true);
    expect(checkAvailability(morning, at("2027-03-21T08:00:00Z"), 60).ok).toBe(true);
    expect(checkAvailability(morning, at("2027-03-28T08:00:00Z"), 60).ok).toBe(false);
  });

  it("Europe/Madrid fall back (2027-10-31): every instant of a session in the repeated hour must be inside the window", () => {
    const repeated = { timezone: "Europe/Madrid", sunday: ["02:00-02:30"] };
    // 00:15Z = 02:15 CEST; an hour later is 02:15 CET, but the session passes 02:30-03:00 CEST on the way.
    expect(checkAvailability(repeated, at("2027-10-31T00:15:00Z"), 60).ok).toBe(false);
    // 01:00Z = 02:00 CET (second pass), 30 minutes: inside.
    expect(checkAvailability(repeated, at("2027-10-31T01:00:00Z"), 30).ok).toBe(true);
    const morning = { timezone: "Europe/Madrid", sunday: ["09:00-10:00"] };
    expect(checkAvailability(morning, at("2027-10-31T08:00:00Z"), 60).ok).toBe(true);
    expect(checkAvailability(morning, at("2027-10-31T07:00:00Z"), 60).ok).toBe(false);
  });

  it("America/New_York spring forward (2027-03-14) at 02:00 local", () => {
    const ny = { timezone: "America/New_York", sunday: ["01:00-04:00"] };
    // 06:30Z = 01:30 EST; +60 min = 03:30 EDT.
    expect(checkAvailability(ny, at("2027-03-14T06:30:00Z"), 60).ok).toBe(true);
    expect(checkAvailability(ny, at("2027-03-14T07:30:00Z"), 60).ok).toBe(false); // 03:30 EDT + 60 = 04:30
  });

  it("defaults to UTC when the availability has no zone", () => {
    expect(checkAvailability({ monday: ["09:00-10:00"] }, at("2027-01-11T09:00:00Z"), 60).ok).toBe(true);
  });
});

describe("refundDue (cancellation policy)", () => {
  const start = at("2027-01-11T09:00:00Z");
  it("coach and admin: always a full refund", () => {
    expect(refundDue("coach", start, at("2027-01-11T08:59:00Z"))).toBe(true);
    expect(refundDue("admin", start, at("2027-01-11T08:59:00Z"))).toBe(true);
  });
  it("client: full refund at >= 24 h, none later", () => {
    expect(refundDue("client", start, at("2027-01-10T09:00:00Z"))).toBe(true);
    expect(refundDue("client", start, at("2027-01-10T09:00:01Z"))).toBe(false);
    expect(refundDue("client", start, at("2027-01-09T09:00:00Z"))).toBe(true);
  });
});

describe("transitions", () => {
  it("follows the contract's table", () => {
    expect(isAllowedTransition("pending", "confirmed")).toBe(true);
    expect(isAllowedTransition("pending", "cancelled")).toBe(true);
    expect(isAllowedTransition("pending", "completed")).toBe(false);
    expect(isAllowedTransition("confirmed", "completed")).toBe(true);
    expect(isAllowedTransition("confirmed", "cancelled")).toBe(true);
    expect(isAllowedTransition("confirmed", "pending")).toBe(false);
    expect(isAllowedTransition("completed", "cancelled")).toBe(false);
    expect(isAllowedTransition("cancelled", "confirmed")).toBe(false);
  });
});

describe("session price", () => {
  it("is rate x minutes / 60 in minor units, rounded", () => {
    expect(sessionPriceMinor("100.00", 60, "USD")).toBe(10000);
    expect(sessionPriceMinor("120.00", 90, "EUR")).toBe(18000);
    expect(sessionPriceMinor("99.99", 90, "USD")).toBe(14999);
    expect(sessionPriceMinor("25.00", 30, "GBP")).toBe(1250);
    // Zero-decimal currencies have no minor unit.
    expect(sessionPriceMinor("500", 30, "JPY")).toBe(250);
    expect(toMinorUnits(0.1 + 0.2, "USD")).toBe(30);
  });
});
