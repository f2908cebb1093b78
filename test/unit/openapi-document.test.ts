/**
 * The published OpenAPI document as built by buildOpenApiDocument() from createApp() (no database):
 * stable, unique operation ids; development routes only in the development document; the shared
 * response headers; and the wrangler.toml bindings (worker-configuration.d.ts, `wrangler types`)
 * all declared in our Bindings.
 */
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import type { Bindings } from "../../src/env.ts";
import { buildOpenApiDocument, derivedOperationId } from "../../src/lib/openapi.ts";

type Operation = { operationId?: string; security?: unknown[]; responses: Record<string, { headers?: Record<string, unknown> }> };
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

const METHODS = new Set(["get", "put", "post", "delete", "patch"]);

function build(includeDevelopment: boolean): Document {
  return buildOpenApiDocument(createApp(), {
    version: "0.0.0-test",
    serverUrl: "http://127.0.0.1:8787",
    includeDevelopment,
  }) as unknown as Document;
}

function operations(document: Document) {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, path, operation })),
  );
}

describe("OpenAPI document", () => {
  it("every operation has an operationId, unique across the development document", () => {
    const all = operations(build(true));
    expect(all.length).toBeGreaterThan(50);
    const ids = all.map(({ operation }) => operation.operationId);
    expect(ids.filter((id) => !id || !/^[a-z][A-Za-z0-9]*$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("operation ids are stable: the committed openapi.json names the same ids", () => {
    const committed = JSON.parse(fs.readFileSync("openapi.json", "utf8")) as Document;
    const current = Object.fromEntries(operations(build(false)).map(({ key, operation }) => [key, operation.operationId]));
    for (const { key, operation } of operations(committed)) {
      if (key in current) expect(current[key], key).toBe(operation.operationId);
    }
    expect(committed.paths["/coaches"]?.get?.operationId).toBe("listCoaches");
  });

  it("derives a readable id for a route the explicit map does not know", () => {
    expect(derivedOperationId("get", "/coaches/{id}/reviews")).toBe("getCoachesByIdReviews");
    expect(derivedOperationId("post", "/calendar/feed/{token}.ics")).toBe("postCalendarFeedByTokenIcs");
  });

  it("keeps /dev/* and their schemas out of the production document, in the development one", () => {
    const production = build(false);
    const development = build(true);
    expect(Object.keys(production.paths).filter((path) => path.startsWith("/dev/"))).toEqual([]);
    expect(Object.keys(development.paths)).toContain("/dev/emails");
    expect(Object.keys(production.components.schemas)).not.toContain("DevEmail");
    expect(Object.keys(development.components.schemas)).toContain("DevEmail");
  });

  it("documents X-Request-Id and X-RateLimit-* on every response, Retry-After on every 429", () => {
    const problems: string[] = [];
    for (const { key, operation } of operations(build(true))) {
      if (!Array.isArray(operation.security)) problems.push(`${key}: security unstated`);
      for (const [status, response] of Object.entries(operation.responses)) {
        const headers = Object.keys(response.headers ?? {});
        for (const name of ["X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"])
          if (!headers.includes(name)) problems.push(`${key} ${status}: no ${name}`);
        if (status === "429" && !headers.includes("Retry-After")) problems.push(`${key} 429: no Retry-After`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("types repeatable filters as arrays", () => {
    const list = build(false).paths["/coaches"]?.get as unknown as { parameters: { name: string; schema: unknown }[] };
    const parameters = list.parameters;
    for (const name of ["language", "country", "expertise"]) {
      expect(parameters.find((parameter) => parameter.name === name)?.schema, name).toMatchObject({
        type: "array",
        items: { type: "string" },
      });
    }
  });

  it("every binding wrangler.toml declares (worker-configuration.d.ts) is typed in Bindings", () => {
    // Compile-time: tsc (npm test) fails here when `wrangler types` names a binding Bindings lacks.
    type Missing = Exclude<keyof Cloudflare.Env, keyof Bindings>;
    const none: [Missing] extends [never] ? true : false = true;
    expect(none).toBe(true);
  });
});
