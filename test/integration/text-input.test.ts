/**
 * Contract v2 "Text input": a NUL byte or an unpaired surrogate in any query
 * parameter or JSON body string is a 400 VALIDATION_ERROR (never a 500), and
 * changes nothing. Before the text-input middleware these reached Postgres
 * ("invalid byte sequence for encoding UTF8: 0x00") and answered 500.
 */
import { afterAll, describe, expect, it } from "vitest";
import { call, expectEnvelope, get } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const NUL = "\u0000";
const LONE_HIGH = "\ud800";
const LONE_LOW = "\udc00";

/** JSON.stringify keeps lone surrogates as \ud800 escapes and NUL as \u0000: the wire form an attacker sends. */
function rawJson(value: unknown): string {
  return JSON.stringify(value);
}

describe("text input: NUL and unpaired surrogates", () => {
  it("query filters with %00 answer 400 on every list that takes text filters", async () => {
    const admin = await createUser("admin");
    const client = await createClient();
    for (const [path, token] of [
      ["/coaches?language=Span%00ish", client.token],
      ["/coaches?country=Spa%00in", client.token],
      ["/coaches?expertise=%00", client.token],
      ["/community/resources?q=visa%00", client.token],
      ["/community/resources?tags=a%00b", client.token],
      ["/admin/users?search=%00", admin.token],
    ] as const) {
      const result = await get(path, { token });
      const body = expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(body.details.location, path).toBe("query");
    }
  });

  it("body strings with NUL or a lone surrogate answer 400 and store nothing", async () => {
    const coach = await createCoach();
    const before = await query<{ n: string }>(`SELECT count(*)::text AS n FROM posts WHERE author_id = $1`, [coach.id]);
    const cases: Array<[string, string, unknown]> = [
      ["POST", "/auth/signup", { email: `nul${NUL}@example.com`, password: "Str0ng!Passw0rd", role: "client" }],
      ["POST", "/auth/login", { email: `x${LONE_HIGH}@example.com`, password: "whatever" }],
      ["PUT", "/profile", { first_name: `Ana${NUL}` }],
      ["PUT", "/profile", { bio: `Bio ${LONE_LOW} text` }],
      ["PUT", "/profile", { expertise: ["visas", `culture${NUL}`] }],
      ["POST", "/community/posts", { title: `Hello${NUL}`, content: "x", post_type: "discussion" }],
      ["POST", "/community/posts", { title: "Hello", content: `x${LONE_HIGH}`, post_type: "discussion" }],
      ["POST", "/community/posts", { title: "Hello", content: "x", post_type: "discussion", [`k${NUL}`]: 1 }],
    ];
    for (const [method, path, body] of cases) {
      const result = await call(method, path, {
        token: coach.token,
        rawBody: rawJson(body),
        headers: { "content-type": "application/json" },
      });
      const envelope = expectEnvelope(result, 400, "VALIDATION_ERROR");
      expect(envelope.details.location, `${method} ${path}`).toBe("body");
    }
    const after = await query<{ n: string }>(`SELECT count(*)::text AS n FROM posts WHERE author_id = $1`, [coach.id]);
    expect(after[0]?.n).toBe(before[0]?.n);
    const [profile] = await query<{ first_name: string | null; bio: string | null }>(
      `SELECT first_name, bio FROM coach_profiles WHERE user_id = $1`,
      [coach.id],
    );
    expect(profile?.first_name ?? "").not.toContain(NUL);
  });

  it("well-formed text outside the BMP (paired surrogates, emoji) is accepted", async () => {
    const coach = await createCoach();
    const result = await call("POST", "/community/posts", {
      token: coach.token,
      rawBody: rawJson({ title: "Moving to Japan 🇯🇵", content: "𝒜 paired surrogate pair: 😀", post_type: "discussion" }),
      headers: { "content-type": "application/json" },
    });
    expect(result.status, result.text).toBe(201);
    expect(result.body.title).toBe("Moving to Japan 🇯🇵");
  });
});
