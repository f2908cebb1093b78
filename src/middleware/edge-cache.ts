import type { Context, MiddlewareHandler, Next } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { dataVersions, type Section } from "../platform/edge-versions.ts";
import { bodyTag } from "./etag.ts";

/**
 * Edge cache for public, read-mostly GET answers (contract v2 "Conditional
 * GETs" and "Edge data path"): served from the Cache API of the location,
 * keyed by the data versions of the sections the answer depends on
 * (platform/edge-versions.ts), the path and the sorted query. A write bumps
 * the versions, so the next read misses and is answered fresh: at once where
 * the write happened, within 60 s everywhere. A hit makes no database round
 * trip (the database middleware opens nothing unless a handler asks).
 *
 * Opt-in per path: add a rule to EDGE_CACHED (app.ts mounts them all). The
 * answer must be the same for every caller allowed to see it: nothing that
 * depends on who asks (bookmarked flags, own drafts ...). `auth: true` serves
 * hits only to authenticated callers, so the route's own 401 still answers
 * the others.
 *
 * EDGE_CACHE=off (an operator's switch, README "Edge cache") answers every read from its route,
 * e.g. while a write path that does not bump the versions is being fixed; the bench uses it to
 * price the cache's own work on a miss.
 *
 * Cache API caveat: on a *.workers.dev hostname the Cache API stores nothing
 * (Cloudflare serves it only on a zone's custom domain); the answers are then
 * simply computed every time.
 */
export interface EdgeCacheRule {
  /** Hono path pattern */
  path: string;
  sections: Section[];
  auth: boolean;
}

export const EDGE_CACHED: readonly EdgeCacheRule[] = [
  { path: "/coaches", sections: ["coaches"], auth: true },
  { path: "/coaches/:id", sections: ["coaches"], auth: true },
  { path: "/coaches/:id/reviews", sections: ["coaches"], auth: true },
  { path: "/booking/coach/:id/availability", sections: ["bookings", "coaches"], auth: false },
  { path: "/community/resources", sections: ["resources"], auth: true },
];

/**
 * What clients may do with these answers: keep them, but revalidate before
 * each use (a 304 from the edge cache costs no database round trip), so that
 * the author of a change sees it at once even from a browser cache.
 */
export const PUBLIC_READ_CACHE_CONTROL = "private, max-age=0, must-revalidate";
/** How long the edge keeps an entry; versions in the key make older entries unreachable long before. */
const EDGE_TTL_SECONDS = 3600;

function cacheKey(url: URL, versions: string): Request {
  const params = [...url.searchParams.entries()].sort(([a, av], [b, bv]) =>
    a === b ? av.localeCompare(bv) : a.localeCompare(b),
  );
  const query = new URLSearchParams(params).toString();
  // A host of our own: entries never collide with what the zone caches for real URLs.
  return new Request(`https://edge-cache.culturebridge.internal/${encodeURIComponent(versions)}${url.pathname}?${query}`);
}

/** The route's own answer, with the public Cache-Control when it is a 200. */
async function answer(c: Context<AppEnv>, next: Next): Promise<void> {
  await next();
  if (c.res.status === 200) c.res.headers.set("Cache-Control", PUBLIC_READ_CACHE_CONTROL);
}

function edgeCache(rule: EdgeCacheRule): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method !== "GET") return next();
    const cache = typeof caches === "undefined" ? undefined : (caches as unknown as { default?: Cache }).default;
    const kv = c.env.MATCH_CACHE;
    if (!cache || !kv || !c.var.config.edgeCache || (rule.auth && !c.var.user)) return answer(c, next);
    let key: Request;
    let hit: Response | undefined;
    try {
      key = cacheKey(new URL(c.req.url), await dataVersions(kv, rule.sections));
      hit = await cache.match(key);
    } catch (error) {
      // An unavailable cache is a miss, never a failed request.
      console.error(JSON.stringify({ level: "error", msg: "edge cache read failed", error: String(error) }));
      return answer(c, next);
    }
    if (hit) {
      const headers = new Headers({
        "Content-Type": hit.headers.get("content-type") ?? "application/json",
        ETag: hit.headers.get("etag") ?? "",
        "Cache-Control": PUBLIC_READ_CACHE_CONTROL,
        "X-Edge-Cache": "hit",
      });
      if (c.var.config.isLocal) headers.set("X-DB-Queries", "0");
      return c.body(await hit.arrayBuffer(), 200, Object.fromEntries(headers));
    }
    await answer(c, next);
    if (c.res.status !== 200 || !(c.res.headers.get("content-type") ?? "").includes("application/json")) return;
    // Read once and answered from the same bytes (a clone would tee the stream and copy it twice).
    const body = await c.res.arrayBuffer();
    const tag = await bodyTag(body);
    const headers = new Headers(c.res.headers);
    headers.set("ETag", tag);
    headers.set("X-Edge-Cache", "miss");
    c.res = new Response(body, { status: 200, headers });
    const stored = new Response(body, {
      headers: { "Content-Type": "application/json", ETag: tag, "Cache-Control": `public, max-age=${EDGE_TTL_SECONDS}` },
    });
    const put = cache
      .put(key, stored)
      .catch((error: unknown) =>
        console.error(JSON.stringify({ level: "error", msg: "edge cache write failed", error: String(error) })),
      );
    try {
      c.executionCtx.waitUntil(put);
    } catch {
      await put;
    }
  });
}

/** Mounts every rule (before the routes, after identification and the rate limit). */
export function mountEdgeCache(app: { use(path: string, handler: MiddlewareHandler<AppEnv>): unknown }): void {
  for (const rule of EDGE_CACHED) app.use(rule.path, edgeCache(rule));
}
