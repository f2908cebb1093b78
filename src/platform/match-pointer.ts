/**
 * The per-client match entry in KV: `mp2:<client user id>` holds the client's
 * latest matches, already serialised, together with the coaches data version
 * they were computed under. A POST /match hit is this one KV read (plus the
 * in-isolate coaches version), no SQL: valid while the coaches version is
 * unchanged and no write to the client's profile happened after it was stored.
 *
 * Two entries, written together: `mp2:<id>` with the first HEAD_MATCHES
 * (the default `limit`, ~6 KB) and, when there are more, `mp2all:<id>` with
 * all of them (~30 KB): the common hit reads the small one only.
 *
 * Format (so that a hit costs string slicing, not JSON work on the list): one
 * line of JSON with the entry's metadata and the end offset of every match,
 * a newline (JSON.stringify never emits a raw one), then the matches' JSON
 * joined by commas. A hit parses the short first line only and cuts the first
 * `limit` matches out of the rest as they were serialised when computed.
 *
 * Invalidation of the client's own changes (quiz): the database middleware
 * calls forgetClientMatches() after any request of that client that wrote
 * client_profiles: the KV entry is deleted (visible at once in that location)
 * and this isolate remembers the time, so an older entry still served by a
 * KV replica is refused here too.
 */

export interface PointerKv {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface MatchPointerMeta {
  /** coaches data version (edge-versions.ts) the matches were computed or checked under */
  v: string;
  /** ms since epoch (wall clock), when the state it reflects was read */
  at: number;
  /** ms since epoch (request clock), when the durable row expires: not served after it */
  exp: number;
  /** when the matches were computed (ISO), echoed in the answer */
  generated_at: string;
}

export interface MatchPointer extends MatchPointerMeta {
  /** All computed matches are in this entry (not only the head). */
  complete: boolean;
  /** Number of stored matches. */
  count: number;
  /** The JSON of the first `n` stored matches, comma-separated (no brackets); n is capped at `count`. */
  firstMatchesJson(n: number): string;
}

interface StoredMeta extends MatchPointerMeta {
  /** end offset (exclusive) of each match's JSON in the body */
  ends: number[];
  /** false in a head entry that has fewer matches than were computed */
  complete: boolean;
}

/** Matches in the head entry: POST /match's default limit. */
export const HEAD_MATCHES = 10;

/** KV refuses expirations closer than 60 s. */
const KV_MIN_TTL_SECONDS = 60;
const MAX_REMEMBERED = 10_000;

/** client id -> ms of the client's last profile write seen by this isolate */
const invalidatedAt = new Map<string, number>();

// "mp2": the serialised format; entries of the earlier all-JSON format (under "mp:") are simply never read.
const pointerKey = (clientId: string) => `mp2:${clientId}`;
const fullKey = (clientId: string) => `mp2all:${clientId}`;

export function encodeMatchPointer(meta: MatchPointerMeta, matches: readonly unknown[], complete = true): string {
  const parts = matches.map((match) => JSON.stringify(match));
  const ends: number[] = [];
  let offset = -1;
  for (const part of parts) {
    offset += 1 + part.length;
    ends.push(offset);
  }
  const header: StoredMeta = { v: meta.v, at: meta.at, exp: meta.exp, generated_at: meta.generated_at, ends, complete };
  return `${JSON.stringify(header)}\n${parts.join(",")}`;
}

export function decodeMatchPointer(text: string): MatchPointer | undefined {
  const newline = text.indexOf("\n");
  if (newline < 0) return undefined;
  const meta = JSON.parse(text.slice(0, newline)) as Partial<StoredMeta>;
  const { v, at, exp, generated_at: generatedAt, ends, complete } = meta;
  if (typeof v !== "string" || typeof at !== "number" || typeof exp !== "number" || typeof generatedAt !== "string")
    return undefined;
  if (!Array.isArray(ends)) return undefined;
  const start = newline + 1;
  // A truncated or foreign entry is a miss, not a malformed answer.
  if (text.length - start !== (ends.length === 0 ? 0 : ends[ends.length - 1])) return undefined;
  return {
    v,
    at,
    exp,
    generated_at: generatedAt,
    complete: complete !== false,
    count: ends.length,
    firstMatchesJson: (n) => {
      const taken = Math.min(n, ends.length);
      return taken <= 0 ? "" : text.slice(start, start + ends[taken - 1]!);
    },
  };
}

/** The client's entry with at least `limit` matches (or all there are); a second KV read only past the head. */
export async function readMatchPointer(kv: PointerKv, clientId: string, limit: number): Promise<MatchPointer | undefined> {
  const text = await kv.get(pointerKey(clientId), "text");
  if (!text) return undefined;
  const head = decodeMatchPointer(text);
  if (!head) return undefined;
  const forgotten = invalidatedAt.get(clientId);
  if (forgotten !== undefined && head.at <= forgotten) return undefined;
  if (head.complete || limit <= head.count) return head;
  const fullText = await kv.get(fullKey(clientId), "text");
  const full = fullText ? decodeMatchPointer(fullText) : undefined;
  // Only the full entry written together with this head (a KV replica may lag on one of them).
  return full && full.at === head.at && full.v === head.v && full.complete ? full : undefined;
}

export async function writeMatchPointer(
  kv: PointerKv,
  clientId: string,
  meta: MatchPointerMeta,
  matches: readonly unknown[],
  ttlSeconds: number,
): Promise<void> {
  if (ttlSeconds < KV_MIN_TTL_SECONDS) return;
  const options = { expirationTtl: Math.floor(ttlSeconds) };
  if (matches.length <= HEAD_MATCHES) {
    await kv.put(pointerKey(clientId), encodeMatchPointer(meta, matches), options);
    return;
  }
  // The full entry first: a head is never visible here before its full entry.
  await kv.put(fullKey(clientId), encodeMatchPointer(meta, matches), options);
  await kv.put(pointerKey(clientId), encodeMatchPointer(meta, matches.slice(0, HEAD_MATCHES), false), options);
}

/** The client's entry is void from now on: here at once, in KV by the returned promise. */
export function forgetClientMatches(kv: PointerKv, clientId: string, nowMs = Date.now()): Promise<void> {
  if (invalidatedAt.size >= MAX_REMEMBERED) invalidatedAt.clear();
  invalidatedAt.set(clientId, nowMs);
  // The head is what makes an entry servable; the full one is deleted too so it cannot pair with a later head.
  return Promise.all([kv.delete(pointerKey(clientId)), kv.delete(fullKey(clientId))]).then(() => undefined);
}
