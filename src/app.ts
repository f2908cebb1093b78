/**
 * createApp(): the middleware chain and the mounting of every route module.
 * The one place where the app is assembled.
 */

import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { Config } from "./env.ts";
import { AppError, type ErrorCode, errorEnvelope, fromDatabaseError } from "./lib/errors.ts";
import { addNotModifiedResponses, ErrorSchema } from "./lib/openapi.ts";
import { createRouter, type RouterEnv } from "./lib/router.ts";
import { identify } from "./middleware/auth.ts";
import { config } from "./middleware/config.ts";
import { requestContext } from "./middleware/context.ts";
import { database } from "./middleware/database.ts";
import { mountEdgeCache } from "./middleware/edge-cache.ts";
import { conditionalGet } from "./middleware/etag.ts";
import { rateLimit } from "./middleware/rate-limit.ts";
import { securityHeaders } from "./middleware/security.ts";
import { textInput } from "./middleware/text-input.ts";
import { mountDocs } from "./routes/docs.ts";
import { healthRoutes } from "./routes/health.ts";
import { mountFeatureRoutes } from "./routes/index.ts";

const MB = 1024 * 1024;
/** JSON bodies: 1 MB (contract). Uploads and CSV imports have their own, larger caps. */
const JSON_BODY_LIMIT = 1 * MB;
const MULTIPART_BODY_LIMIT = 6 * MB;
const CSV_BODY_LIMIT = 20 * MB;

function sendError(
  c: Context<RouterEnv>,
  code: ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const error = new AppError(code, message, details);
  const response = c.json(errorEnvelope(code, message, details, c.var.requestId ?? "req_unknown"), error.status);
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: "VALIDATION_ERROR",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  429: "RATE_LIMIT_EXCEEDED",
  503: "SERVICE_UNAVAILABLE",
  504: "GATEWAY_TIMEOUT",
};

/** The CORS middleware of a config, built once per isolate (not per request). */
const corsFor = new WeakMap<Config, MiddlewareHandler>();
function corsMiddleware(config: Config): MiddlewareHandler {
  let handler = corsFor.get(config);
  if (!handler) {
    handler = cors({
      origin: (origin) => (config.allowsOrigin(origin) ? origin : null),
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type", "X-Request-Id", "If-None-Match"],
      exposeHeaders: ["X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "ETag"],
      maxAge: 600,
    });
    corsFor.set(config, handler);
  }
  return handler;
}

/** Body limits by content type, built once. */
const bodyLimits = new Map(
  [JSON_BODY_LIMIT, MULTIPART_BODY_LIMIT, CSV_BODY_LIMIT].map((maxSize) => [
    maxSize,
    bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError("PAYLOAD_TOO_LARGE", `Request body exceeds ${Math.round(maxSize / MB)} MB`);
      },
    }),
  ]),
);

export function createApp() {
  const app = createRouter();

  app.use("*", requestContext);
  app.use("*", securityHeaders);
  app.use("*", config);
  app.use("*", (c, next) => corsMiddleware(c.var.config)(c, next));
  // identify + rateLimit before the body limit: every answer, a 413 included,
  // is counted and carries the X-RateLimit-* headers.
  app.use("*", identify);
  app.use("*", rateLimit);
  app.use("*", (c, next) => {
    // No body, nothing to limit (most requests are GETs).
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const type = c.req.header("content-type") ?? "";
    const maxSize = type.startsWith("multipart/")
      ? MULTIPART_BODY_LIMIT
      : type.startsWith("text/csv")
        ? CSV_BODY_LIMIT
        : JSON_BODY_LIMIT;
    return bodyLimits.get(maxSize)!(c, next);
  });
  app.use("*", textInput);
  // ETag / If-None-Match on every JSON GET; outside the edge cache, so its hits answer 304 too.
  app.use("*", conditionalGet);
  // Public read-mostly answers from the location's cache, keyed by data versions (no database on a hit).
  mountEdgeCache(app);
  app.use("*", database);

  app.route("/", healthRoutes);
  mountFeatureRoutes(app);
  addNotModifiedResponses(app.openAPIRegistry);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "Access token from POST /auth/login or /auth/signup",
  });
  app.openAPIRegistry.register("Error", ErrorSchema);
  // GET /openapi.json and the offline GET /docs page (routes/docs.ts).
  mountDocs(app);

  app.notFound((c) => {
    const allowed = methodsForPath(app.routes, c.req.path);
    if (allowed.length > 0) {
      return sendError(
        c,
        "METHOD_NOT_ALLOWED",
        `Method ${c.req.method} is not allowed on ${c.req.path}`,
        { allowed },
        { Allow: allowed.join(", ") },
      );
    }
    return sendError(c, "NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`);
  });

  app.onError((error, c) => {
    if (error instanceof AppError) return sendError(c, error.code, error.message, error.details, error.headers);
    if (error instanceof HTTPException) {
      const status = error.status;
      const code = STATUS_CODES[status] ?? (status >= 500 ? "INTERNAL_ERROR" : "VALIDATION_ERROR");
      const message = status === 400 && /JSON/i.test(error.message) ? "Malformed JSON in request body" : error.message || code;
      return sendError(c, code, message);
    }
    const mapped = fromDatabaseError(error);
    if (mapped) {
      if (mapped.code === "SERVICE_UNAVAILABLE") logError(c, error, "database unavailable");
      return sendError(c, mapped.code, mapped.message, mapped.details);
    }
    logError(c, error, "unhandled error");
    return sendError(c, "INTERNAL_ERROR", "An unexpected error occurred");
  });

  return app;
}

function logError(c: Context<RouterEnv>, error: unknown, msg: string) {
  console.error(
    JSON.stringify({
      level: "error",
      msg,
      request_id: c.var.requestId,
      path: c.req.path,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      // drizzle wraps driver errors ("Failed query: ..."): the cause holds Postgres' own message and SQLSTATE.
      cause: error instanceof Error && error.cause !== undefined ? String(error.cause) : undefined,
      stack: error instanceof Error ? error.stack : undefined,
    }),
  );
}

/** Methods registered for a concrete path (for 405 answers). */
function methodsForPath(routes: readonly { method: string; path: string }[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    const pattern = new RegExp(
      `^${route.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z0-9_]+(\\\{[^}]*\\\})?/g, "[^/]+")}$`,
    );
    if (pattern.test(path)) methods.add(route.method);
  }
  return [...methods];
}

export type App = ReturnType<typeof createApp>;
