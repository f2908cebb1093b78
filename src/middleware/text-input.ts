import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { badRequest } from "../lib/errors.ts";
import { findUnstorableText } from "../lib/text.ts";

/**
 * Contract v2 "Text input": a NUL byte or an unpaired surrogate anywhere in a
 * query parameter or a JSON body string is a 400, whatever the route (Postgres
 * cannot store either, and nothing downstream should see them). Checked once
 * here, before any route, so that no field can be forgotten; the JSON is read
 * through Hono's body cache, so routes still parse it as usual.
 */
export const textInput = createMiddleware<AppEnv>(async (c, next) => {
  // Most requests (POST /match, the hot path) have no query string: no URL parse for them.
  if (c.req.url.includes("?")) {
    for (const [name, value] of new URL(c.req.url).searchParams) {
      const problem = findUnstorableText(name) ?? findUnstorableText(value);
      if (problem) throw badRequest(`Query parameter ${name} contains ${problem}`, { field: name, location: "query" });
    }
  }
  const type = c.req.header("content-type") ?? "";
  if (/^application\/(.+\+)?json/i.test(type) && c.req.raw.body) {
    const text = await c.req.text();
    // Only escapes (\u0000, \ud800) or a raw NUL can produce such strings: skip the walk otherwise.
    if (text.includes("\\u") || text.includes("\u0000")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined; // malformed JSON: the route's own parsing answers it
      }
      const found = parsed === undefined ? undefined : findInJson(parsed, "");
      if (found)
        throw badRequest(`Field ${found.path || "(body)"} contains ${found.problem}`, { field: found.path, location: "body" });
    }
  }
  await next();
});

function findInJson(value: unknown, path: string): { path: string; problem: string } | undefined {
  if (typeof value === "string") {
    const problem = findUnstorableText(value);
    return problem ? { path, problem } : undefined;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findInJson(item, path ? `${path}.${index}` : String(index));
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = findUnstorableText(key);
      const childPath = path ? `${path}.${key}` : key;
      if (keyProblem) return { path: childPath, problem: keyProblem };
      const found = findInJson(item, childPath);
      if (found) return found;
    }
  }
  return undefined;
}
