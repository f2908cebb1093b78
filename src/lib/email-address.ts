/** Emails are compared case-insensitively (contract: "409 email taken (case-insensitive)"). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
