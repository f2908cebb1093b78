/**
 * POST /match, GET /match/cache/info, DELETE /match/cache as plain functions
 * over (db, KV, optional AI, now): candidate selection in SQL, the engine in
 * the Worker, and the two-level cache.
 *
 * Cache key: match:v1:<client user id>:<quiz hash>:<coaches version>. A quiz
 * change changes the hash, any coach change bumps the version: stale entries
 * are never read again and simply expire (nothing is deleted to invalidate).
 *
 * Levels (contract v2 "Edge data path"):
 * - the per-client KV entry (platform/match-pointer.ts) holds the matches,
 *   already serialised, and the coaches data version they were computed under
 *   (platform/edge-versions.ts); a hit is that one KV read, NO SQL and no JSON
 *   work on the matches (the answer is cut from the stored text, see
 *   matchResponseJson): the coaches version comes from the
 *   isolate's memo / KV, and the client's own quiz change deletes the entry
 *   (the database middleware, after any write of that client's profile);
 * - the match_cache row (one per client, durable, expires_at = now + 24 h,
 *   holds the key it was computed for) stays the authority behind it, with
 *   the KV entry under the same key holding its payload;
 * Round trips:
 * - edge hit:   0 SQL, 1 KV read (+ the coaches version, memoised per isolate);
 * - edge miss:  1 SQL (quiz_data + coaches version + the row's key/expiry in
 *               ONE statement) + 1 KV read; the edge entry is refilled;
 * - KV miss:    + 1 SQL (the row's payload), KV refilled after the response;
 * - cold:       1 SQL state + 1 SQL candidates + 1 SQL upsert (+ KV reads of
 *               cached coach embeddings when Workers AI is bound).
 * A change reaches the edge entry at once where it was made and within 60 s
 * everywhere (KV propagation); DELETE /match/cache removes the row and both
 * KV entries. Without `edge` in the deps (service tests, bench:match) every
 * request validates against the row, as before.
 */
import { and, eq, gt, sql } from "drizzle-orm";
import { matchCache } from "../../../drizzle/schema.ts";
import type { CoachListItem } from "../../contract/coaches.ts";
import type { Executor } from "../../db/client.ts";
import { badRequest } from "../../lib/errors.ts";
import { type Quiz, quizHash, quizSchema } from "../../lib/quiz.ts";
import { requireIso } from "../../lib/time.ts";
import { validationDetails } from "../../lib/validation.ts";
import { forgetClientMatches, type MatchPointer, readMatchPointer, writeMatchPointer } from "../../platform/match-pointer.ts";
import { toCoachListItem } from "../coaches.ts";
import { loadCandidates } from "./candidates.ts";
import { type Confidence, rankCoaches } from "./engine.ts";
import { type EmbeddingService, type EmbeddingStore, semanticScores } from "./semantic.ts";

export const MATCH_CACHE_TTL_SECONDS = 24 * 3600;
export const MAX_MATCH_LIMIT = 50;
/** KV refuses expirations closer than 60 s. */
const KV_MIN_TTL_SECONDS = 60;

export interface MatchItem {
  coach: CoachListItem;
  match_score: number;
  confidence: Confidence;
  match_reasons: string[];
}

/** What both cache levels store: the top MAX_MATCH_LIMIT, so any `limit` is served from it. */
export interface MatchPayload {
  cache_key: string;
  generated_at: string;
  matches: MatchItem[];
}

export interface MatchResponse {
  matches: MatchItem[];
  total_matches: number;
  cached: boolean;
  generated_at: string;
}

/** The slice of a KV namespace the match cache uses (KVNamespace satisfies it). */
export interface MatchKv extends EmbeddingStore {
  get(key: string, type: "text"): Promise<string | null>;
  get(keys: string[], type: "text"): Promise<Map<string, string | null>>;
  delete(key: string): Promise<void>;
}

export interface MatchDeps {
  db: Executor;
  kv: MatchKv;
  ai?: EmbeddingService;
  now: Date;
  /** Work after the response (ctx.waitUntil); awaited inline when absent. */
  defer?: (promise: Promise<unknown>) => void;
  log?: (message: string, error?: unknown) => void;
  /** The edge level: the coaches data version without SQL (platform/edge-versions.ts). */
  edge?: { coachesVersion(): Promise<string> };
}

export function matchCacheKey(clientId: string, hash: string, coachesVersion: number): string {
  return `match:v1:${clientId}:${hash}:${coachesVersion}`;
}

interface MatchState {
  storedQuiz: unknown;
  coachesVersion: number;
  rowKey: string | null;
  rowExpiresAt: Date | null;
}

/** ONE statement: the client's quiz_data, the coaches version, and the cache row's key and expiry. */
export async function readMatchState(db: Executor, clientId: string): Promise<MatchState> {
  const result = await db.execute<Record<string, unknown>>(sql`
    select (select quiz_data from client_profiles where user_id = ${clientId}) as quiz_data,
           coalesce((select value from app_counters where name = 'coaches_version'), 0) as coaches_version,
           mc.cache_key, mc.expires_at
      from (select 1) as one
      left join match_cache mc on mc.client_id = ${clientId}`);
  const row = (result.rows[0] ?? {}) as {
    quiz_data?: unknown;
    coaches_version?: unknown;
    cache_key?: string | null;
    expires_at?: string | Date | null;
  };
  return {
    storedQuiz: typeof row.quiz_data === "string" ? JSON.parse(row.quiz_data) : row.quiz_data,
    coachesVersion: Number(row.coaches_version ?? 0),
    rowKey: row.cache_key ?? null,
    rowExpiresAt: row.expires_at ? new Date(row.expires_at) : null,
  };
}

/** The quiz, or a 400 naming what is missing. */
function requireQuiz(stored: unknown): Quiz {
  const result = quizSchema.safeParse(stored ?? {});
  if (!result.success) {
    const empty = !stored || (typeof stored === "object" && Object.keys(stored as object).length === 0);
    throw badRequest(
      empty
        ? "Complete the matching quiz first: your profile has no quiz_data (PUT /profile with all 20 factors)"
        : "Your quiz_data is incomplete or invalid: all 20 matching factors are required (PUT /profile)",
      validationDetails(result.error.issues, "quiz_data"),
    );
  }
  return result.data;
}

async function currentKey(state: MatchState, clientId: string): Promise<string> {
  return matchCacheKey(clientId, await quizHash(state.storedQuiz), state.coachesVersion);
}

function isPayload(value: unknown, key: string): value is MatchPayload {
  return (
    !!value &&
    typeof value === "object" &&
    (value as MatchPayload).cache_key === key &&
    Array.isArray((value as MatchPayload).matches)
  );
}

function respond(payload: MatchPayload, limit: number, cached: boolean): MatchResponse {
  const matches = payload.matches.slice(0, limit);
  // As the previous backend: total_matches counts the matches in this answer.
  return { matches, total_matches: matches.length, cached, generated_at: payload.generated_at };
}

function later(deps: MatchDeps, promise: Promise<unknown>): Promise<unknown> | undefined {
  const safe = promise.catch((error: unknown) => deps.log?.("match cache KV write failed", error));
  if (deps.defer) {
    deps.defer(safe);
    return undefined;
  }
  return safe;
}

async function readKv(deps: MatchDeps, key: string): Promise<MatchPayload | undefined> {
  try {
    const text = await deps.kv.get(key, "text");
    if (!text) return undefined;
    const value: unknown = JSON.parse(text);
    return isPayload(value, key) ? value : undefined;
  } catch (error) {
    // A KV outage is a cache miss, not a failed request.
    deps.log?.("match cache KV read failed", error);
    return undefined;
  }
}

async function cachedPayload(deps: MatchDeps, clientId: string, key: string, expiresAt: Date): Promise<MatchPayload | undefined> {
  const fromKv = await readKv(deps, key);
  if (fromKv) return fromKv;
  const [row] = await deps.db
    .select({ results: matchCache.matchResults })
    .from(matchCache)
    .where(and(eq(matchCache.clientId, clientId), eq(matchCache.cacheKey, key), gt(matchCache.expiresAt, deps.now)))
    .limit(1);
  if (!row || !isPayload(row.results, key)) return undefined;
  const ttl = Math.floor((expiresAt.getTime() - deps.now.getTime()) / 1000);
  if (ttl >= KV_MIN_TTL_SECONDS) await later(deps, deps.kv.put(key, JSON.stringify(row.results), { expirationTtl: ttl }));
  return row.results;
}

/** The edge entry when it is valid for the current coaches version; also that version, read before any SQL. */
async function edgeLookup(
  deps: MatchDeps,
  clientId: string,
  useEntry: boolean,
  limit: number,
): Promise<{ pointer?: MatchPointer; version?: string }> {
  if (!deps.edge) return {};
  try {
    const [version, pointer] = await Promise.all([
      deps.edge.coachesVersion(),
      useEntry ? readMatchPointer(deps.kv, clientId, limit) : undefined,
    ]);
    const valid = pointer && pointer.v === version && pointer.exp > deps.now.getTime();
    return { version, pointer: valid ? pointer : undefined };
  } catch (error) {
    // A KV outage is a cache miss, not a failed request.
    deps.log?.("match edge cache read failed", error);
    return {};
  }
}

/**
 * The answer to an edge hit as JSON text, cut from the entry as stored: no
 * parsing or serialising of the matches. Same members, same order as
 * JSON.stringify(respond(...)).
 */
function respondFromPointer(pointer: MatchPointer, limit: number): string {
  const total = Math.min(limit, pointer.count);
  return `{"matches":[${pointer.firstMatchesJson(total)}],"total_matches":${total},"cached":true,"generated_at":${JSON.stringify(pointer.generated_at)}}`;
}

function storeEdge(
  deps: MatchDeps,
  clientId: string,
  version: string | undefined,
  at: number,
  payload: MatchPayload,
  expiresAt: Date,
) {
  if (!deps.edge || version === undefined) return undefined;
  const ttl = (expiresAt.getTime() - deps.now.getTime()) / 1000;
  return writeMatchPointer(
    deps.kv,
    clientId,
    { v: version, at, exp: expiresAt.getTime(), generated_at: payload.generated_at },
    payload.matches,
    ttl,
  );
}

/** POST /match, as the response object (service tests, bench:match). */
export async function matchForClient(
  deps: MatchDeps,
  clientId: string,
  options: { forceRefresh: boolean; limit: number },
): Promise<MatchResponse> {
  // Wall clock (not deps.now): compared with the invalidation times the middleware records.
  const startedAt = Date.now();
  const edge = await edgeLookup(deps, clientId, !options.forceRefresh, options.limit);
  if (edge.pointer) return JSON.parse(respondFromPointer(edge.pointer, options.limit)) as MatchResponse;
  return matchBehindEdge(deps, clientId, options, edge.version, startedAt);
}

/**
 * POST /match, as the response body's JSON text (the route): an edge hit is
 * one KV read and a string cut, the rest is matchForClient serialised.
 */
export async function matchResponseJson(
  deps: MatchDeps,
  clientId: string,
  options: { forceRefresh: boolean; limit: number },
): Promise<string> {
  const startedAt = Date.now();
  const edge = await edgeLookup(deps, clientId, !options.forceRefresh, options.limit);
  if (edge.pointer) return respondFromPointer(edge.pointer, options.limit);
  return JSON.stringify(await matchBehindEdge(deps, clientId, options, edge.version, startedAt));
}

/** Everything after an edge miss: the durable row / KV payload, or a fresh computation. */
async function matchBehindEdge(
  deps: MatchDeps,
  clientId: string,
  options: { forceRefresh: boolean; limit: number },
  edgeVersion: string | undefined,
  startedAt: number,
): Promise<MatchResponse> {
  const state = await readMatchState(deps.db, clientId);
  const quiz = requireQuiz(state.storedQuiz);
  const key = await currentKey(state, clientId);

  if (!options.forceRefresh && state.rowKey === key && state.rowExpiresAt && state.rowExpiresAt > deps.now) {
    const payload = await cachedPayload(deps, clientId, key, state.rowExpiresAt);
    if (payload) {
      const stored = storeEdge(deps, clientId, edgeVersion, startedAt, payload, state.rowExpiresAt);
      if (stored) later(deps, stored);
      return respond(payload, options.limit, true);
    }
  }

  const payload = await computeMatches(deps, quiz, key);
  const expiresAt = new Date(deps.now.getTime() + MATCH_CACHE_TTL_SECONDS * 1000);
  await deps.db
    .insert(matchCache)
    .values({ clientId, matchResults: payload, expiresAt, cacheKey: key, createdAt: deps.now })
    .onConflictDoUpdate({
      target: matchCache.clientId,
      set: { matchResults: payload, expiresAt, cacheKey: key, createdAt: deps.now },
    });
  // Awaited (not deferred): the very next request must find the entry, and a cold match is already ~100 ms.
  await Promise.all([
    deps.kv.put(key, JSON.stringify(payload), { expirationTtl: MATCH_CACHE_TTL_SECONDS }),
    storeEdge(deps, clientId, edgeVersion, startedAt, payload, expiresAt),
  ]).catch((error: unknown) => deps.log?.("match cache KV write failed", error));
  return respond(payload, options.limit, false);
}

/** Candidates from SQL, optional embeddings, the engine; the top MAX_MATCH_LIMIT as API items. */
export async function computeMatches(
  deps: Omit<MatchDeps, "kv"> & { kv?: MatchKv },
  quiz: Quiz,
  key: string,
): Promise<MatchPayload> {
  const candidates = await loadCandidates(deps.db, quiz);
  const semantic = await semanticScores(deps.ai, deps.kv, quiz, candidates, { defer: deps.defer, log: deps.log });
  // Reasons are written for the stored top MAX_MATCH_LIMIT only.
  const ranked = rankCoaches(quiz, candidates, { now: deps.now, semantic, explainTop: MAX_MATCH_LIMIT });
  const byId = new Map(candidates.map((candidate) => [candidate.id, candidate]));
  const matches = ranked.slice(0, MAX_MATCH_LIMIT).map((match) => ({
    // Every ranked id comes from the candidates.
    coach: toCoachListItem(byId.get(match.coachId)!),
    match_score: match.matchScore,
    confidence: match.confidence,
    match_reasons: match.reasons,
  }));
  return { cache_key: key, generated_at: requireIso(deps.now), matches };
}

export interface CacheInfo {
  cache_key: string | null;
  exists: boolean;
  ttl_seconds: number | null;
}

/** GET /match/cache/info: the caller's CURRENT key (null without a complete quiz), whether it is cached, and for how long. */
export async function matchCacheInfo(deps: Pick<MatchDeps, "db" | "now">, clientId: string): Promise<CacheInfo> {
  const state = await readMatchState(deps.db, clientId);
  if (!quizSchema.safeParse(state.storedQuiz ?? {}).success) return { cache_key: null, exists: false, ttl_seconds: null };
  const key = await currentKey(state, clientId);
  const exists = state.rowKey === key && !!state.rowExpiresAt && state.rowExpiresAt > deps.now;
  return {
    cache_key: key,
    exists,
    ttl_seconds: exists && state.rowExpiresAt ? Math.ceil((state.rowExpiresAt.getTime() - deps.now.getTime()) / 1000) : null,
  };
}

/** DELETE /match/cache: the row (the authority) and the KV entry it pointed to, in one SQL round trip. */
export async function clearMatchCache(deps: Pick<MatchDeps, "db" | "kv" | "log">, clientId: string): Promise<void> {
  try {
    await forgetClientMatches(deps.kv, clientId);
  } catch (error) {
    // This isolate already refuses the entry; elsewhere it lives until the next quiz or coach change.
    deps.log?.("match edge cache delete failed", error);
  }
  const deleted = await deps.db
    .delete(matchCache)
    .where(eq(matchCache.clientId, clientId))
    .returning({ key: matchCache.cacheKey });
  for (const { key } of deleted) {
    if (!key) continue;
    try {
      await deps.kv.delete(key);
    } catch (error) {
      // The row is gone, so the entry can no longer be served; it expires on its own.
      deps.log?.("match cache KV delete failed", error);
    }
  }
}
