/**
 * Typed client for the CultureBridge API. Paths, parameters, bodies and answers are the types
 * openapi-typescript generated from the committed openapi.json (./schema.d.ts); openapi-fetch
 * turns them into a fetch wrapper whose every call is checked by the compiler.
 *
 *   const api = createCultureBridgeClient("http://127.0.0.1:8787", accessToken);
 *   const { data, error } = await api.GET("/coaches", { params: { query: { language: ["Spanish"] } } });
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };
/** Every named wire shape: `Schemas["CoachListItem"]`, `Schemas["Error"]`, ... */
export type Schemas = components["schemas"];
/** The error envelope every 4xx/5xx answer carries. */
export type ApiError = Schemas["Error"];
export type CultureBridgeClient = Client<paths>;

/** A fixed access token, or a function asked before each request (e.g. one that refreshes). */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

export function createCultureBridgeClient(baseUrl: string, token?: TokenSource): CultureBridgeClient {
  const client = createClient<paths>({ baseUrl: baseUrl.replace(/\/+$/, "") });
  if (token !== undefined) client.use(bearer(token));
  return client;
}

function bearer(token: TokenSource): Middleware {
  return {
    async onRequest({ request }) {
      const value = typeof token === "function" ? await token() : token;
      if (value) request.headers.set("Authorization", `Bearer ${value}`);
      return request;
    },
  };
}
