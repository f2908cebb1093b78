/** HTTP helpers for integration tests against the Worker started by globalSetup. */
import { inject } from "vitest";

// Tests read arbitrary JSON bodies and assert on them field by field; a precise
// type per response would only restate the contract the assertions check.
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Json = any;

export interface CallOptions {
  body?: unknown;
  /** Sent as-is (e.g. malformed JSON, CSV, multipart). */
  rawBody?: BodyInit;
  token?: string;
  headers?: Record<string, string>;
  /** Moves the server's clock for this request (X-Test-Now; test environment only). */
  now?: Date;
}

export interface CallResult {
  status: number;
  body: Json;
  text: string;
  headers: Headers;
}

export function baseUrl(): string {
  return inject("baseUrl");
}

export async function call(method: string, path: string, options: CallOptions = {}, base = baseUrl()): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.now) headers["x-test-now"] = options.now.toISOString();
  let body: BodyInit | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: Json;
  if (text.length > 0 && (response.headers.get("content-type") ?? "").includes("json")) parsed = JSON.parse(text);
  return { status: response.status, body: parsed, text, headers: response.headers };
}

export const get = (path: string, options?: CallOptions) => call("GET", path, options);
export const post = (path: string, body?: unknown, options: CallOptions = {}) => call("POST", path, { ...options, body });
export const put = (path: string, body?: unknown, options: CallOptions = {}) => call("PUT", path, { ...options, body });
export const patch = (path: string, body?: unknown, options: CallOptions = {}) => call("PATCH", path, { ...options, body });
export const del = (path: string, options?: CallOptions) => call("DELETE", path, options);

/** Asserts the contract's error envelope and returns its `error` object. */
export function expectEnvelope(result: CallResult, status: number, code: string): Json {
  if (result.status !== status || result.body?.error?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${result.status}: ${result.text.slice(0, 500)}`);
  }
  const error = result.body.error;
  if (
    typeof error.message !== "string" ||
    typeof error.request_id !== "string" ||
    typeof error.timestamp !== "string" ||
    typeof error.details !== "object"
  ) {
    throw new Error(`malformed envelope: ${result.text}`);
  }
  if (result.headers.get("x-request-id") !== error.request_id)
    throw new Error("X-Request-Id header differs from the envelope's request_id");
  return error;
}

/** A unique, valid email for one test. */
export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 12)}@example.test`;
}
