/**
 * Data versions for the edge caches: one opaque token per section of public
 * data ("coaches", "bookings", "resources"), kept in KV and put into every
 * cache key that depends on that section. A write changes the token, so every
 * entry cached under the old token is simply never read again (nothing is
 * deleted), and a cache hit needs no database round trip to know it is valid.
 *
 * Who bumps: the database layer notes every table a request's statements
 * write (src/db/client.ts); after the request the database middleware bumps
 * the sections of those tables (SECTION_TABLES). So a new write path needs no
 * cache code of its own, and a statement that was sent is never missed (a
 * rolled-back write only costs a cache miss).
 *
 * Freshness (contract v2: at once where the change was made, everywhere
 * within 60 s):
 * - the isolate that made the write sees the new token at once (memo set
 *   before the response leaves);
 * - other isolates re-read the token after at most MEMO_MS, from KV read with
 *   cacheTtl KV_CACHE_TTL_SECONDS (KV's own minimum), so a change reaches
 *   every location within MEMO_MS + 30 s + KV propagation.
 */

export type Section = "coaches" | "bookings" | "resources";

/** The slice of a KV namespace this module uses (KVNamespace satisfies it). */
export interface VersionKv {
  get(key: string, options: { type: "text"; cacheTtl?: number }): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
}

/** Tables whose writes change a section (match the table names in a statement's SQL). */
export const SECTION_TABLES: Record<Section, readonly string[]> = {
  // app_counters holds the coaches_version every coach-affecting write path bumps already
  // (role changes, deactivation, deletion, imports, completed sessions); reviews change ratings.
  coaches: ["coach_profiles", "app_counters", "reviews"],
  // free slots: bookings take slots, a coach's availability (coach_profiles) makes them
  bookings: ["bookings", "coach_profiles"],
  resources: ["resources"],
};

export const MEMO_MS = 5_000;
/** KV's minimum cacheTtl. */
export const KV_CACHE_TTL_SECONDS = 30;

const memo = new Map<Section, { value: string; until: number }>();

const kvKey = (section: Section) => `ver:${section}`;

function newToken(nowMs: number): string {
  return `${nowMs.toString(36)}.${crypto.randomUUID().slice(0, 8)}`;
}

/** Sections touched by writes to `tables`. */
export function sectionsWritten(tables: Iterable<string>): Section[] {
  const written = new Set(tables);
  return (Object.keys(SECTION_TABLES) as Section[]).filter((section) =>
    SECTION_TABLES[section].some((table) => written.has(table)),
  );
}

/**
 * The section's current token. An unset token (fresh namespace) is created:
 * two isolates racing both write one, the last wins, and entries cached under
 * the other are missed once.
 */
export async function dataVersion(kv: VersionKv, section: Section, nowMs = Date.now()): Promise<string> {
  const cached = memo.get(section);
  if (cached && cached.until > nowMs) return cached.value;
  let value = await kv.get(kvKey(section), { type: "text", cacheTtl: KV_CACHE_TTL_SECONDS });
  if (!value) {
    value = newToken(nowMs);
    await kv.put(kvKey(section), value);
  }
  memo.set(section, { value, until: nowMs + MEMO_MS });
  return value;
}

/** The tokens of several sections joined, in a stable order: part of a cache key. */
export async function dataVersions(kv: VersionKv, sections: readonly Section[], nowMs = Date.now()): Promise<string> {
  const values = await Promise.all([...sections].sort().map((section) => dataVersion(kv, section, nowMs)));
  return values.join("+");
}

/**
 * New tokens for `sections`: visible in this isolate at once (before the
 * response leaves), in KV through the returned promise (hand it to waitUntil).
 */
export function bumpDataVersions(kv: VersionKv, sections: readonly Section[], nowMs = Date.now()): Promise<unknown> {
  const writes: Promise<void>[] = [];
  for (const section of sections) {
    const value = newToken(nowMs);
    // Held longer than a read memo: this isolate must not read back the older token that a
    // KV replica may still serve until the put has propagated (cacheTtl).
    memo.set(section, { value, until: nowMs + KV_CACHE_TTL_SECONDS * 1000 + MEMO_MS });
    writes.push(kv.put(kvKey(section), value));
  }
  return Promise.all(writes);
}

/** Tests and benchmarks: forget the isolate's memo. */
export function forgetDataVersions(): void {
  memo.clear();
}
