/**
 * The optional semantic part: embeddings through a Workers-AI-shaped
 * binding, coach vectors cached in KV by profile id + updated_at, and the
 * fallback (undefined -> lexical only) on failure or after the deadline.
 */
import { describe, expect, it } from "vitest";
import { quizSchema } from "../../src/lib/quiz.ts";
import {
  coachEmbeddingKey,
  cosine,
  EMBEDDING_MODEL,
  type EmbeddingService,
  type EmbeddingStore,
  type SemanticCoach,
  scaleCosine,
  semanticScores,
} from "../../src/services/matching/semantic.ts";

const quiz = quizSchema.parse({
  target_countries: ["Spain"],
  cultural_goals: ["feel at home in a new culture"],
  preferred_languages: ["English"],
  industry: "finance",
  family_status: "single",
  previous_expat_experience: true,
  timeline_urgency: 3,
  budget_range: { min: 50, max: 100 },
  coaching_style: "collaborative",
  specific_challenges: ["career restart"],
  home_country: "Germany",
  current_country: "Spain",
  relocation_stage: "recently_arrived",
  career_level: "mid_career",
  communication_style: "direct",
  preferred_session_duration: 60,
  session_frequency: "monthly",
  preferred_times: ["morning"],
  timezone: "Europe/Madrid",
  languages_learning: [],
});

/** A toy embedding: 3 dimensions counting "culture"/"home", "career"/"job", and everything else. */
function toyVector(text: string): number[] {
  const lower = text.toLowerCase();
  const count = (words: string[]) => words.reduce((sum, word) => sum + (lower.split(word).length - 1), 0);
  return [count(["culture", "home"]), count(["career", "job"]), 0.2];
}

class FakeAi implements EmbeddingService {
  calls: string[][] = [];
  constructor(private readonly behaviour: "ok" | "fail" | "slow" | "garbage" = "ok") {}
  async run(model: string, input: { text: string[] }) {
    expect(model).toBe(EMBEDDING_MODEL);
    this.calls.push(input.text);
    if (this.behaviour === "fail") throw new Error("AI unavailable");
    if (this.behaviour === "slow") await new Promise((resolve) => setTimeout(resolve, 500));
    if (this.behaviour === "garbage") return { shape: [1], data: [[1]] };
    return { shape: [input.text.length, 3], data: input.text.map(toyVector) };
  }
}

class FakeKv implements EmbeddingStore {
  store = new Map<string, string>();
  async get(keys: string[]): Promise<Map<string, string | null>> {
    return new Map(keys.map((key) => [key, this.store.get(key) ?? null]));
  }
  async put(key: string, value: string): Promise<void> {
    this.store.set(key, value);
  }
}

const coaches: SemanticCoach[] = [
  {
    id: "culture",
    updatedAt: new Date("2026-01-01T00:00:00Z"),
    bio: "Making a new culture feel like home.",
    expertise: ["Culture shock", "Feeling at home in a new culture"],
  },
  {
    id: "career",
    updatedAt: new Date("2026-01-01T00:00:00Z"),
    bio: "Job search and career restarts.",
    expertise: ["Career change", "Job search"],
  },
];

describe("semantic scores", () => {
  it("scores goals and challenges against each coach's text", async () => {
    const scores = await semanticScores(new FakeAi(), new FakeKv(), quiz, coaches);
    expect(scores).toBeDefined();
    expect(scores!.get("culture")!.goals).toBeGreaterThan(scores!.get("career")!.goals);
    expect(scores!.get("career")!.challenges).toBeGreaterThan(scores!.get("culture")!.challenges);
    for (const value of scores!.values()) {
      for (const part of [value.goals, value.challenges]) {
        expect(part).toBeGreaterThanOrEqual(0);
        expect(part).toBeLessThanOrEqual(1);
      }
    }
  });

  it("caches coach embeddings in KV by profile id + updated_at: unchanged coaches are not embedded again", async () => {
    const kv = new FakeKv();
    const ai = new FakeAi();
    const deferred: Promise<unknown>[] = [];
    await semanticScores(ai, kv, quiz, coaches, { defer: (promise) => deferred.push(promise) });
    await Promise.all(deferred);
    expect([...kv.store.keys()].sort()).toEqual(coaches.map(coachEmbeddingKey).sort());
    expect(ai.calls[0]).toHaveLength(2 + coaches.length);

    const again = await semanticScores(ai, kv, quiz, coaches);
    expect(ai.calls[1]).toHaveLength(2); // only the client's two texts
    expect(again!.get("culture")!.goals).toBeCloseTo(
      (await semanticScores(new FakeAi(), undefined, quiz, coaches))!.get("culture")!.goals,
      5,
    );

    // a profile change (new updated_at) is embedded afresh
    const changed = [
      { ...coaches[0]!, updatedAt: new Date("2026-02-01T00:00:00Z"), expertise: ["Now only job interviews."] },
      coaches[1]!,
    ];
    await semanticScores(ai, kv, quiz, changed);
    expect(ai.calls[2]).toEqual(expect.arrayContaining([expect.stringContaining("Now only job interviews.")]));
    expect(ai.calls[2]).toHaveLength(3);
  });

  it("falls back (undefined) when the model fails, answers garbage, or exceeds the deadline", async () => {
    const logged: string[] = [];
    const log = (message: string) => logged.push(message);
    expect(await semanticScores(new FakeAi("fail"), new FakeKv(), quiz, coaches, { log })).toBeUndefined();
    expect(await semanticScores(new FakeAi("garbage"), new FakeKv(), quiz, coaches, { log })).toBeUndefined();
    const started = Date.now();
    expect(await semanticScores(new FakeAi("slow"), new FakeKv(), quiz, coaches, { timeoutMs: 50, log })).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(400);
    expect(logged.length).toBe(3);
    expect(logged[2]).toContain("timed out");
  });

  it("is skipped without a binding or without candidates", async () => {
    expect(await semanticScores(undefined, new FakeKv(), quiz, coaches)).toBeUndefined();
    const ai = new FakeAi();
    expect(await semanticScores(ai, new FakeKv(), quiz, [])).toBeUndefined();
    expect(ai.calls).toHaveLength(0);
  });

  it("maps cosine similarity onto [0, 1]", () => {
    expect(cosine([1, 0], [1, 0])).toBeCloseTo(1);
    expect(cosine([1, 0], [0, 1])).toBeCloseTo(0);
    expect(cosine([0, 0], [1, 1])).toBe(0);
    expect(scaleCosine(0.2)).toBe(0);
    expect(scaleCosine(0.95)).toBe(1);
    expect(scaleCosine(0.65)).toBeGreaterThan(0);
    expect(scaleCosine(0.65)).toBeLessThan(1);
  });
});
