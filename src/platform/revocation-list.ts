/**
 * The revocation list in KV: one value, `{ "<user id>": <unix seconds>, ... }`,
 * holding every user's latest revocation mark of the last MARK_TTL_SECONDS
 * (access tokens live 24 h, so an older mark revokes nothing still valid).
 *
 * Why one value and not a key per user: the per-location rate-limit mode
 * checks the mark on every authenticated request. With a key per user, an
 * isolate pays one KV read per user per memo period, which for the usual
 * sparse traffic (a user's requests minutes apart) is one KV read on almost
 * every request, as much as the whole one-KV-read floor (BENCHMARKS.md, edge
 * suite). With one value it pays one read per memo period for all users.
 * Revocations are rare (deactivation, deletion, role change, password reset),
 * so the value stays small; it is written only by the revocation list Durable
 * Object (durable/rate-limiter.ts `publishRevocation`), which serialises the
 * writers.
 */

export const REVOCATION_LIST_KEY = "rev:list";
/** The Durable Object (RateLimiter class) that owns the list. */
export const REVOCATION_LIST_OBJECT = "revocation-list";
/** Access tokens live 24 h: a mark older than that (plus a margin) revokes nothing that could still be valid. */
export const MARK_TTL_SECONDS = 25 * 3600;
/** How long an isolate trusts the list it read; with KV's 30 s cacheTtl a revocation reaches every location within 60 s. */
export const REVOCATION_MEMO_MS = 25_000;
/** KV's minimum cacheTtl. */
export const KV_CACHE_TTL_SECONDS = 30;

/** The slice of KV the list reader uses (KVNamespace satisfies it). */
export interface RevocationKv {
  get(key: string, options: { type: "text"; cacheTtl?: number }): Promise<string | null>;
}

let memo: { marks: Map<string, number>; until: number } | undefined;
/** One read in flight per isolate: the requests arriving when the memo ends share it. */
let loading: Promise<Map<string, number>> | undefined;

function parseList(text: string | null): Map<string, number> {
  const marks = new Map<string, number>();
  if (!text) return marks;
  const parsed = JSON.parse(text) as Record<string, unknown>;
  for (const [user, before] of Object.entries(parsed)) if (typeof before === "number") marks.set(user, before);
  return marks;
}

/** The published list as this isolate knows it (read from KV at most once per REVOCATION_MEMO_MS). */
export async function revocationList(kv: RevocationKv | undefined, nowMs = Date.now()): Promise<Map<string, number>> {
  if (memo && memo.until > nowMs) return memo.marks;
  if (!kv) return new Map();
  loading ??= kv
    .get(REVOCATION_LIST_KEY, { type: "text", cacheTtl: KV_CACHE_TTL_SECONDS })
    .then((text) => {
      const marks = parseList(text);
      memo = { marks, until: nowMs + REVOCATION_MEMO_MS };
      return marks;
    })
    .finally(() => {
      loading = undefined;
    });
  return loading;
}

/** Tests: forget the isolate's copy of the list. */
export function forgetRevocationList(): void {
  memo = undefined;
}
