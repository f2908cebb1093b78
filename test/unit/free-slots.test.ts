/**
 * Free slots, pure: the generator against an independent brute-force oracle
 * (Intl minute by minute over a UTC grid), property-based over DST zones
 * (Europe/Madrid, America/New_York), a half-hour zone (Asia/Kolkata) and the
 * date line (Pacific/Auckland), with ranges forced around DST changes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkAvailability, intlClock, segmentedClock } from "../../src/services/booking-rules.ts";
import { computeFreeSlots, resolveRange, wallClockInstant } from "../../src/services/free-slots.ts";

const ZONES = ["Europe/Madrid", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"] as const;
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
const MINUTE = 60_000;

/** Range starts: ordinary days and the days of DST changes in 2027 (Madrid, New York, Auckland). */
const RANGE_STARTS = [
  "2027-03-13", // New York springs forward on the 14th
  "2027-03-27", // Madrid springs forward on the 28th
  "2027-04-03", // Auckland falls back on the 4th
  "2027-09-25", // Auckland springs forward on the 26th
  "2027-10-30", // Madrid falls back on the 31st
  "2027-11-06", // New York falls back on the 7th
  "2027-06-14",
  "2027-12-30", // year change
];

interface Local {
  date: string;
  weekday: string;
  minutes: number;
}

function oracleLocal(instant: number, timeZone: string): Local {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      weekday: "long",
    })
      .formatToParts(new Date(instant))
      .map((part) => [part.type, part.value]),
  );
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: String(parts.weekday).toLowerCase(),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

type Windows = Partial<Record<(typeof DAYS)[number], string[]>>;
const parse = (text: string) => {
  const [a, b] = text.split("-") as [string, string];
  const m = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  return { start: m(a), end: m(b) };
};

/** Is [t, t + duration) inside one window of the local day of t, minute by minute? */
function oracleFits(windows: Windows, timeZone: string, t: number, duration: number): boolean {
  const first = oracleLocal(t, timeZone);
  const window = (windows[first.weekday as (typeof DAYS)[number]] ?? [])
    .map(parse)
    .find((w) => first.minutes >= w.start && first.minutes < w.end);
  if (!window) return false;
  for (let minute = 1; minute < duration; minute++) {
    const local = oracleLocal(t + minute * MINUTE, timeZone);
    if (local.date !== first.date || local.minutes < window.start || local.minutes >= window.end) return false;
  }
  // The session occupies [t, t + duration): its last instant must still be in the window on that
  // day (booking-rules.ts judges by the time a session occupies). Judging the end instant's wall
  // clock instead would refuse a session that ends exactly when clocks spring forward (Auckland,
  // 2027-09-26 01:30-02:00 standard time, whose end reads 03:00): fast-check found that case.
  const last = oracleLocal(t + duration * MINUTE - 1, timeZone);
  return last.date === first.date && last.minutes >= window.start && last.minutes < window.end;
}

const offsetAt = (t: number, timeZone: string) => {
  const local = oracleLocal(t, timeZone);
  return Math.round((Date.parse(`${local.date}T00:00:00Z`) + local.minutes * MINUTE - t) / MINUTE);
};

const windowArb = fc
  .tuple(fc.integer({ min: 0, max: 46 }), fc.integer({ min: 1, max: 12 }))
  .map(([start, length]) => [start * 30, Math.min(48, start + length) * 30] as const);
const dayArb = fc.array(windowArb, { maxLength: 2 }).map((windows) => {
  // Non-overlapping: keep windows that do not overlap an earlier one.
  const kept: Array<readonly [number, number]> = [];
  for (const w of [...windows].sort((a, b) => a[0] - b[0])) if (!kept.some((k) => w[0] < k[1] && k[0] < w[1])) kept.push(w);
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  return kept.map(([a, b]) => `${hhmm(a)}-${hhmm(b)}`);
});
const windowsArb = fc.record(
  Object.fromEntries(DAYS.map((day) => [day, dayArb])) as Record<(typeof DAYS)[number], typeof dayArb>,
);

describe("wallClockInstant", () => {
  it("names no instant for a wall-clock time a DST jump skips, the earlier one for a repeated time", () => {
    expect(wallClockInstant("2027-03-28", 2 * 60 + 30, "Europe/Madrid")).toBeUndefined();
    expect(wallClockInstant("2027-10-31", 2 * 60 + 30, "Europe/Madrid")?.toISOString()).toBe("2027-10-31T00:30:00.000Z");
    expect(wallClockInstant("2027-03-14", 2 * 60, "America/New_York")).toBeUndefined();
    expect(wallClockInstant("2027-11-07", 60 + 30, "America/New_York")?.toISOString()).toBe("2027-11-07T05:30:00.000Z");
    expect(wallClockInstant("2027-01-11", 5 * 60 + 30, "Asia/Kolkata")?.toISOString()).toBe("2027-01-11T00:00:00.000Z");
    expect(wallClockInstant("2027-01-01", 0, "Pacific/Auckland")?.toISOString()).toBe("2026-12-31T11:00:00.000Z");
  });
});

describe("segmentedClock", () => {
  it("reads exactly what Intl reads, across DST changes and the date line", () => {
    for (const zone of ZONES) {
      const from = new Date("2027-03-10T00:00:00Z");
      const to = new Date("2027-04-10T00:00:00Z");
      const fast = segmentedClock(zone, from, to);
      const reference = intlClock(zone);
      for (let t = from.getTime(); t <= to.getTime(); t += 7 * 60_000 + 13_000) {
        expect(fast(new Date(t)), `${zone} ${new Date(t).toISOString()}`).toEqual(reference(new Date(t)));
      }
    }
  }, 120_000);
});

describe("resolveRange", () => {
  const now = new Date("2027-01-01T00:00:00Z");
  it("reads dates as whole local days, both inclusive", () => {
    const range = resolveRange(
      "Pacific/Auckland",
      { kind: "date", date: "2027-01-04" },
      { kind: "date", date: "2027-01-04" },
      now,
    );
    expect(range.from.toISOString()).toBe("2027-01-03T11:00:00.000Z");
    expect(range.to.toISOString()).toBe("2027-01-04T11:00:00.000Z");
  });
  it("400 when the end is before the start or the range exceeds 31 days", () => {
    expect(() => resolveRange("UTC", { kind: "date", date: "2027-01-04" }, { kind: "date", date: "2027-01-03" }, now)).toThrow(
      /before/,
    );
    expect(() => resolveRange("UTC", { kind: "date", date: "2027-01-01" }, { kind: "date", date: "2027-02-01" }, now)).toThrow(
      /31 days/,
    );
    expect(
      resolveRange("Europe/Madrid", { kind: "date", date: "2027-03-01" }, { kind: "date", date: "2027-03-31" }, now).to,
    ).toBeInstanceOf(Date);
  });
});

describe("computeFreeSlots (property, against a brute-force oracle)", () => {
  it("lists only bookable starts (checkAvailability and the oracle agree), each once, sorted, on the wall-clock grid, and every start the oracle finds away from DST changes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        windowsArb,
        fc.constantFrom(...RANGE_STARTS),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(30, 60, 90),
        (timeZone, days, firstDate, extraDays, duration) => {
          const availability = { timezone: timeZone, ...days };
          const lastDate = new Date(Date.parse(`${firstDate}T00:00:00Z`) + extraDays * 86_400_000).toISOString().slice(0, 10);
          const now = new Date(Date.parse(`${firstDate}T00:00:00Z`) - 3 * 86_400_000);
          const range = resolveRange(timeZone, { kind: "date", date: firstDate }, { kind: "date", date: lastDate }, now);
          const slots = computeFreeSlots({ availability, range, durationMinutes: duration, busy: [], now });
          const starts = slots.map((slot) => slot.start.getTime());
          expect(new Set(starts).size).toBe(starts.length);
          expect([...starts].sort((a, b) => a - b)).toEqual(starts);
          const wallClocks = new Set<string>();
          for (const slot of slots) {
            const t = slot.start.getTime();
            expect(slot.end.getTime() - t).toBe(duration * MINUTE);
            expect(t >= range.from.getTime() && t < range.to.getTime()).toBe(true);
            expect(checkAvailability(availability, slot.start, duration).ok).toBe(true);
            expect(oracleFits(days, timeZone, t, duration)).toBe(true);
            const local = oracleLocal(t, timeZone);
            expect(local.minutes % 30).toBe(0);
            const key = `${local.date} ${local.minutes}`;
            expect(wallClocks.has(key), `wall clock ${key} listed twice`).toBe(false);
            wallClocks.add(key);
          }
          // Completeness away from DST changes: every grid start the oracle accepts is listed.
          const listed = new Set(starts);
          for (let t = range.from.getTime(); t < range.to.getTime(); t += 15 * MINUTE) {
            const local = oracleLocal(t, timeZone);
            if (local.minutes % 30 !== 0) continue;
            if (offsetAt(t - 3 * 60 * MINUTE, timeZone) !== offsetAt(t + (duration + 60) * MINUTE, timeZone)) continue;
            if (oracleFits(days, timeZone, t, duration)) expect(listed.has(t), new Date(t).toISOString()).toBe(true);
          }
        },
      ),
      // FREE_SLOTS_RUNS=1500 for a longer search (1,500 runs passed on 2026-12-01; ~150 s).
      { numRuns: Number(process.env.FREE_SLOTS_RUNS ?? 40) },
    );
  }, 240_000);

  it("lists a session that ends exactly when clocks spring forward (it occupies only time inside the window)", () => {
    // Auckland 2027-09-26: 02:00 NZST becomes 03:00 NZDT. 01:30-02:00 standard time fits 00:30-02:00.
    const availability = { timezone: "Pacific/Auckland", sunday: ["00:30-02:00"] };
    const now = new Date("2027-09-20T00:00:00Z");
    const range = resolveRange(
      "Pacific/Auckland",
      { kind: "date", date: "2027-09-26" },
      { kind: "date", date: "2027-09-26" },
      now,
    );
    const starts = computeFreeSlots({ availability, range, durationMinutes: 30, busy: [], now }).map((slot) =>
      slot.start.toISOString(),
    );
    expect(starts).toEqual(["2027-09-25T12:30:00.000Z", "2027-09-25T13:00:00.000Z", "2027-09-25T13:30:00.000Z"]);
    expect(checkAvailability(availability, new Date("2027-09-25T13:30:00Z"), 30).ok).toBe(true);
    expect(checkAvailability(availability, new Date("2027-09-25T13:30:00Z"), 60).ok).toBe(false);
  });

  it("leaves out busy times and starts less than 2 hours ahead", () => {
    const availability = { timezone: "Asia/Kolkata", monday: ["09:00-13:00"] };
    // 2027-01-11 is a Monday; 09:00 IST = 03:30Z.
    const range = resolveRange(
      "Asia/Kolkata",
      { kind: "date", date: "2027-01-11" },
      { kind: "date", date: "2027-01-11" },
      new Date(0),
    );
    const busy = [{ start: new Date("2027-01-11T05:00:00Z"), end: new Date("2027-01-11T05:30:00Z") }];
    const now = new Date("2027-01-11T02:00:00Z"); // 07:30 IST: the earliest start is 09:30 IST (04:00Z)
    const starts = computeFreeSlots({ availability, range, durationMinutes: 60, busy, now }).map((slot) =>
      slot.start.toISOString(),
    );
    expect(starts).toEqual([
      "2027-01-11T04:00:00.000Z",
      // 04:30Z would overlap the busy 05:00-05:30Z; so would 04:30 and 05:00
      "2027-01-11T05:30:00.000Z",
      "2027-01-11T06:00:00.000Z",
      "2027-01-11T06:30:00.000Z",
    ]);
  });

  it("a window that the spring-forward jump removes yields no slot; the fall-back repeat yields no duplicate", () => {
    const spring = computeFreeSlots({
      availability: { timezone: "Europe/Madrid", sunday: ["02:00-03:00"] },
      range: resolveRange(
        "Europe/Madrid",
        { kind: "date", date: "2027-03-28" },
        { kind: "date", date: "2027-03-28" },
        new Date(0),
      ),
      durationMinutes: 30,
      busy: [],
      now: new Date(0),
    });
    expect(spring).toEqual([]);
    const fall = computeFreeSlots({
      availability: { timezone: "Europe/Madrid", sunday: ["02:00-03:00"] },
      range: resolveRange(
        "Europe/Madrid",
        { kind: "date", date: "2027-10-31" },
        { kind: "date", date: "2027-10-31" },
        new Date(0),
      ),
      durationMinutes: 30,
      busy: [],
      now: new Date(0),
    });
    expect(fall.map((slot) => slot.start.toISOString())).toEqual(["2027-10-31T00:00:00.000Z", "2027-10-31T00:30:00.000Z"]);
  });
});
