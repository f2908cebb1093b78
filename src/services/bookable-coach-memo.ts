/**
 * What this isolate last read of a bookable coach (issue 14: POST /booking in one round trip).
 *
 * Booking a coach needs the coach's availability, rate and payout flags before the write: the
 * session is judged against the availability on the coach's wall clock in TypeScript (the one
 * implementation, shared with the free-slot listing). Reading them is a round trip of its own,
 * so the free-slot listing and every booking leave what they read here, and the next booking of
 * that coach in this isolate (typically: the client looked at the free slots, then books one)
 * judges by it and calls `booking_create_known_coach()` (migration 0016), which compares the
 * facts inside the transaction and answers 'coach_changed' when they differ. A stale entry thus
 * costs a round trip (the caller forgets it and reads the coach), never a wrong answer; a check
 * that fails on remembered facts is never answered from them either (the caller reads first).
 *
 * Per isolate, bounded and short-lived: nothing here is shared or needs invalidating.
 */

export interface BookableCoach {
  /** the coach's user id */
  userId: string;
  availability: unknown;
  hourlyRate: string | null;
  /** charges and payouts enabled at Stripe (PAYOUTS_REQUIRED) */
  canReceivePayouts: boolean | null;
}

/**
 * How long a read stays usable. Correctness does not depend on it (the function re-checks);
 * it bounds how long a changed coach can cost its bookings here the extra attempt.
 */
export const BOOKABLE_COACH_TTL_MS = 5 * 60_000;
/** Entries kept per isolate (oldest first out); a coach is a few hundred bytes. */
const MAX_ENTRIES = 2_000;

const remembered = new Map<string, { coach: BookableCoach; at: number }>();

/** Keeps what a read returned, under the reference it was read by and under the user id. */
export function rememberBookableCoach(reference: string, coach: BookableCoach, now: Date): void {
  for (const key of new Set([reference, coach.userId])) {
    remembered.delete(key); // re-inserted last: the Map's order is the eviction order
    remembered.set(key, { coach, at: now.getTime() });
  }
  while (remembered.size > MAX_ENTRIES) {
    const oldest = remembered.keys().next();
    if (oldest.done) break;
    remembered.delete(oldest.value);
  }
}

/** The coach last read by this reference within the TTL, if any. */
export function recallBookableCoach(reference: string, now: Date): BookableCoach | undefined {
  const entry = remembered.get(reference);
  if (!entry) return undefined;
  if (now.getTime() - entry.at > BOOKABLE_COACH_TTL_MS || now.getTime() < entry.at) {
    remembered.delete(reference);
    return undefined;
  }
  return entry.coach;
}

/** Drops a coach whose remembered facts turned out stale (under every key it was kept by). */
export function forgetBookableCoach(reference: string): void {
  const userId = remembered.get(reference)?.coach.userId ?? reference;
  remembered.delete(reference);
  // Also the other reference (profile id or user id) it was kept under; rare, and the Map is bounded.
  for (const [key, entry] of remembered) if (entry.coach.userId === userId) remembered.delete(key);
}
