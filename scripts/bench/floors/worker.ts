/**
 * The benchmark floors (BENCHMARKS.md): a bare Worker, no framework, no
 * middleware, so that "ratio to the floor" shows what the API's chain and
 * handlers add:
 * - GET /constant: a constant JSON answer;
 * - GET /kv: one KV read (a small value that exists);
 * - GET /db: one query by the most direct path: a node-postgres Client over
 *   the Hyperdrive binding (connect, `select 1`, end after the response).
 * Bundled and served by scripts/bench.ts with a generated wrangler config.
 */
import pg from "pg";

interface Env {
  KV: KVNamespace;
  HYPERDRIVE?: Hyperdrive;
}

// Not exported: every named export of a Worker module must be a handler.
const FLOOR_KV_KEY = "floor:probe";

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/constant") return Response.json({ status: "ok" });
    if (path === "/kv") return Response.json({ found: (await env.KV.get(FLOOR_KV_KEY, "text")) !== null });
    if (path === "/db" && env.HYPERDRIVE) {
      const client = new pg.Client({ connectionString: env.HYPERDRIVE.connectionString });
      await client.connect();
      const result = await client.query<{ one: number }>("select 1 as one");
      ctx.waitUntil(client.end());
      return Response.json({ result: result.rows[0]?.one ?? 0 });
    }
    if (path === "/health") return Response.json({ status: "healthy" });
    if (path === "/seed" && request.method === "POST") {
      await env.KV.put(FLOOR_KV_KEY, "1");
      return Response.json({ ok: true });
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
