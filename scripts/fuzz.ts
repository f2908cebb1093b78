/**
 * `npm run fuzz`: the long property-based fuzz run (the bounded one runs in
 * `npm test`, test/integration/fuzz.test.ts). It starts its own stack — a
 * database (TEST_DATABASE_URL, else an in-memory PGlite), the WebSocket proxy,
 * the fake Stripe and the Worker in wrangler dev with the test vars — builds
 * a world of real users and content, then sends requests generated from
 * /openapi.json and checks every answer (see scripts/lib/openapi-fuzz.ts).
 *
 *   npm run fuzz                       20,000 requests, 8 at a time
 *   npm run fuzz -- --requests 5000 --concurrency 4 --seed 42
 *
 * Prints the figures (requests, operations covered, status histogram, 5xx)
 * and every finding with a curl line to reproduce it; exits 1 on any error
 * finding (a 5xx, a non-envelope 4xx, an undocumented or mis-shaped 2xx).
 */
import { parseArgs } from "node:util";
import fc from "fast-check";
import pg from "pg";
import { startApiStack, TEST_JWT_SECRET } from "../test/helpers/stack.ts";
import {
  anyRequestArbitrary,
  buildWorld,
  FuzzStats,
  listOperations,
  type OpenApiDocument,
  ResponseValidator,
  runPlans,
  type SqlQuery,
} from "./lib/openapi-fuzz.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "8" },
    seed: { type: "string" },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const CHUNK = 500;

function log(message: string) {
  process.stdout.write(`[fuzz] ${message}\n`);
}

async function main(): Promise<number> {
  log(`starting the stack (database: ${process.env.TEST_DATABASE_URL ? "TEST_DATABASE_URL" : "in-memory PGlite"})`);
  const stack = await startApiStack();
  const pool = new pg.Pool({ connectionString: stack.database.url, max: 4 });
  const stop = async () => {
    await pool.end().catch(() => {});
    await stack.close();
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    const sql: SqlQuery = async (text, params) => (await pool.query(text, params)).rows;
    const doc = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as OpenApiDocument;
    const operations = listOperations(doc);
    log(`${operations.length} operations in /openapi.json; building the world`);
    const world = await buildWorld(stack.baseUrl, sql, TEST_JWT_SECRET);
    const context = {
      baseUrl: stack.baseUrl,
      world,
      operations: new Map(operations.map((operation) => [operation.key, operation])),
      validator: new ResponseValidator(doc),
      stats: new FuzzStats(),
      concurrency,
    };
    const arbitrary = anyRequestArbitrary(operations, doc);
    const started = performance.now();
    log(`seed ${seed}; ${total} requests, ${concurrency} at a time`);
    for (let done = 0, chunk = 0; done < total; chunk++) {
      const size = Math.min(CHUNK, total - done);
      const plans = fc.sample(arbitrary, { numRuns: size, seed: seed + chunk });
      await runPlans(plans, context);
      done += size;
      if (done % 2_000 === 0 || done === total) {
        const seconds = (performance.now() - started) / 1000;
        log(
          `${done}/${total} requests, ${context.stats.serverErrors()} 5xx, ${context.stats.errors().length} ` +
            `distinct error findings, ${(done / seconds).toFixed(0)} req/s`,
        );
      }
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `\n=== fuzz run (seed ${seed}, ${seconds.toFixed(0)} s, ${(context.stats.requests / seconds).toFixed(0)} ` +
        `req/s) ===\n${context.stats.summary(operations)}\n`,
    );
    return context.stats.errors().length > 0 ? 1 : 0;
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
