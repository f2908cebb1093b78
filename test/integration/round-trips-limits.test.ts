/**
 * The benchmark's limit routes (src/routes/bench.ts): what they answer, that
 * they go through the same middleware chain as every route (request id,
 * rate-limit headers, the database pool), that they are documented, and that
 * outside development/test they do not exist (404 NOT_FOUND envelope).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { WranglerDev } from "../../scripts/lib/wrangler.ts";
import { call, expectEnvelope, get } from "../helpers/api.ts";
import { startTestWorker } from "../helpers/stack.ts";

const LIMIT_PATHS = ["/dev/bench/constant", "/dev/bench/kv", "/dev/bench/db"];

describe("limit routes in the test environment", () => {
  it("happy: a constant, one KV read, one SELECT 1, each through the full chain", async () => {
    const constant = await get("/dev/bench/constant");
    expect(constant.status).toBe(200);
    expect(constant.body).toEqual({ status: "ok" });
    const kv = await get("/dev/bench/kv");
    expect(kv.status).toBe(200);
    expect(kv.body).toEqual({ found: false });
    const db = await get("/dev/bench/db");
    expect(db.status).toBe(200);
    expect(db.body).toEqual({ result: 1, round_trips: 1, parallel: 1 });
    for (const result of [constant, kv, db]) {
      expect(result.headers.get("x-request-id")).toMatch(/^req_/);
      expect(result.headers.get("x-ratelimit-limit")).not.toBeNull();
      expect(result.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("happy: round_trips and parallel price extra statements and connections", async () => {
    const result = await get("/dev/bench/db?round_trips=4&parallel=2");
    expect(result.body).toEqual({ result: 1, round_trips: 4, parallel: 2 });
    expect(result.headers.get("x-db-queries")).toBe("8");
  });

  it("error: out-of-range or non-numeric knobs are 400 VALIDATION_ERROR naming the field", async () => {
    for (const query of ["round_trips=0", "round_trips=11", "parallel=6", "parallel=two"]) {
      const error = expectEnvelope(await get(`/dev/bench/db?${query}`), 400, "VALIDATION_ERROR");
      expect(JSON.stringify(error.details)).toContain(query.split("=")[0]);
    }
  });

  it("error: other methods are 405", async () => {
    for (const path of LIMIT_PATHS) expectEnvelope(await call("POST", path), 405, "METHOD_NOT_ALLOWED");
  });

  it("every limit route is in /openapi.json", async () => {
    const document = await get("/openapi.json");
    for (const path of LIMIT_PATHS) expect(document.body.paths[path]?.get, path).toBeDefined();
    expect(
      document.body.paths["/dev/bench/db"].get.parameters.map((parameter: { name: string }) => parameter.name).sort(),
    ).toEqual(["parallel", "round_trips"]);
  });
});

describe("security: outside development and test the limit routes do not exist", () => {
  let production: WranglerDev;
  beforeAll(async () => {
    // No STRIPE_API_BASE: outside development an http Stripe base (the test fake) is a configuration error (503).
    production = await startTestWorker(
      { databaseUrl: inject("databaseUrl"), proxyUrl: inject("proxyUrl"), stripeUrl: inject("stripeUrl") },
      { ENVIRONMENT: "production", ALLOW_TEST_CLOCK: "0", STRIPE_API_BASE: "" },
    );
  });
  afterAll(async () => {
    await production?.stop();
  });

  it("404 NOT_FOUND envelope, and no round-trip header", async () => {
    for (const path of LIMIT_PATHS) {
      const result = await call("GET", path, {}, production.url);
      expectEnvelope(result, 404, "NOT_FOUND");
      expect(result.headers.get("x-db-queries")).toBeNull();
    }
  });
});
