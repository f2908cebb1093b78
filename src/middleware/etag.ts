import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";

/**
 * Conditional GETs (contract v2): every GET answered 200 with JSON carries an
 * `ETag` (a strong validator: the SHA-1 of the body, unless the edge cache
 * already stored one with the entry), and a matching `If-None-Match` turns
 * the answer into a 304 with no body. Non-JSON answers (calendar feeds, CSV
 * streams, photos) are left alone: hashing a stream would buffer it.
 *
 * Runs inside the rate limiter and the security/request-id middleware, so a
 * 304 still carries their headers. Documented as a 304 response of every GET
 * operation by addNotModifiedResponses (lib/openapi.ts).
 */
/** Representation metadata a 304 must not carry (RFC 9110 15.4.5); CORS and the rest stay. */
const DROPPED_ON_304 = ["content-type", "content-length", "content-encoding"];

export async function bodyTag(body: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", body));
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return `"${btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}"`;
}

/** RFC 9110 weak comparison: `W/` prefixes are ignored, `*` matches any current representation. */
export function matchesIfNoneMatch(header: string | undefined, tag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  const strip = (value: string) => value.trim().replace(/^W\//, "");
  const wanted = strip(tag);
  return header.split(",").some((candidate) => strip(candidate) === wanted);
}

export const conditionalGet = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method !== "GET" || c.res.status !== 200) return;
  if (!(c.res.headers.get("content-type") ?? "").includes("application/json")) return;
  let tag = c.res.headers.get("etag");
  if (!tag) {
    tag = await bodyTag(await c.res.clone().arrayBuffer());
    c.res.headers.set("ETag", tag);
  }
  if (!matchesIfNoneMatch(c.req.header("if-none-match"), tag)) return;
  await c.res.body?.cancel();
  // Assigned (not returned): Hono copies the 200's headers onto it, the outer middleware adds theirs.
  c.res = new Response(null, { status: 304 });
  for (const name of DROPPED_ON_304) c.res.headers.delete(name);
});
