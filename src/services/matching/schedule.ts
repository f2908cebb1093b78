/**
 * A coach's weekly availability seen from the client's side: the windows are
 * converted from the coach's zone into the client's zone (quiz factor 19) and
 * cut into bookable sessions of the client's preferred length (factor 16);
 * each session start falls into the client's time-of-day buckets (factor 18).
 *
 * Zone offsets are taken at `now` (the one time-dependent input of the
 * matcher), so a DST change moves slots by an hour the way a real calendar does.
 */
import { availabilityWindows, type MinuteWindow, WEEKDAYS } from "../../lib/availability.ts";
import type { PREFERRED_TIMES } from "../../lib/quiz.ts";

export type PreferredTime = (typeof PREFERRED_TIMES)[number];

const DAY = 24 * 60;
const WEEK = 7 * DAY;
const SLOT_STEP = 30;

/** Bit per bucket; a Saturday-morning slot is both `morning` and `weekend`. */
export const TIME_BUCKET_BITS: Record<PreferredTime, number> = { morning: 1, afternoon: 2, evening: 4, weekend: 8 };

/** Local clock ranges of the buckets, in minutes after midnight (start inclusive, end exclusive). */
export const TIME_BUCKET_RANGES = {
  morning: [6 * 60, 12 * 60],
  afternoon: [12 * 60, 17 * 60],
  evening: [17 * 60, 22 * 60],
  weekend: [8 * 60, 20 * 60], // Saturday and Sunday daytime
} as const;

function bucketMask(minuteOfWeek: number): number {
  const day = Math.floor(minuteOfWeek / DAY); // 0 = Monday
  const minute = minuteOfWeek % DAY;
  let mask = 0;
  if (minute >= TIME_BUCKET_RANGES.morning[0] && minute < TIME_BUCKET_RANGES.morning[1]) mask |= TIME_BUCKET_BITS.morning;
  else if (minute >= TIME_BUCKET_RANGES.afternoon[0] && minute < TIME_BUCKET_RANGES.afternoon[1])
    mask |= TIME_BUCKET_BITS.afternoon;
  else if (minute >= TIME_BUCKET_RANGES.evening[0] && minute < TIME_BUCKET_RANGES.evening[1]) mask |= TIME_BUCKET_BITS.evening;
  if (day >= 5 && minute >= TIME_BUCKET_RANGES.weekend[0] && minute < TIME_BUCKET_RANGES.weekend[1])
    mask |= TIME_BUCKET_BITS.weekend;
  return mask;
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes east of UTC of `timeZone` at `at` (Europe/Madrid in July: 120). Unknown zones count as UTC. */
export function zoneOffsetMinutes(timeZone: string, at: Date): number {
  let formatter = offsetFormatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
      });
    } catch {
      return 0;
    }
    offsetFormatters.set(timeZone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(at)) if (part.type !== "literal") parts[part.type] = Number(part.value);
  const asUtc = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0);
  const truncated = Math.floor(at.getTime() / 60_000) * 60_000;
  return Math.round((asUtc - truncated) / 60_000);
}

/** A coach's weekly windows as minute-of-week intervals in the coach's own zone. */
export interface WeeklyAvailability {
  timezone: string;
  /** [start, end) minutes after Monday 00:00, coach-local. */
  intervals: Array<[number, number]>;
  /** Longest single window in minutes (0 when none). */
  longestWindow: number;
  /** Weekdays with at least one window. */
  activeDays: number;
}

export function weeklyAvailability(stored: unknown): WeeklyAvailability {
  const { timezone, days } = availabilityWindows(stored);
  const intervals: Array<[number, number]> = [];
  let longestWindow = 0;
  let activeDays = 0;
  WEEKDAYS.forEach((day, index) => {
    const windows: MinuteWindow[] = days[day];
    if (windows.length > 0) activeDays++;
    for (const window of windows) {
      intervals.push([index * DAY + window.start, index * DAY + window.end]);
      longestWindow = Math.max(longestWindow, window.end - window.start);
    }
  });
  return { timezone, intervals, longestWindow, activeDays };
}

/**
 * Bookable session starts per week, as seen from the client's zone, counted
 * per bucket combination: counts[mask] = slots whose start has exactly that
 * bucket mask. 16 numbers, so any preferred-times set is summed in O(16).
 */
export function slotCounts(availability: WeeklyAvailability, shiftMinutes: number, durationMinutes: number): number[] {
  const counts = new Array<number>(16).fill(0);
  for (const [start, end] of availability.intervals) {
    for (let slot = start; slot + durationMinutes <= end; slot += SLOT_STEP) {
      const local = (((slot + shiftMinutes) % WEEK) + WEEK) % WEEK;
      counts[bucketMask(local)]! += 1;
    }
  }
  return counts;
}

/** Slots whose start is in at least one preferred bucket. */
export function preferredSlots(counts: readonly number[], preferred: readonly PreferredTime[]): number {
  let mask = 0;
  for (const time of preferred) mask |= TIME_BUCKET_BITS[time];
  let total = 0;
  for (let combination = 1; combination < 16; combination++) if (combination & mask) total += counts[combination] ?? 0;
  return total;
}
