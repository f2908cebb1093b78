/**
 * Property-based fuzzing from /openapi.json (bounded run; `npm run fuzz` is
 * the long one). Generated from the document's own schemas: valid and
 * invalid path ids, queries and bodies for every operation, with real tokens
 * of every role, garbage tokens and none. The property, for every answer:
 * no 5xx, every 4xx the error envelope, every 2xx a documented status whose
 * body matches the documented schema, the common headers present.
 */

import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  anyRequestArbitrary,
  buildWorld,
  describeRequest,
  FuzzStats,
  listOperations,
  type OpenApiDocument,
  ResponseValidator,
  runPlans,
  type SqlQuery,
} from "../../scripts/lib/openapi-fuzz.ts";
import { baseUrl, get } from "../helpers/api.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { TEST_JWT_SECRET } from "../helpers/stack.ts";

afterAll(async () => {
  await closeTestPool();
});

const BATCH = 8;
/** ~1,000 requests: 125 runs of 8 concurrent requests. FUZZ_RUNS overrides. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 125);

describe("fuzzing from the OpenAPI document", () => {
  it(`${RUNS * BATCH} generated requests over every operation: no 5xx, envelopes on 4xx, documented 2xx bodies`, async () => {
    const doc = (await get("/openapi.json")).body as OpenApiDocument;
    const operations = listOperations(doc);
    expect(operations.length).toBeGreaterThan(10);
    const world = await buildWorld(baseUrl(), query as SqlQuery, TEST_JWT_SECRET);
    const context = {
      baseUrl: baseUrl(),
      world,
      operations: new Map(operations.map((operation) => [operation.key, operation])),
      validator: new ResponseValidator(doc),
      stats: new FuzzStats(),
      // PGlite serves every connection in one session, and pglite-socket can
      // interleave two connections' extended-protocol messages (one's Bind on
      // the other's Parse: "invalid input syntax for type uuid"), a harness
      // artefact that concurrency provokes. Real Postgres gets real concurrency.
      concurrency: isRealPostgres() ? BATCH : 1,
    };

    await fc.assert(
      fc.asyncProperty(fc.array(anyRequestArbitrary(operations, doc), { minLength: BATCH, maxLength: BATCH }), async (plans) => {
        const results = await runPlans(plans, context);
        const errors = results.flatMap(({ outcome, findings }) =>
          findings
            .filter((finding) => finding.severity === "error")
            .map(
              (finding) =>
                `${finding.operation} -> ${finding.status}: ${finding.problem}\n    ${describeRequest(outcome.request)}`,
            ),
        );
        if (errors.length > 0) throw new Error(`contract violations:\n${errors.join("\n")}`);
      }),
      // Stop at the first failing batch: every request of it is printed above, shrinking over HTTP would only cost time.
      { numRuns: RUNS, endOnFailure: true },
    );

    console.log(`fuzz (bounded):\n${context.stats.summary(operations)}`);
    expect(context.stats.serverErrors()).toBe(0);
    // Every operation of the document was exercised.
    for (const operation of operations)
      expect(context.stats.byOperation.get(operation.key) ?? 0, operation.key).toBeGreaterThan(0);
  }, 240_000);
});
