/**
 * Coach availability (contract: Coach availability):
 *   {"timezone": "Europe/Madrid", "monday": ["09:00-12:00", "14:00-17:00"], ...}
 * Weekday keys monday..sunday, each a list of non-overlapping HH:MM-HH:MM
 * windows on 30-minute boundaries with start < end; timezone optional
 * (default UTC). Anything else is a 400.
 */
import { z } from "@hono/zod-openapi";
import { timeZoneField } from "./fields.ts";

export const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MinuteWindow {
  /** minutes after local midnight */
  start: number;
  end: number;
}

const WINDOW_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

/** "09:00-12:30" -> {start: 540, end: 750}; undefined when malformed. "24:00" is allowed as an end. */
export function parseWindow(text: string): MinuteWindow | undefined {
  const match = WINDOW_PATTERN.exec(text);
  if (!match) return undefined;
  const start = Number(match[1]) * 60 + Number(match[2]);
  const end = Number(match[3]) * 60 + Number(match[4]);
  if (end > 24 * 60) return undefined;
  return { start, end };
}

const windowList = z
  .array(z.string())
  .max(48)
  .superRefine((windows, ctx) => {
    const parsed: MinuteWindow[] = [];
    windows.forEach((text, index) => {
      const window = parseWindow(text);
      if (!window) {
        ctx.addIssue({ code: "custom", path: [index], message: `"${text}" is not an HH:MM-HH:MM window` });
        return;
      }
      if (window.start % 30 !== 0 || window.end % 30 !== 0) {
        ctx.addIssue({ code: "custom", path: [index], message: `"${text}" must start and end on a 30-minute boundary` });
        return;
      }
      if (window.start >= window.end) {
        ctx.addIssue({ code: "custom", path: [index], message: `"${text}" must start before it ends` });
        return;
      }
      parsed.push(window);
    });
    const sorted = [...parsed].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      if ((sorted[i] as MinuteWindow).start < (sorted[i - 1] as MinuteWindow).end) {
        ctx.addIssue({ code: "custom", message: "Windows of one day must not overlap" });
        break;
      }
    }
  });

export const availabilitySchema = z
  .object({
    timezone: timeZoneField.optional(),
    monday: windowList.optional(),
    tuesday: windowList.optional(),
    wednesday: windowList.optional(),
    thursday: windowList.optional(),
    friday: windowList.optional(),
    saturday: windowList.optional(),
    sunday: windowList.optional(),
  })
  .strict()
  .openapi("Availability", {
    example: { timezone: "Europe/Madrid", monday: ["09:00-12:00", "14:00-17:00"], tuesday: ["09:00-12:00"] },
  });

export type Availability = z.infer<typeof availabilitySchema>;

/** Stored availability -> per-weekday minute windows and its zone (invalid entries are skipped). */
export function availabilityWindows(value: unknown): { timezone: string; days: Record<Weekday, MinuteWindow[]> } {
  const source = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  const days = Object.fromEntries(WEEKDAYS.map((day) => [day, [] as MinuteWindow[]])) as Record<Weekday, MinuteWindow[]>;
  for (const day of WEEKDAYS) {
    const list = source[day];
    if (!Array.isArray(list)) continue;
    for (const text of list) {
      const window = typeof text === "string" ? parseWindow(text) : undefined;
      if (window) days[day].push(window);
    }
    days[day].sort((a, b) => a.start - b.start);
  }
  const timezone = typeof source.timezone === "string" && source.timezone.length > 0 ? source.timezone : "UTC";
  return { timezone, days };
}
