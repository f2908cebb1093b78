/**
 * Development-only routes, behind one guard: where ENVIRONMENT is neither development nor test,
 * every /dev/* path answers 404 NOT_FOUND before validation or any handler runs, and the
 * published OpenAPI document leaves them out (lib/openapi.ts buildOpenApiDocument).
 * A new development tool is one more module in this folder, mounted below.
 */
import { createMiddleware } from "hono/factory";
import { notFound } from "../../lib/errors.ts";
import { DEVELOPMENT_PATH_PREFIX } from "../../lib/openapi.ts";
import { createRouter, type RouterEnv } from "../../lib/router.ts";
import { benchRoutes } from "./bench.ts";
import { devEmailRoutes } from "./emails.ts";

export const devOnly = createMiddleware<RouterEnv>(async (c, next) => {
  if (!c.var.config.isLocal) throw notFound("Route");
  await next();
});

export const devRoutes = createRouter();
// Registered before the routes, so it runs before their validators.
devRoutes.use(`${DEVELOPMENT_PATH_PREFIX}*`, devOnly);
devRoutes.route("/", devEmailRoutes);
devRoutes.route("/", benchRoutes);
