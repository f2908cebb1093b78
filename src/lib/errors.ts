import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The contract's error codes and the HTTP status each one is answered with. */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A failure that is part of the API's behaviour; becomes the error envelope in one place (onError). */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

export const badRequest = (message: string, details: Record<string, unknown> = {}) =>
  new AppError("VALIDATION_ERROR", message, details);
/** Where a rejected input was: the `location` of an entry in a 400's `details.errors`. */
export type FieldLocation = "body" | "query" | "path" | "header";

/**
 * The details of a 400 that names the offending input: `{ errors: [{ field, location, message }] }`,
 * the same shape the validation hook gives zod failures. Several fields may share one message.
 */
export function fieldError(field: string | readonly string[], location: FieldLocation, message: string) {
  const fields = typeof field === "string" ? [field] : field;
  return { errors: fields.map((name) => ({ field: name, location, message })) };
}

export const unauthorized = (message = "Authentication required") => new AppError("UNAUTHORIZED", message);
export const forbidden = (message = "You are not allowed to do this") => new AppError("FORBIDDEN", message);
export const notFound = (what = "Resource") => new AppError("NOT_FOUND", `${what} not found`);
export const conflict = (message: string, details: Record<string, unknown> = {}) => new AppError("CONFLICT", message, details);

export interface ErrorEnvelope {
  error: {
    code: ErrorCode;
    message: string;
    details: Record<string, unknown>;
    timestamp: string;
    request_id: string;
  };
}

export function errorEnvelope(
  code: ErrorCode,
  message: string,
  details: Record<string, unknown>,
  requestId: string,
): ErrorEnvelope {
  return {
    error: { code, message, details, timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"), request_id: requestId },
  };
}

/** Postgres SQLSTATEs the API answers with a 4xx/5xx of its own instead of a 500. */
const PG_ERROR_MAP: Record<string, { code: ErrorCode; message: string }> = {
  "23P01": { code: "CONFLICT", message: "The time slot overlaps an existing booking" },
  "23505": { code: "CONFLICT", message: "The resource already exists" },
  "40001": { code: "CONFLICT", message: "Concurrent update, please retry" },
  "40P01": { code: "CONFLICT", message: "Concurrent update, please retry" },
  "57P01": { code: "SERVICE_UNAVAILABLE", message: "The database is unavailable" },
  "57P03": { code: "SERVICE_UNAVAILABLE", message: "The database is unavailable" },
  "53300": { code: "SERVICE_UNAVAILABLE", message: "The database is busy" },
  // Safety net behind middleware/text-input.ts: text Postgres cannot store is the
  // request's fault (NUL bytes, invalid encodings), never a 500.
  "22021": { code: "VALIDATION_ERROR", message: "Text contains characters that cannot be stored (NUL or invalid encoding)" },
  "22P05": { code: "VALIDATION_ERROR", message: "Text contains characters that cannot be stored (NUL or invalid encoding)" },
  "22008": { code: "VALIDATION_ERROR", message: "A date or time is out of range" },
  "22007": { code: "VALIDATION_ERROR", message: "A date or time is malformed" },
};

/** Reads a SQLSTATE from a driver error (drizzle wraps it in `cause`). */
export function pgErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const CONNECTION_FAILURE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|WebSocket|socket|Connection terminated|connect/i;

/** Maps an unknown thrown value to an AppError when it is a known database condition. */
export function fromDatabaseError(error: unknown): AppError | undefined {
  const sqlState = pgErrorCode(error);
  if (sqlState) {
    const mapped = PG_ERROR_MAP[sqlState];
    if (mapped) return new AppError(mapped.code, mapped.message, { sqlstate: sqlState });
    if (sqlState.startsWith("08")) return new AppError("SERVICE_UNAVAILABLE", "The database is unavailable");
    return undefined;
  }
  const text = describe(error);
  if (CONNECTION_FAILURE.test(text)) return new AppError("SERVICE_UNAVAILABLE", "The database is unavailable");
  return undefined;
}

function describe(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      current = current.cause;
    } else if (typeof current === "object" && current !== null && "message" in current) {
      parts.push(String((current as { message: unknown }).message));
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(" | ");
}
