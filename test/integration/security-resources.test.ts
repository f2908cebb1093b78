/**
 * OWASP API4:2023 Unrestricted Resource Consumption — every list is bounded
 * (limit 1-100, skip >= 0, out of range -> 400) on every paginated operation
 * of the document; bodies are capped (JSON 1 MB, photos 5 MB, CSV imports
 * 20 MB -> 413); strings and lists in bodies are capped; a client holds at
 * most 3 unpaid bookings; match results and report ranges are bounded;
 * repeated filters cannot blow up a query. (Request rates: rate-limit tests.)
 */
import { afterAll, describe, expect, it } from "vitest";
import { listOperations, type OpenApiDocument } from "../../scripts/lib/openapi-fuzz.ts";
import { baseUrl, call, expectEnvelope, get, post, put } from "../helpers/api.ts";
import { book, slot } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(async () => {
  await closeTestPool();
});

const MB = 1024 * 1024;

async function tokensByRole(): Promise<Record<"client" | "coach" | "admin", TestUser>> {
  const [client, coach, admin] = await Promise.all([createClient(), createCoach(), createUser("admin")]);
  return { client, coach, admin };
}

/** A caller whose role may use the list: own lists need the owner, admin lists an admin. */
function callerFor(path: string, users: Record<"client" | "coach" | "admin", TestUser>): { token: string; path: string } {
  if (path.startsWith("/admin/")) return { token: users.admin.token, path };
  if (path.includes("{client_id}")) return { token: users.client.token, path: path.replace("{client_id}", users.client.id) };
  if (path.includes("{coach_id}")) return { token: users.coach.token, path: path.replace("{coach_id}", users.coach.id) };
  // A coach's public sub-list (reviews): the coach's id, read by a client.
  if (path.startsWith("/coaches/{id}")) return { token: users.client.token, path: path.replace("{id}", users.coach.id) };
  return { token: users.client.token, path };
}

describe("API4 pagination bounds on every paginated operation", () => {
  it("limit 101, 0, -1, 1e9, 'abc' and skip -1 are 400; limit 100 is served with at most 100 items", async () => {
    const doc = (await get("/openapi.json")).body as OpenApiDocument;
    const lists = listOperations(doc).filter(
      (operation) => operation.method === "GET" && operation.queryParams.some((parameter) => parameter.name === "limit"),
    );
    expect(lists.length).toBeGreaterThanOrEqual(8);
    const users = await tokensByRole();
    for (const operation of lists) {
      const { token, path } = callerFor(operation.path, users);
      for (const query of [
        "limit=101",
        "limit=0",
        "limit=-1",
        "limit=1000000000",
        "limit=abc",
        "skip=-1",
        "skip=abc",
        "limit=50.5",
      ]) {
        const result = await get(`${path}?${query}`, { token });
        expect(result.status, `${operation.key}?${query}: ${result.text.slice(0, 200)}`).toBe(400);
        expectEnvelope(result, 400, "VALIDATION_ERROR");
      }
      const max = await get(`${path}?limit=100`, { token });
      expect(max.status, `${operation.key}?limit=100: ${max.text.slice(0, 200)}`).toBe(200);
      expect(max.body.limit).toBe(100);
      expect(max.body.items.length).toBeLessThanOrEqual(100);
      const unspecified = await get(path, { token });
      expect(unspecified.body.limit, operation.key).toBe(20);
    }
  });
});

describe("API4 body size caps", () => {
  it("a JSON body over 1 MB is 413 on any JSON route, before authentication or parsing", async () => {
    const user = await createUser("client");
    const big = JSON.stringify({ title: "t", content: "x".repeat(MB + 100), post_type: "discussion" });
    for (const [method, path] of [
      ["POST", "/community/posts"],
      ["PUT", "/profile"],
      ["POST", "/auth/signup"],
      ["POST", "/booking"],
    ] as const) {
      expectEnvelope(
        await call(method, path, { token: user.token, rawBody: big, headers: { "content-type": "application/json" } }),
        413,
        "PAYLOAD_TOO_LARGE",
      );
    }
  });

  it("a body without Content-Length (streamed) over the cap is 413 as well", async () => {
    const user = await createUser("client");
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 20) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${baseUrl()}/community/posts`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` },
      body: stream,
      duplex: "half",
    } as RequestInit & { duplex: "half" });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("a photo over 5 MB is 413 and nothing is stored", async () => {
    const user = await createClient();
    const png = new Uint8Array(5 * MB + 10);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const form = new FormData();
    form.append("photo", new Blob([png], { type: "image/png" }), "big.png");
    const result = await call("POST", "/profile/photo", { token: user.token, rawBody: form });
    expect([413]).toContain(result.status);
    expectEnvelope(result, 413, "PAYLOAD_TOO_LARGE");
    const [row] = await query<{ photo_url: string | null }>("SELECT photo_url FROM client_profiles WHERE user_id = $1", [
      user.id,
    ]);
    expect(row?.photo_url ?? null).toBeNull();
  });

  it("a CSV import over 20 MB is 413", async () => {
    const admin = await createUser("admin");
    const header =
      "email,role,first_name,last_name,password_hash,phone,timezone,bio,hourly_rate,currency,languages,countries,expertise,created_at\n";
    const body = header + "x".repeat(20 * MB + 10);
    expectEnvelope(
      await call("POST", "/admin/import", { token: admin.token, rawBody: body, headers: { "content-type": "text/csv" } }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
  });
});

describe("API4 field caps", () => {
  it("over-long strings and over-long lists are 400", async () => {
    const user = await createUser("client");
    const coach = await createCoach();
    expectEnvelope(
      await post("/community/posts", { title: "t".repeat(201), content: "c", post_type: "discussion" }, { token: user.token }),
      400,
      "VALIDATION_ERROR",
    );
    expectEnvelope(
      await post("/community/posts", { title: "t", content: "c".repeat(20_001), post_type: "discussion" }, { token: user.token }),
      400,
      "VALIDATION_ERROR",
    );
    const created = await post("/community/posts", { title: "t", content: "c", post_type: "discussion" }, { token: user.token });
    expectEnvelope(
      await post(`/community/posts/${created.body.id}/comment`, { content: "c".repeat(5_001) }, { token: user.token }),
      400,
      "VALIDATION_ERROR",
    );
    expectEnvelope(
      await put("/profile", { expertise: Array.from({ length: 21 }, (_, i) => `topic ${i}`) }, { token: coach.token }),
      400,
      "VALIDATION_ERROR",
    );
    expectEnvelope(await put("/profile", { bio: "b".repeat(5_001) }, { token: coach.token }), 400, "VALIDATION_ERROR");
    expectEnvelope(await put("/profile", { first_name: "n".repeat(101) }, { token: coach.token }), 400, "VALIDATION_ERROR");
  });

  it("match results are capped at 50, report ranges at 366 days, metrics at 365 days", async () => {
    const client = await createClient();
    const admin = await createUser("admin");
    expectEnvelope(await post("/match", { limit: 51 }, { token: client.token }), 400, "VALIDATION_ERROR");
    expectEnvelope(await post("/match", { limit: 0 }, { token: client.token }), 400, "VALIDATION_ERROR");
    expectEnvelope(
      await get("/admin/revenue?start_date=2000-01-01&end_date=2030-01-01", { token: admin.token }),
      400,
      "VALIDATION_ERROR",
    );
    expectEnvelope(await get("/admin/metrics?days=100000", { token: admin.token }), 400, "VALIDATION_ERROR");
  });

  it("hundreds of repeated filters do not make a 5xx (bounded or refused)", async () => {
    const client = await createClient();
    const filters = Array.from({ length: 500 }, (_, i) => `language=Lang${i}`).join("&");
    const result = await get(`/coaches?${filters}`, { token: client.token });
    expect(result.status).toBeLessThan(500);
    if (result.status >= 400) expectEnvelope(result, 400, "VALIDATION_ERROR");
    const tags = Array.from({ length: 500 }, (_, i) => `t${i}`).join(",");
    const resources = await get(`/community/resources?tags=${tags}`, { token: client.token });
    expect(resources.status).toBeLessThan(500);
  });
});

describe("API4 booking holds", () => {
  it("a client holds at most 3 unpaid pending bookings; the 4th is 409 and not stored", async () => {
    const client = await createClient();
    const coach = await createCoach();
    const base = 1500 + Math.floor(Math.random() * 500);
    for (let i = 0; i < 3; i++) await book(client, coach, slot(base + i, 10));
    const fourth = await post(
      "/booking",
      { coach_id: coach.id, session_datetime: slot(base + 3, 10).toISOString(), duration_minutes: 60 },
      { token: client.token },
    );
    expectEnvelope(fourth, 409, "CONFLICT");
    const [{ n }] = (await query<{ n: string }>(
      "SELECT count(*) AS n FROM bookings WHERE client_id = $1 AND status = 'pending'",
      [client.id],
    )) as [{ n: string }];
    expect(n).toBe("3");
  });
});
