/**
 * Pure booking rules: availability in the coach's time zone, the refund policy
 * of a cancellation, the status transition table. No database, no clock of
 * their own: `now` is always passed in.
 */
import { SESSION_DURATIONS } from "../contract/bookings.ts";
import { availabilityWindows, type MinuteWindow, WEEKDAYS, type Weekday } from "../lib/availability.ts";

export { SESSION_DURATIONS };
export type SessionDuration = (typeof SESSION_DURATIONS)[number];

/**
 * A client may hold this many unpaid bookings at once (the next one is a 409):
 * pending, or confirmed without payment (contract v2), until paid or ended.
 */
export const MAX_UNPAID_PENDING_BOOKINGS = 3;
/**
 * Hoarding policy (issue 19, docs/BOOKINGS.md): an account whose email is not
 * verified holds at most ONE unpaid booking; verifying raises it to the 3 above.
 * Throwaway accounts then cost a working inbox per held slot.
 */
export const MAX_UNPAID_BOOKINGS_UNVERIFIED = 1;

/** Free slots start at least this far ahead (contract v2: minimum notice). */
export const MIN_NOTICE_MS = 2 * 60 * 60 * 1000;

/** A client may reschedule only this long before the current start (contract v2); coach/admin any time. */
export const CLIENT_RESCHEDULE_NOTICE_MS = 24 * 60 * 60 * 1000;

/** A client cancelling at least this long before the session gets a full refund. */
export const FULL_REFUND_NOTICE_MS = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------
// Availability
// ---------------------------------------------------------------------------

export interface LocalTime {
  /** YYYY-MM-DD in the zone */
  date: string;
  weekday: Weekday;
  /** minutes after local midnight, fractional when the instant has seconds */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      weekday: "long",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock time of an instant in a zone, as the zone's own rules (DST included) say. */
export function localTime(instant: Date, timeZone: string): LocalTime {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(instant)
      .map((part) => [part.type, part.value]),
  );
  const weekday = String(parts.weekday).toLowerCase() as Weekday;
  const hour = Number(parts.hour) % 24;
  const seconds = Number(parts.second) + (instant.getTime() % 1000) / 1000;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday,
    minutes: hour * 60 + Number(parts.minute) + seconds / 60,
  };
}

/** The zone's UTC offset (minutes) at an instant, from its wall-clock reading. */
export function offsetMinutes(instant: Date, local: LocalTime): number {
  const [year, month, day] = local.date.split("-").map(Number) as [number, number, number];
  const wallMs = Date.UTC(year, month - 1, day) + local.minutes * 60_000;
  return Math.round((wallMs - instant.getTime()) / 60_000);
}

/** Maps an instant to the wall clock of one zone. */
export type WallClock = (instant: Date) => LocalTime;

/** The reference clock: Intl for every reading (what POST /booking uses). */
export const intlClock =
  (timeZone: string): WallClock =>
  (instant) =>
    localTime(instant, timeZone);

/**
 * The same readings as intlClock for instants inside [from, to], computed from
 * the zone's offset segments instead of an Intl call per reading: offsets are
 * sampled every 3 hours and each change is located to the minute by bisection
 * (zones change offset on whole minutes, and never twice within 3 hours).
 * Free slots read the clock thousands of times per request; this keeps them
 * to a few hundred Intl calls. The unit property test checks it against Intl.
 */
export function segmentedClock(timeZone: string, from: Date, to: Date): WallClock {
  const step = 3 * 60 * 60_000;
  const offsetAt = (ms: number) => offsetMinutes(new Date(ms), localTime(new Date(ms), timeZone));
  const base = Math.floor((from.getTime() - step) / 60_000) * 60_000;
  const starts: number[] = [Number.NEGATIVE_INFINITY];
  const offsets: number[] = [offsetAt(base)];
  for (let t = base; t < to.getTime() + step; t += step) {
    const next = offsetAt(t + step);
    if (next === offsets[offsets.length - 1]) continue;
    // Bisect (t, t + step] to the first minute with the new offset.
    let low = t;
    let high = t + step;
    while (high - low > 60_000) {
      const mid = low + Math.floor((high - low) / 120_000) * 60_000;
      if (offsetAt(mid) === next) high = mid;
      else low = mid;
    }
    starts.push(high);
    offsets.push(next);
  }
  const fallback = intlClock(timeZone);
  return (instant) => {
    const ms = instant.getTime();
    if (ms < from.getTime() - step || ms > to.getTime() + step) return fallback(instant);
    let index = starts.length - 1;
    while (index > 0 && (starts[index] as number) > ms) index--;
    const wall = new Date(ms + (offsets[index] as number) * 60_000);
    return {
      date: wall.toISOString().slice(0, 10),
      weekday: WEEKDAYS[(wall.getUTCDay() + 6) % 7] as Weekday,
      minutes: wall.getUTCHours() * 60 + wall.getUTCMinutes() + (wall.getUTCSeconds() + wall.getUTCMilliseconds() / 1000) / 60,
    };
  };
}

export type AvailabilityVerdict =
  | { ok: true; window: string; timezone: string }
  | { ok: false; reason: string; timezone: string; local_start: string; local_end: string };

const hhmm = (minutes: number) => {
  const whole = Math.floor(minutes);
  return `${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
};

/**
 * Does the whole session [start, start + duration) lie inside ONE availability
 * window of the coach, in the coach's zone?
 *
 * Every minute of the session is mapped to the zone's wall clock with Intl
 * (no hand-made offsets), so DST days are right: on a spring-forward day a
 * 60-minute session from 01:30 ends at 03:30 local, on a fall-back day the
 * wall clock repeats an hour, and each instant must still be inside the window.
 */
export function checkAvailability(
  availability: unknown,
  start: Date,
  durationMinutes: number,
  /** the zone's wall clock (default: Intl); free slots pass an equivalent, cheaper one */
  clockOf: (timeZone: string) => WallClock = intlClock,
): AvailabilityVerdict {
  const { timezone, days } = availabilityWindows(availability);
  const clock = clockOf(timezone);
  const end = new Date(start.getTime() + durationMinutes * 60_000);
  const first = clock(start);
  const last = clock(end);
  const describe = (local: LocalTime) => `${local.date} ${hhmm(local.minutes)} (${local.weekday})`;
  const fail = (reason: string): AvailabilityVerdict => ({
    ok: false,
    reason,
    timezone,
    local_start: describe(first),
    local_end: describe(last),
  });

  const dayWindows: MinuteWindow[] = days[first.weekday] ?? [];
  if (!WEEKDAYS.some((day) => days[day].length > 0)) return fail("The coach has not published any availability");
  const window = dayWindows.find((candidate) => first.minutes >= candidate.start && first.minutes < candidate.end);
  if (!window) return fail(`The session start is outside the coach's availability on ${first.weekday} (${timezone})`);

  // Every minute inside the session must map to the same local day and window.
  // Fast path: when the zone's offset is the same at the first and the last minute
  // (no DST change inside; no zone changes twice within 90 minutes), the wall clock
  // runs contiguously, so checking the last minute is checking them all.
  const lastMinute = clock(new Date(start.getTime() + (durationMinutes - 1) * 60_000));
  const contiguous =
    durationMinutes >= 1 &&
    offsetMinutes(start, first) === offsetMinutes(new Date(start.getTime() + (durationMinutes - 1) * 60_000), lastMinute);
  if (contiguous) {
    if (lastMinute.date !== first.date || lastMinute.minutes < window.start || lastMinute.minutes >= window.end) {
      return fail(
        `The session does not fit inside one availability window (${hhmm(window.start)}-${hhmm(window.end)} ${timezone})`,
      );
    }
  }
  for (let minute = contiguous ? durationMinutes : 1; minute < durationMinutes; minute++) {
    const local = clock(new Date(start.getTime() + minute * 60_000));
    if (local.date !== first.date || local.minutes < window.start || local.minutes >= window.end) {
      return fail(
        `The session does not fit inside one availability window (${hhmm(window.start)}-${hhmm(window.end)} ${timezone})`,
      );
    }
  }
  // The last instant of the session (end - 1 ms) must still be on that day, inside the window: a
  // session may touch the window's end (or local midnight for a window ending at 24:00), and a
  // session whose end falls into a repeated DST hour is judged by the time it actually occupies.
  const tail = clock(new Date(end.getTime() - 1));
  if (tail.date !== first.date || tail.minutes >= window.end || tail.minutes < window.start) {
    return fail(`The session ends after the availability window (${hhmm(window.start)}-${hhmm(window.end)} ${timezone})`);
  }
  return { ok: true, window: `${hhmm(window.start)}-${hhmm(window.end)}`, timezone };
}

// ---------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------

export type BookingStatus = "pending" | "confirmed" | "completed" | "cancelled";

const TRANSITIONS: Record<BookingStatus, readonly BookingStatus[]> = {
  pending: ["confirmed", "cancelled"],
  confirmed: ["completed", "cancelled"],
  completed: [],
  cancelled: [],
};

export function isAllowedTransition(from: BookingStatus, to: BookingStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function allowedTransitions(from: BookingStatus): readonly BookingStatus[] {
  return TRANSITIONS[from];
}

/** Who cancels, as the refund policy sees it. */
export type CancellingParty = "admin" | "coach" | "client";

/**
 * The cancellation policy: coach or admin -> full refund; the client at least
 * 24 h before the session -> full refund; the client later -> none.
 */
export function refundDue(party: CancellingParty, sessionStart: Date, now: Date): boolean {
  if (party !== "client") return true;
  return sessionStart.getTime() - now.getTime() >= FULL_REFUND_NOTICE_MS;
}
