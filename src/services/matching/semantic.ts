/**
 * The semantic part of matching (optional): text embeddings of the client's
 * goals and challenges against each coach's expertise (not the bio, see coachText), when a Workers
 * AI binding is configured. Coach embeddings are cached in KV under the
 * profile id and its updated_at, so a profile change re-embeds naturally and
 * an unchanged coach is never embedded twice.
 *
 * Any failure, or no answer within the deadline (10 s), yields `undefined`:
 * the engine then runs on its lexical similarity alone and the request still
 * answers 200.
 */
import type { Quiz } from "../../lib/quiz.ts";
import type { SemanticScores } from "./engine.ts";

export const EMBEDDING_MODEL = "@cf/baai/bge-base-en-v1.5";
export const SEMANTIC_TIMEOUT_MS = 10_000;
/** Workers AI embeds at most 100 texts per call; KV bulk reads take at most 100 keys. */
const BATCH = 100;
const EMBEDDING_TTL_SECONDS = 30 * 24 * 3600;
const MAX_TEXT = 2000;

/**
 * bge cosine similarities of unrelated English sentences sit around 0.3-0.5,
 * paraphrases around 0.8-0.9: map [FLOOR, CEILING] linearly onto [0, 1].
 */
export const COSINE_FLOOR = 0.45;
export const COSINE_CEILING = 0.85;

/** The slice of the Workers AI binding this module uses (text embedding models). */
export interface EmbeddingService {
  run(model: string, input: { text: string[] }): Promise<{ data?: number[][] } | unknown>;
}

/** The slice of a KV namespace this module uses. */
export interface EmbeddingStore {
  get(keys: string[], type: "text"): Promise<Map<string, string | null>>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
}

export interface SemanticCoach {
  id: string;
  updatedAt: Date;
  bio: string | null;
  expertise: readonly string[];
}

export interface SemanticOptions {
  timeoutMs?: number;
  /** Runs a promise after the response (ctx.waitUntil); cache writes go through it. */
  defer?: (promise: Promise<unknown>) => void;
  log?: (message: string, error?: unknown) => void;
}

export function coachEmbeddingKey(coach: SemanticCoach): string {
  return `emb:v2:${coach.id}:${coach.updatedAt.getTime()}`;
}

/**
 * What a coach's vector is computed from: the structured expertise only (v2). A bio is free
 * text where anyone can repeat a quiz's words, and an embedding rewards such repetition as
 * much as real expertise; the bio still counts lexically, at the lower bio weight.
 */
export function coachText(coach: SemanticCoach): string {
  return coach.expertise.join(", ").slice(0, MAX_TEXT);
}

function encodeVector(vector: number[]): string {
  const bytes = new Uint8Array(new Float32Array(vector).buffer);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function decodeVector(text: string): number[] | undefined {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return [...new Float32Array(bytes.buffer)];
  } catch {
    return undefined;
  }
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

export function scaleCosine(value: number): number {
  return Math.max(0, Math.min(1, (value - COSINE_FLOOR) / (COSINE_CEILING - COSINE_FLOOR)));
}

async function embed(ai: EmbeddingService, texts: string[]): Promise<number[][]> {
  const vectors: number[][] = [];
  for (let start = 0; start < texts.length; start += BATCH) {
    const batch = texts.slice(start, start + BATCH);
    const output = (await ai.run(EMBEDDING_MODEL, { text: batch })) as { data?: unknown };
    const data = output?.data;
    if (!Array.isArray(data) || data.length !== batch.length || !data.every((row) => Array.isArray(row) && row.length > 0)) {
      throw new Error("embedding model returned an unexpected shape");
    }
    vectors.push(...(data as number[][]));
  }
  return vectors;
}

async function computeScores(
  ai: EmbeddingService,
  store: EmbeddingStore | undefined,
  quiz: Quiz,
  coaches: readonly SemanticCoach[],
  options: SemanticOptions,
): Promise<Map<string, SemanticScores>> {
  const keys = coaches.map(coachEmbeddingKey);
  const cached = new Map<string, number[]>();
  if (store) {
    for (let start = 0; start < keys.length; start += BATCH) {
      const found = await store.get(keys.slice(start, start + BATCH), "text");
      for (const [key, value] of found) {
        const vector = value ? decodeVector(value) : undefined;
        if (vector) cached.set(key, vector);
      }
    }
  }
  const missing = coaches.filter((_, index) => !cached.has(keys[index]!));
  const clientTexts = [quiz.cultural_goals.join("; "), quiz.specific_challenges.join("; ")];
  // The client's two texts ride in the first batch with the uncached coaches (one call for <= 98 coaches).
  const vectors = await embed(ai, [...clientTexts, ...missing.map(coachText)]);
  const [goalsVector, challengesVector] = vectors as [number[], number[]];
  const writes: Promise<unknown>[] = [];
  missing.forEach((coach, index) => {
    const vector = vectors[index + 2]!;
    const key = coachEmbeddingKey(coach);
    cached.set(key, vector);
    if (store)
      writes.push(
        store
          .put(key, encodeVector(vector), { expirationTtl: EMBEDDING_TTL_SECONDS })
          .catch((error) => options.log?.("embedding cache write failed", error)),
      );
  });
  if (writes.length > 0) options.defer?.(Promise.all(writes));

  const scores = new Map<string, SemanticScores>();
  coaches.forEach((coach, index) => {
    const vector = cached.get(keys[index]!);
    if (!vector) return;
    scores.set(coach.id, {
      goals: scaleCosine(cosine(goalsVector, vector)),
      challenges: scaleCosine(cosine(challengesVector, vector)),
    });
  });
  return scores;
}

/**
 * Semantic scores per coach id, or undefined when there is no AI binding, the
 * model fails, or it does not answer within the deadline.
 */
export async function semanticScores(
  ai: EmbeddingService | undefined,
  store: EmbeddingStore | undefined,
  quiz: Quiz,
  coaches: readonly SemanticCoach[],
  options: SemanticOptions = {},
): Promise<Map<string, SemanticScores> | undefined> {
  if (!ai || coaches.length === 0) return undefined;
  const timeoutMs = options.timeoutMs ?? SEMANTIC_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      options.log?.(`semantic matching timed out after ${timeoutMs} ms; lexical only`);
      resolve(undefined);
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      computeScores(ai, store, quiz, coaches, options).catch((error: unknown) => {
        options.log?.("semantic matching failed; lexical only", error);
        return undefined;
      }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
