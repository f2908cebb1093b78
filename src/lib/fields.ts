/**
 * Field validators shared by every schema that takes profile data: the API
 * (PUT /profile), the Phase-1 import and the seed agree on one definition.
 */
import { z } from "@hono/zod-openapi";
import { isStripeCurrency } from "./currencies.ts";
import { canonicalLanguage, LANGUAGES } from "./languages.ts";

const zoneCache = new Map<string, boolean>();

/** A real IANA time zone (Intl knows it); "UTC" included. */
export function isIanaTimeZone(value: string): boolean {
  const cached = zoneCache.get(value);
  if (cached !== undefined) return cached;
  let valid = false;
  if (/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+){0,2}$/.test(value) || value === "UTC") {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: value });
      valid = true;
    } catch {
      valid = false;
    }
  }
  zoneCache.set(value, valid);
  return valid;
}

export const timeZoneField = z
  .string()
  .trim()
  .max(64)
  .refine(isIanaTimeZone, { message: "Must be an IANA time zone such as Europe/Madrid" })
  .openapi({ example: "Europe/Madrid" });

export const nameField = z.string().trim().min(1).max(100);

/** E.164-ish: optional +, 7-15 digits, spaces/dashes/dots/parentheses allowed as separators; <= 20 chars. */
export const phoneField = z
  .string()
  .trim()
  .max(20)
  .regex(/^\+?[0-9 ().-]{7,20}$/, "Must be a phone number such as +34 600 000 000")
  .refine((value) => {
    const digits = value.replace(/\D/g, "").length;
    return digits >= 7 && digits <= 15;
  }, "Must have 7 to 15 digits");

/** Control characters (C0, DEL): CR/LF in a stored URL ends up in emails and headers (contract v2: 400). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export const httpUrlField = z
  .string()
  // Checked before trim(): a URL padded with CR/LF is refused, not silently cleaned.
  .refine((value) => !CONTROL_CHARACTERS.test(value), "Must not contain control characters (CR, LF, tab ...)")
  .trim()
  .max(500)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "http:" || url.protocol === "https:") && url.hostname.length > 0;
    } catch {
      return false;
    }
  }, "Must be a valid http(s) URL");

export const MIN_HOURLY_RATE = 25;
export const MAX_HOURLY_RATE = 500;

export const hourlyRateField = z
  .number()
  .min(MIN_HOURLY_RATE, `Must be at least ${MIN_HOURLY_RATE}.00`)
  .max(MAX_HOURLY_RATE, `Must be at most ${MAX_HOURLY_RATE}.00`)
  .refine(
    (value) => Math.round(value * 100) === value * 100 || Math.abs(Math.round(value * 100) - value * 100) < 1e-6,
    "At most two decimals",
  );

/** Any ISO 4217-shaped code (report filters over stored data). */
export const isoCurrencyField = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{3}$/, "Must be a 3-letter ISO 4217 code")
  .transform((value) => value.toUpperCase());

/** A coach's currency (profile, import): contract v2 Money, one Stripe Checkout can charge in. */
export const currencyField = isoCurrencyField.refine(
  isStripeCurrency,
  "Must be a currency Stripe Checkout supports (ISO 4217, e.g. USD, EUR, JPY, KWD)",
);

/** Free-form list entries ("other" answers fit): trimmed, 1-100 chars, at most 20. */
export const freeTextItem = z.string().trim().min(1).max(100);
export const freeTextList = z.array(freeTextItem).max(20);

export const languageField = z
  .string()
  .transform((value, ctx) => {
    const canonical = canonicalLanguage(value);
    if (!canonical) {
      ctx.addIssue({
        code: "custom",
        message: `Unknown language "${value}"; use an English name such as Spanish or Mandarin Chinese`,
      });
      return z.NEVER;
    }
    return canonical;
  })
  .openapi({ type: "string", enum: [...LANGUAGES], example: "Spanish" });

/** A list of languages from the fixed list, canonicalised, de-duplicated. */
export const languageList = z
  .array(languageField)
  .max(20)
  .transform((values) => [...new Set(values)]);

export const emailField = z
  .string()
  .trim()
  .max(255)
  .email("Must be a valid email address")
  .transform((value) => value.toLowerCase())
  .openapi({ example: "ana@example.com" });
