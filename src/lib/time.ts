/** ISO-8601 UTC with a `Z` and no milliseconds, the contract's timestamp format. */
export function isoUtc(date: Date | string | null | undefined): string | null {
  if (date === null || date === undefined) return null;
  const value = typeof date === "string" ? new Date(date) : date;
  return value.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function requireIso(date: Date | string): string {
  return isoUtc(date) as string;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
