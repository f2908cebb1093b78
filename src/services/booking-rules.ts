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
export function checkAvailability(availability: unknown, start: Date, durationMinutes: number): AvailabilityVerdict {
  const { timezone, days } = availabilityWindows(availability);
  const end = new Date(start.getTime() + durationMinutes * 60_000);
  const first = localTime(start, timezone);
  const last = localTime(end, timezone);
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
  const lastMinute = localTime(new Date(start.getTime() + (durationMinutes - 1) * 60_000), timezone);
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
    const local = localTime(new Date(start.getTime() + minute * 60_000), timezone);
    if (local.date !== first.date || local.minutes < window.start || local.minutes >= window.end) {
      return fail(
        `The session does not fit inside one availability window (${hhmm(window.start)}-${hhmm(window.end)} ${timezone})`,
      );
    }
  }
  // The end instant may touch the window's end, or local midnight when the window ends at 24:00.
  const endMinutes = last.date === first.date ? last.minutes : last.minutes === 0 ? 24 * 60 : Number.POSITIVE_INFINITY;
  if (endMinutes > window.end || endMinutes <= window.start) {
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
