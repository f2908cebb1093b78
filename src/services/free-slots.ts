/**
 * Free slots (contract v2: GET /booking/coach/{coach_id}/availability).
 *
 * Candidates are the :00 and :30 marks of the coach's wall clock inside each
 * availability window, each turned into the instant(s) it names in the coach's
 * zone: a wall-clock time that a DST jump skips names no instant (no slot), one
 * that a DST fall-back repeats names two and the earlier one is taken (no
 * duplicate). Each candidate must then pass checkAvailability -- the very rule
 * POST /booking applies -- and leave out starts < 2 h ahead and anything that
 * overlaps a pending/confirmed booking of the coach. So what is listed is
 * bookable, unless someone books it in between.
 */
import { and, eq, inArray, or, sql } from "drizzle-orm";
import { bookings, coachProfiles, users } from "../../drizzle/schema.ts";
import type { DateOrInstant, FreeSlots } from "../contract/bookings.ts";
import { MAX_SLOT_RANGE_DAYS } from "../contract/bookings.ts";
import type { Executor } from "../db/client.ts";
import { availabilityWindows, WEEKDAYS } from "../lib/availability.ts";
import { badRequest, fieldError, notFound } from "../lib/errors.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS, requireIso } from "../lib/time.ts";
import { rememberBookableCoach } from "./bookable-coach-memo.ts";
import {
  checkAvailability,
  intlClock,
  localTime,
  MIN_NOTICE_MS,
  offsetMinutes,
  segmentedClock,
  type WallClock,
} from "./booking-rules.ts";
import { canReceivePayoutsSql } from "./payouts.ts";

const GRID_MINUTES = 30;

export interface Busy {
  start: Date;
  end: Date;
}

export interface SlotRange {
  from: Date;
  /** exclusive */
  to: Date;
}

const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

const weekdayOf = (date: string) => WEEKDAYS[(new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7] as (typeof WEEKDAYS)[number];

/**
 * The earliest instant whose wall clock in `timeZone` reads `date` + `minute`
 * (minutes after midnight); undefined when the zone skips that time.
 */
export function wallClockInstant(
  date: string,
  minute: number,
  timeZone: string,
  clock: WallClock = intlClock(timeZone),
): Date | undefined {
  const wall = Date.parse(`${date}T00:00:00Z`) + minute * MINUTE_MS;
  const candidates = new Set<number>();
  // The offsets a day before and after cover both sides of any single transition.
  for (const probe of [wall - DAY_MS, wall, wall + DAY_MS]) {
    const instant = new Date(probe);
    candidates.add(wall - offsetMinutes(instant, clock(instant)) * MINUTE_MS);
  }
  let earliest: number | undefined;
  for (const candidate of candidates) {
    const local = clock(new Date(candidate));
    if (local.date === date && local.minutes === minute && (earliest === undefined || candidate < earliest)) earliest = candidate;
  }
  return earliest === undefined ? undefined : new Date(earliest);
}

/** The first instant of a local day (midnight, or the first existing half hour when the zone skips midnight). */
function startOfLocalDay(date: string, timeZone: string): Date {
  for (let minute = 0; minute < 24 * 60; minute += GRID_MINUTES) {
    const instant = wallClockInstant(date, minute, timeZone);
    if (instant) return instant;
  }
  return new Date(`${date}T00:00:00Z`);
}

/**
 * The query's range in the coach's zone: dates are whole local days (both
 * inclusive), instants are taken as they are (end inclusive). Defaults: from
 * today (coach's zone), 7 days. 400 when end < start or the range exceeds 31 days.
 */
export function resolveRange(
  timeZone: string,
  start: DateOrInstant | undefined,
  end: DateOrInstant | undefined,
  now: Date,
): SlotRange {
  const first: DateOrInstant = start ?? { kind: "date", date: localTime(now, timeZone).date };
  const from = first.kind === "date" ? startOfLocalDay(first.date, timeZone) : first.at;
  const last: DateOrInstant = end ?? { kind: "date", date: addDays(localTime(from, timeZone).date, 6) };
  const to = last.kind === "date" ? startOfLocalDay(addDays(last.date, 1), timeZone) : new Date(last.at.getTime() + 1);
  const invalid = (message: string, field: string) => badRequest(message, fieldError(field, "query", message));
  if (to.getTime() <= from.getTime()) throw invalid("end_date must not be before start_date", "end_date");
  // Whole local days may be 23 or 25 hours long: count days, not milliseconds, when both are dates.
  const tooLong =
    first.kind === "date" && last.kind === "date"
      ? Date.parse(`${last.date}T00:00:00Z`) - Date.parse(`${first.date}T00:00:00Z`) >= MAX_SLOT_RANGE_DAYS * DAY_MS
      : to.getTime() - from.getTime() > MAX_SLOT_RANGE_DAYS * DAY_MS + HOUR_MS;
  if (tooLong) throw invalid(`The range must not exceed ${MAX_SLOT_RANGE_DAYS} days`, "end_date");
  return { from, to };
}

/**
 * Pure: the free slots of one coach in a range. `busy` are the coach's
 * pending/confirmed bookings (any that may touch the range).
 */
export function computeFreeSlots(input: {
  availability: unknown;
  range: SlotRange;
  durationMinutes: number;
  busy: readonly Busy[];
  now: Date;
}): Array<{ start: Date; end: Date }> {
  const { availability, range, durationMinutes, busy, now } = input;
  const { timezone, days } = availabilityWindows(availability);
  const clock = segmentedClock(timezone, new Date(range.from.getTime() - DAY_MS), new Date(range.to.getTime() + DAY_MS));
  const earliest = Math.max(range.from.getTime(), now.getTime() + MIN_NOTICE_MS);
  const slots = new Map<number, { start: Date; end: Date }>();
  const lastDate = localTime(new Date(range.to.getTime() - 1), timezone).date;
  for (let date = localTime(range.from, timezone).date; date <= lastDate; date = addDays(date, 1)) {
    for (const window of days[weekdayOf(date)]) {
      const firstMark = Math.ceil(window.start / GRID_MINUTES) * GRID_MINUTES;
      for (let minute = firstMark; minute < window.end; minute += GRID_MINUTES) {
        const start = wallClockInstant(date, minute, timezone, clock);
        if (!start || start.getTime() < earliest || start.getTime() >= range.to.getTime()) continue;
        const end = new Date(start.getTime() + durationMinutes * MINUTE_MS);
        if (busy.some((taken) => start < taken.end && end > taken.start)) continue;
        if (!checkAvailability(availability, start, durationMinutes, () => clock).ok) continue;
        slots.set(start.getTime(), { start, end });
      }
    }
  }
  return [...slots.values()].sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** Widest instants a local date can start/end at in any zone (UTC-12 .. UTC+14), plus the longest session. */
function conservativeBounds(start: DateOrInstant | undefined, end: DateOrInstant | undefined, now: Date): SlotRange {
  const margin = 15 * HOUR_MS;
  const from =
    start === undefined
      ? now.getTime() - DAY_MS
      : start.kind === "date"
        ? Date.parse(`${start.date}T00:00:00Z`)
        : start.at.getTime();
  const to =
    end === undefined
      ? from + (MAX_SLOT_RANGE_DAYS + 2) * DAY_MS
      : end.kind === "date"
        ? Date.parse(`${end.date}T00:00:00Z`) + DAY_MS
        : end.at.getTime();
  return { from: new Date(from - margin - 2 * HOUR_MS), to: new Date(to + margin + 2 * HOUR_MS) };
}

export interface FreeSlotsInput {
  coachRef: string;
  start?: DateOrInstant;
  end?: DateOrInstant;
  durationMinutes: number;
  now: Date;
}

/**
 * GET /booking/coach/{coach_id}/availability. ONE statement: the bookable
 * coach (active, role coach) with its availability and, as a JSON array, its
 * pending/confirmed bookings in a window wide enough for any zone. 404 unknown
 * or inactive coach; a coach without an hourly rate cannot be booked (POST
 * /booking answers 409), so it has no free slots.
 */
export async function freeSlotsFor(db: Executor, input: FreeSlotsInput): Promise<FreeSlots> {
  const bounds = conservativeBounds(input.start, input.end, input.now);
  const busy = sql<Array<{ s: string; m: number }> | null>`(
    select jsonb_agg(jsonb_build_object('s', ${bookings.sessionDatetime}, 'm', ${bookings.durationMinutes}))
      from ${bookings}
     where ${bookings.coachId} = ${users.id}
       and ${inArray(bookings.status, ["pending", "confirmed"])}
       and ${bookings.sessionDatetime} < ${bounds.to.toISOString()}::timestamptz
       and ${bookings.sessionDatetime} + make_interval(mins => ${bookings.durationMinutes}) > ${bounds.from.toISOString()}::timestamptz)`;
  const [coach] = await db
    .select({
      userId: users.id,
      availability: coachProfiles.availability,
      hourlyRate: coachProfiles.hourlyRate,
      canReceivePayouts: canReceivePayoutsSql,
      busy,
    })
    .from(coachProfiles)
    .innerJoin(users, eq(users.id, coachProfiles.userId))
    .where(
      and(
        or(eq(coachProfiles.userId, input.coachRef), eq(coachProfiles.id, input.coachRef)),
        eq(users.role, "coach"),
        eq(users.isActive, true),
      ),
    )
    .limit(1);
  if (!coach) throw notFound("Coach");
  // A client who looks at the free slots usually books one next: that booking can skip this read.
  rememberBookableCoach(input.coachRef, coach, input.now);
  const { timezone } = availabilityWindows(coach.availability);
  const range = resolveRange(timezone, input.start, input.end, input.now);
  const slots =
    coach.hourlyRate === null
      ? []
      : computeFreeSlots({
          availability: coach.availability,
          range,
          durationMinutes: input.durationMinutes,
          now: input.now,
          busy: (coach.busy ?? []).map((row) => {
            const start = new Date(row.s);
            return { start, end: new Date(start.getTime() + row.m * MINUTE_MS) };
          }),
        });
  return {
    coach_id: coach.userId,
    timezone,
    duration_minutes: input.durationMinutes,
    available_slots: slots.map((slot) => ({
      start: requireIso(slot.start),
      end: requireIso(slot.end),
      duration_minutes: input.durationMinutes,
    })),
  };
}
