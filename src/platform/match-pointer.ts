/**
 * The per-client match entry in KV: `mp:<client user id>` holds the client's
 * latest match payload together with the coaches data version it was computed
 * under. A POST /match hit is this one KV read (plus the in-isolate coaches
 * version), no SQL: valid while the coaches version is unchanged and no write
 * to the client's profile happened after it was stored.
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

export interface MatchPointer<T> {
  /** coaches data version (edge-versions.ts) the payload was computed or checked under */
  v: string;
  /** ms since epoch (wall clock), when the state it reflects was read */
  at: number;
  /** ms since epoch (request clock), when the durable row expires: not served after it */
  exp: number;
  payload: T;
}

/** KV refuses expirations closer than 60 s. */
const KV_MIN_TTL_SECONDS = 60;
const MAX_REMEMBERED = 10_000;

/** client id -> ms of the client's last profile write seen by this isolate */
const invalidatedAt = new Map<string, number>();

const pointerKey = (clientId: string) => `mp:${clientId}`;

export async function readMatchPointer<T>(kv: PointerKv, clientId: string): Promise<MatchPointer<T> | undefined> {
  const text = await kv.get(pointerKey(clientId), "text");
  if (!text) return undefined;
  const pointer = JSON.parse(text) as MatchPointer<T>;
  if (typeof pointer.v !== "string" || typeof pointer.at !== "number" || typeof pointer.exp !== "number" || !pointer.payload)
    return undefined;
  const forgotten = invalidatedAt.get(clientId);
  if (forgotten !== undefined && pointer.at <= forgotten) return undefined;
  return pointer;
}

export async function writeMatchPointer<T>(
  kv: PointerKv,
  clientId: string,
  pointer: MatchPointer<T>,
  ttlSeconds: number,
): Promise<void> {
  if (ttlSeconds < KV_MIN_TTL_SECONDS) return;
  await kv.put(pointerKey(clientId), JSON.stringify(pointer), { expirationTtl: Math.floor(ttlSeconds) });
}

/** The client's entry is void from now on: here at once, in KV by the returned promise. */
export function forgetClientMatches(kv: PointerKv, clientId: string, nowMs = Date.now()): Promise<void> {
  if (invalidatedAt.size >= MAX_REMEMBERED) invalidatedAt.clear();
  invalidatedAt.set(clientId, nowMs);
  return kv.delete(pointerKey(clientId));
}
