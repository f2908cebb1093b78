import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { ERROR_STATUS, type ErrorCode } from "./errors.ts";
import type { RouterEnv } from "./router.ts";

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
// The published document: /openapi.json, the committed openapi.json and the typed client are all
// built by buildOpenApiDocument(), so they cannot drift apart. Route modules only declare routes;
// operation ids, response headers, tags and the development-only filter are applied here, centrally,
// keyed by method + path, so a new route needs nothing from this file to be documented correctly.
// ---------------------------------------------------------------------------

type OpenApiDocument = ReturnType<OpenAPIHono<RouterEnv>["getOpenAPI31Document"]>;
type Operation = Record<string, unknown> & {
  operationId?: string;
  security?: Record<string, string[]>[];
  tags?: string[];
  responses?: Record<string, Record<string, unknown>>;
};

/** Paths served only where ENVIRONMENT is development or test: never in the production document. */
export const DEVELOPMENT_PATH_PREFIX = "/dev/";

export function isDevelopmentPath(path: string): boolean {
  return path.startsWith(DEVELOPMENT_PATH_PREFIX);
}

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/**
 * Names a client generator turns into method names. Stable: changing one breaks every generated
 * client, so entries are only ever added. A route missing here still gets a stable derived id
 * (derivedOperationId), so routes added in parallel are documented without touching this map.
 */
const OPERATION_IDS: Record<string, string> = {
  "get /health": "getHealth",
  // auth
  "post /auth/signup": "signup",
  "post /auth/login": "login",
  "post /auth/refresh": "refreshTokens",
  "post /auth/logout": "logout",
  "post /auth/reset-password": "requestPasswordReset",
  "post /auth/reset-password/confirm": "confirmPasswordReset",
  "get /auth/reset-password/confirm": "checkPasswordResetToken",
  "post /auth/verify-email": "verifyEmail",
  "get /auth/verify-email": "verifyEmailLink",
  "post /auth/verify-email/resend": "resendVerificationEmail",
  "post /auth/change-password": "changePassword",
  // profile
  "get /profile": "getProfile",
  "put /profile": "updateProfile",
  "delete /profile": "deleteAccount",
  "post /profile/photo": "uploadProfilePhoto",
  "get /photos/{key}": "getPhoto",
  "get /profile/export": "exportProfileData",
  // coaches and matching
  "get /coaches": "listCoaches",
  "get /coaches/{id}": "getCoach",
  "get /coaches/{id}/reviews": "listCoachReviews",
  "post /match": "matchCoaches",
  "get /match/cache/info": "getMatchCacheInfo",
  "delete /match/cache": "clearMatchCache",
  // bookings
  "post /booking": "createBooking",
  "get /booking/client/{client_id}": "listClientBookings",
  "get /booking/coach/{coach_id}": "listCoachBookings",
  "get /booking/coach/{coach_id}/availability": "getCoachAvailability",
  "get /booking/{id}": "getBooking",
  "delete /booking/{id}": "cancelBooking",
  "patch /booking/{id}/status": "updateBookingStatus",
  "post /booking/{id}/reschedule": "rescheduleBooking",
  "post /booking/{id}/review": "createReview",
  // payments and payouts
  "post /payment/checkout": "createCheckoutSession",
  "post /payment/webhook": "handleStripeWebhook",
  "get /payment/{id}": "getPayment",
  "post /payouts/onboarding": "createPayoutOnboardingLink",
  "get /payouts/account": "getPayoutAccount",
  "get /payouts/earnings": "getPayoutEarnings",
  // calendar
  "post /calendar/feed-token": "createCalendarFeedToken",
  "get /calendar/feed/{token}.ics": "getCalendarFeed",
  // community
  "get /community/posts": "listPosts",
  "post /community/posts": "createPost",
  "get /community/posts/{id}": "getPost",
  "put /community/posts/{id}": "updatePost",
  "delete /community/posts/{id}": "deletePost",
  "post /community/posts/{id}/comment": "createComment",
  "put /community/comments/{id}": "updateComment",
  "delete /community/comments/{id}": "deleteComment",
  "post /community/posts/{id}/upvote": "upvotePost",
  "delete /community/posts/{id}/upvote": "removePostUpvote",
  "get /community/resources": "listResources",
  "post /community/resources": "createResource",
  "get /community/resources/bookmarks": "listBookmarkedResources",
  "post /community/resources/{id}/bookmark": "bookmarkResource",
  "delete /community/resources/{id}/bookmark": "removeResourceBookmark",
  // admin
  "get /admin/metrics": "adminGetMetrics",
  "get /admin/users": "adminListUsers",
  "get /admin/users/{id}": "adminGetUser",
  "patch /admin/users/{id}": "adminUpdateUser",
  "delete /admin/users/{id}": "adminDeleteUser",
  "get /admin/bookings": "adminListBookings",
  "delete /admin/posts/{id}": "adminDeletePost",
  "delete /admin/reviews/{id}": "adminDeleteReview",
  "patch /admin/coaches/{id}/verification": "adminSetCoachVerification",
  "get /admin/revenue": "adminGetRevenue",
  "get /admin/audit-log": "adminListAuditLog",
  "post /admin/import": "adminImportUsers",
  // development only (not in the production document)
  "get /dev/emails": "devListEmails",
  "get /dev/bench/constant": "devBenchConstant",
  "get /dev/bench/kv": "devBenchKv",
  "get /dev/bench/db": "devBenchDb",
};

const pascal = (text: string) =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");

/** `get /coaches/{id}/reviews` -> `getCoachesByIdReviews`: deterministic, unique per method + path. */
export function derivedOperationId(method: string, path: string): string {
  const parts = path
    .split("/")
    .filter(Boolean)
    .map((segment) => segment.replace(/\{([^}]+)\}/g, (_, name: string) => ` by ${name} `));
  return `${method.toLowerCase()}${pascal(parts.join(" ")) || "Root"}`;
}

export function operationIdFor(method: string, path: string): string {
  return OPERATION_IDS[`${method.toLowerCase()} ${path}`] ?? derivedOperationId(method, path);
}

const TAG_DESCRIPTIONS: Record<string, string> = {
  Health: "Liveness and dependency check.",
  Auth: "Sign up, sign in, tokens, password reset and email verification.",
  Profiles: "The caller's own profile, photo, data export and account deletion.",
  Coaches: "The public coach directory.",
  Matching: "Ranking coaches for a client's quiz.",
  Bookings: "Sessions between a client and a coach.",
  Payments: "Stripe Checkout and its webhook.",
  Payouts: "Coach payouts through Stripe Connect.",
  Calendar: "iCalendar feeds of a user's sessions.",
  Community: "Posts, comments, votes and resources.",
  Admin: "Operations for administrators.",
  Development: "Served only when ENVIRONMENT is development or test.",
};

const HEADER_COMPONENTS = {
  "X-Request-Id": {
    description: "The request's id (an incoming sane X-Request-Id is echoed); also in every error body as `request_id`.",
    required: true,
    schema: { type: "string", example: "req_3f2a9c0e5b7d4e1f8a6c2b9d0e7f1a3c" },
  },
  "X-RateLimit-Limit": {
    description: "Requests allowed per minute for the caller (per user, per IP when anonymous).",
    schema: { type: "integer", example: 100 },
  },
  "X-RateLimit-Remaining": {
    description: "Requests left in the current window.",
    schema: { type: "integer", example: 99 },
  },
  "X-RateLimit-Reset": {
    description: "When the current window ends (unix seconds).",
    schema: { type: "integer", example: 1767261600 },
  },
  "Retry-After": {
    description: "Seconds to wait before retrying.",
    schema: { type: "integer", example: 30 },
  },
} as const;

const headerRef = (name: keyof typeof HEADER_COMPONENTS) => ({ $ref: `#/components/headers/${name}` });

/** Headers every response carries (rate-limit ones on everything the limiter saw), Retry-After on 429. */
function responseHeaders(status: string): Record<string, { $ref: string }> {
  return {
    "X-Request-Id": headerRef("X-Request-Id"),
    "X-RateLimit-Limit": headerRef("X-RateLimit-Limit"),
    "X-RateLimit-Remaining": headerRef("X-RateLimit-Remaining"),
    "X-RateLimit-Reset": headerRef("X-RateLimit-Reset"),
    ...(status === "429" ? { "Retry-After": headerRef("Retry-After") } : {}),
  };
}

export interface DocumentOptions {
  version: string;
  /** Origin the document names as its server. */
  serverUrl: string;
  /** Development-only paths (/dev/*) are documented only where they are served. */
  includeDevelopment: boolean;
}

export const DOCUMENT_INFO = {
  title: "CultureBridge API",
  description: [
    "Matches intercultural coaches with expats, diplomats and global nomads; books and bills sessions; hosts the community.",
    "",
    "Conventions (docs/API.md): JSON with snake_case fields; `Authorization: Bearer <access_token>`;",
    "lists take `skip`/`limit` and answer `{items, total, skip, limit}`; every error has the `Error` envelope;",
    "every response carries `X-Request-Id` and the `X-RateLimit-*` headers (100 requests/minute per user or IP).",
  ].join("\n"),
  license: { name: "Proprietary", identifier: "LicenseRef-CultureBridge" },
  contact: { name: "CultureBridge API team" },
};

/** The OpenAPI 3.1 document of `app`: every route registered with `.openapi()`, finalised for publication. */
export function buildOpenApiDocument(app: OpenAPIHono<RouterEnv>, options: DocumentOptions): OpenApiDocument {
  const document = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { ...DOCUMENT_INFO, version: options.version },
    servers: [{ url: options.serverUrl }],
  });
  const paths: Record<string, Record<string, Operation>> = {};
  const usedTags: string[] = [];
  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    if (!options.includeDevelopment && isDevelopmentPath(path)) continue;
    const finished: Record<string, Operation> = { ...item };
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const responses: Record<string, Record<string, unknown>> = {};
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        // Headers a route declared itself (e.g. ETag) win over the shared ones.
        const own = (response.headers ?? {}) as Record<string, unknown>;
        responses[status] = { ...response, headers: { ...responseHeaders(status), ...own } };
      }
      finished[method] = {
        ...operation,
        operationId: operation.operationId ?? operationIdFor(method, path),
        // No `security` on a route means it needs no token: say so, rather than leave it unstated.
        security: operation.security ?? [],
        responses,
      };
      for (const tag of operation.tags ?? []) if (!usedTags.includes(tag)) usedTags.push(tag);
    }
    paths[path] = finished;
  }
  const components = (document.components ?? {}) as Record<string, unknown>;
  const schemas = (components.schemas ?? {}) as Record<string, unknown>;
  return {
    ...document,
    tags: usedTags.map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name })),
    paths,
    components: { ...components, schemas: reachableSchemas(paths, schemas), headers: HEADER_COMPONENTS },
  } as OpenApiDocument;
}

const SCHEMA_REF = "#/components/schemas/";

/**
 * Only the named schemas the published paths reach (directly or through other schemas): the
 * development routes' shapes are registered by name too, but have no place in the production document.
 */
function reachableSchemas(paths: unknown, schemas: Record<string, unknown>): Record<string, unknown> {
  const reached = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const entry of node) visit(entry);
    } else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "$ref" && typeof value === "string" && value.startsWith(SCHEMA_REF)) {
          const name = value.slice(SCHEMA_REF.length);
          if (!reached.has(name)) {
            reached.add(name);
            visit(schemas[name]);
          }
        } else visit(value);
      }
    }
  };
  visit(paths);
  return Object.fromEntries(Object.entries(schemas).filter(([name]) => reached.has(name)));
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
