/**
 * Free-slot generation for the POST /booking scenario: a start time inside
 * one of the coach's availability windows, on the coach's wall clock (the
 * rule the API enforces), converted to UTC.
 */
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let found = formatters.get(zone);
  if (!found) {
    found = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, found);
  }
  return found;
}

/** The zone's wall clock at `instant` as {y, m, d, minutes}, and its offset from UTC in ms. */
function wallClock(zone: string, instant: number) {
  const parts: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(instant)) if (part.type !== "literal") parts[part.type] = Number(part.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return { year: parts.year!, month: parts.month!, day: parts.day!, offset: asUtc - Math.floor(instant / 1000) * 1000 };
}

/** The UTC instant at which the zone's clock shows that date and minute of day. */
export function zonedToUtc(zone: string, year: number, month: number, day: number, minuteOfDay: number): Date {
  const guess = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  const first = wallClock(zone, guess).offset;
  let utc = guess - first;
  const second = wallClock(zone, utc).offset;
  if (second !== first) utc = guess - second;
  return new Date(utc);
}

function minutes(text: string): number {
  const [hours, mins] = text.split(":").map(Number);
  return (hours ?? 0) * 60 + (mins ?? 0);
}

export interface Availability {
  timezone?: string;
  [weekday: string]: unknown;
}

/**
 * A random bookable start for a session of `duration` minutes, between
 * `minDays` and `maxDays` days after `now`; undefined when the coach has no
 * window that fits in a week.
 */
export function randomSlot(
  availability: Availability,
  duration: number,
  now: number,
  random: () => number,
  minDays = 2,
  maxDays = 120,
): Date | undefined {
  const zone = typeof availability.timezone === "string" ? availability.timezone : "UTC";
  const firstDay = minDays + Math.floor(random() * (maxDays - minDays));
  for (let extra = 0; extra < 7; extra++) {
    const local = wallClock(zone, now + (firstDay + extra) * 86_400_000);
    const weekday = WEEKDAYS[new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay()]!;
    const windows = (Array.isArray(availability[weekday]) ? (availability[weekday] as string[]) : [])
      .map((window) => window.split("-"))
      .map(([start, end]) => ({ start: minutes(start ?? "0:0"), end: minutes(end ?? "0:0") }))
      .filter((window) => window.end - window.start >= duration);
    if (windows.length === 0) continue;
    const window = windows[Math.floor(random() * windows.length)]!;
    const startsAvailable = Math.floor((window.end - duration - window.start) / 30) + 1;
    const start = window.start + 30 * Math.floor(random() * startsAvailable);
    return zonedToUtc(zone, local.year, local.month, local.day, start);
  }
  return undefined;
}
