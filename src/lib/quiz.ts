/**
 * The 20 matching factors of a client's quiz (contract: Profiles, quiz_data).
 * The first ten are the old system's names. A quiz is either absent or
 * complete: every factor required, typed, enums checked.
 */
import { z } from "@hono/zod-openapi";
import { freeTextItem, freeTextList, languageList, timeZoneField } from "./fields.ts";

export const FAMILY_STATUSES = ["single", "partnered", "married", "married_with_children", "single_parent", "other"] as const;
export const COACHING_STYLES = ["directive", "collaborative", "reflective", "structured", "flexible"] as const;
export const RELOCATION_STAGES = ["planning", "recently_arrived", "settled", "returning_home"] as const;
export const CAREER_LEVELS = ["student", "early_career", "mid_career", "senior", "executive"] as const;
export const COMMUNICATION_STYLES = ["direct", "indirect", "mixed"] as const;
export const SESSION_FREQUENCIES = ["weekly", "biweekly", "monthly", "ad_hoc"] as const;
export const PREFERRED_TIMES = ["morning", "afternoon", "evening", "weekend"] as const;
export const SESSION_DURATIONS = [30, 60, 90] as const;

const nonEmptyFreeList = freeTextList.min(1, "At least one entry");

export const quizSchema = z
  .object({
    target_countries: nonEmptyFreeList,
    cultural_goals: nonEmptyFreeList,
    preferred_languages: languageList.refine((list) => list.length >= 1, "At least one language"),
    industry: freeTextItem,
    family_status: z.enum(FAMILY_STATUSES),
    previous_expat_experience: z.boolean(),
    timeline_urgency: z.number().int().min(1).max(5),
    budget_range: z
      .object({ min: z.number().min(0), max: z.number().min(0) })
      .strict()
      .refine((range) => range.min <= range.max, { message: "min must be <= max", path: ["max"] }),
    coaching_style: z.enum(COACHING_STYLES),
    specific_challenges: nonEmptyFreeList,
    home_country: freeTextItem,
    current_country: freeTextItem,
    relocation_stage: z.enum(RELOCATION_STAGES),
    career_level: z.enum(CAREER_LEVELS),
    communication_style: z.enum(COMMUNICATION_STYLES),
    preferred_session_duration: z.union([z.literal(30), z.literal(60), z.literal(90)]),
    session_frequency: z.enum(SESSION_FREQUENCIES),
    preferred_times: z
      .array(z.enum(PREFERRED_TIMES))
      .min(1, "At least one preferred time")
      .max(4)
      .transform((values) => [...new Set(values)]),
    timezone: timeZoneField,
    languages_learning: languageList,
  })
  .strict()
  .openapi("QuizData");

export type Quiz = z.infer<typeof quizSchema>;

/** True when stored quiz_data is a complete, valid quiz (the matcher's precondition). */
export function parseStoredQuiz(value: unknown): Quiz | undefined {
  const result = quizSchema.safeParse(value);
  return result.success ? result.data : undefined;
}

/** Stable hash of a quiz (key order independent), for the match cache key. */
export async function quizHash(quiz: unknown): Promise<string> {
  const canonical = JSON.stringify(sortKeys(quiz));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return [...new Uint8Array(digest)]
    .slice(0, 12)
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}
