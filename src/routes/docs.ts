/**
 * The API's self-description: GET /openapi.json (built from the routes' own zod schemas) and the
 * GET /docs page (Scalar's API reference). The page works offline: its script is Scalar's
 * standalone bundle pinned by package-lock.json and served from this Worker's static assets
 * (wrangler.toml [assets], copied by scripts/docs-assets.mjs), never from a CDN; its CSP
 * (middleware/security.ts) names no third-party host.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { notFound } from "../lib/errors.ts";
import { buildOpenApiDocument } from "../lib/openapi.ts";
import type { RouterEnv } from "../lib/router.ts";

export const DOCS_PATH = "/docs";
/** Everything under it is a static asset (public/docs/). */
export const DOCS_ASSETS_PREFIX = "/docs/";

const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>CultureBridge API</title>
  </head>
  <body>
    <noscript>The interactive reference needs JavaScript; the raw document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <div id="app"></div>
    <script src="/docs/vendor/scalar-api-reference.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

type Document = ReturnType<typeof buildOpenApiDocument>;

export function mountDocs(app: OpenAPIHono<RouterEnv>): void {
  // Built once per isolate and variant: generating it walks every route's schemas.
  const cache = new Map<string, Document>();

  app.get("/openapi.json", (c) => {
    const includeDevelopment = c.var.config.isLocal;
    const version = c.var.config.appVersion;
    const key = `${includeDevelopment}:${version}`;
    let document = cache.get(key);
    if (!document) {
      document = buildOpenApiDocument(app, { version, includeDevelopment, serverUrl: "/" });
      cache.set(key, document);
    }
    return c.json({ ...document, servers: [{ url: new URL(c.req.url).origin }] });
  });

  app.get(DOCS_PATH, (c) => c.html(DOCS_HTML));

  app.get(`${DOCS_ASSETS_PREFIX}*`, async (c) => {
    // Unit tests run the app without the Workers runtime, hence without the binding.
    if (!c.env.ASSETS) throw notFound("Asset");
    const asset = await c.env.ASSETS.fetch(c.req.raw);
    if (asset.status === 404) throw notFound("Asset");
    // A copy: the binding's response headers are immutable, and the security middleware adds its own.
    return new Response(asset.body, asset);
  });
}
