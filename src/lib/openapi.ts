import { z } from "@hono/zod-openapi";
import { ERROR_STATUS, type ErrorCode } from "./errors.ts";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
      timestamp: z.string().openapi({ example: "2026-01-01T10:00:00Z" }),
      request_id: z.string().openapi({ example: "req_3f2a..." }),
    }),
  })
  .openapi("Error");

const DESCRIPTIONS: Record<number, string> = {
  400: "Validation error (field errors in details)",
  401: "Missing, invalid, expired or revoked token",
  403: "Authenticated, but not allowed",
  404: "Not found",
  409: "Conflict",
  413: "Payload too large",
  429: "Rate limit exceeded",
  500: "Unexpected error",
  503: "A dependency is unavailable",
};

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503;

const errorContent = { "application/json": { schema: ErrorSchema } };

/** Error responses of a route; 400, 429 and 500 are always possible. */
export function errorResponses(...statuses: ErrorStatus[]) {
  const all = new Set<ErrorStatus>([400, 429, 500, ...statuses]);
  const responses: Partial<Record<ErrorStatus, { description: string; content: typeof errorContent }>> = {};
  for (const status of all) responses[status] = { description: DESCRIPTIONS[status] ?? "Error", content: errorContent };
  return responses as Record<ErrorStatus, { description: string; content: typeof errorContent }>;
}

/** The `security` entry of a route that needs a bearer token. */
export const bearerSecurity = [{ bearerAuth: [] as string[] }];

export const UuidParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "0b9c3c3e-2f7e-4a59-9d43-2a4d7a1f2b11" }),
});

/**
 * Case-insensitive by its character classes, not by an `i` flag: the OpenAPI
 * generator copies a regex's flags into the documented `pattern` ("...$/i"),
 * which no string can match, so clients generated from /openapi.json could
 * never send a valid id.
 */
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function jsonContent<T extends z.ZodTypeAny>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

// ---------------------------------------------------------------------------
// Conditional GETs (contract v2): every GET that answers 200 with JSON also answers 304 to a
// matching If-None-Match (middleware/etag.ts). Added to the registered routes centrally, so
// every GET route (also ones added later) documents it without a line of its own.
// ---------------------------------------------------------------------------

export const NOT_MODIFIED_RESPONSE = {
  description: "Not Modified: the `If-None-Match` ETag is still current; no body",
  headers: { ETag: { description: "The current entity tag", schema: { type: "string" as const } } },
};

interface RegisteredRoute {
  type: string;
  route?: {
    method?: string;
    responses?: Record<string, { content?: Record<string, unknown>; description?: string } | undefined>;
  };
}

/** Adds the 304 response to every registered GET operation that documents a JSON 200. Call after mounting routes. */
export function addNotModifiedResponses(registry: { definitions: readonly unknown[] }): void {
  for (const definition of registry.definitions as RegisteredRoute[]) {
    const route = definition.type === "route" ? definition.route : undefined;
    if (route?.method !== "get" || !route.responses) continue;
    const ok = route.responses["200"];
    if (!ok?.content || !("application/json" in ok.content)) continue;
    route.responses["304"] ??= NOT_MODIFIED_RESPONSE;
  }
}
