/**
 * Property-based fuzzing from the API's own OpenAPI document.
 *
 * The document (/openapi.json) is generated from the same zod schemas that
 * validate requests, so it is both the map of what to call and the oracle of
 * what may come back. For every operation this module generates requests
 * (fast-check arbitraries built from the JSON schemas of path/query
 * parameters and bodies, plus deliberate breakage: wrong types, out-of-range
 * values, missing fields, malformed JSON, odd path segments, garbage tokens),
 * sends them with real tokens of each role, and checks every answer:
 *
 * - never a 5xx (every dependency is up during a fuzz run);
 * - every 4xx is the contract's error envelope (validated against the
 *   documented `Error` schema), with X-Request-Id equal to its request_id;
 * - every 2xx is a documented status whose body validates against the
 *   documented response schema (ajv, JSON Schema 2020-12 = OpenAPI 3.1);
 * - every answer carries X-Request-Id, X-RateLimit-* and nosniff.
 *
 * It is shared by the bounded property test (test/integration/fuzz.test.ts)
 * and the long run (`npm run fuzz`, scripts/fuzz.ts).
 */

import type { ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import bcrypt from "bcryptjs";
import fc from "fast-check";
import { type Role, signToken } from "../../src/lib/tokens.ts";
import { SAMPLE_QUIZ, WEEK_AVAILABILITY } from "./samples.ts";

// ---------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------

export type JsonSchema = { [keyword: string]: unknown };

export interface ParameterObject {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: JsonSchema;
}

interface MediaObject {
  schema?: JsonSchema;
}

interface OperationObject {
  security?: unknown[];
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; content: Record<string, MediaObject> };
  responses: Record<string, { content?: Record<string, MediaObject> }>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface Operation {
  /** "GET /booking/{id}" */
  key: string;
  method: string;
  path: string;
  secured: boolean;
  pathParams: ParameterObject[];
  queryParams: ParameterObject[];
  body: { contentType: string; schema: JsonSchema; required: boolean } | undefined;
  responses: OperationObject["responses"];
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

export function listOperations(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const parameters = op.parameters ?? [];
      const [contentType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        secured: (op.security ?? []).length > 0,
        pathParams: parameters.filter((parameter) => parameter.in === "path"),
        queryParams: parameters.filter((parameter) => parameter.in === "query"),
        body: contentType ? { contentType, schema: media?.schema ?? {}, required: op.requestBody?.required ?? false } : undefined,
        responses: op.responses,
      });
    }
  }
  return operations;
}

function resolvePointer(doc: OpenApiDocument, ref: string): JsonSchema {
  if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  if (!node || typeof node !== "object") throw new Error(`unresolvable $ref ${ref}`);
  return node as JsonSchema;
}

/** Follows $ref chains to the schema they name. */
export function deref(doc: OpenApiDocument, schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let depth = 0; typeof current.$ref === "string" && depth < 32; depth++) current = resolvePointer(doc, current.$ref);
  return current;
}

// ---------------------------------------------------------------------------
// The world: real users of every role and real ids to aim at
// ---------------------------------------------------------------------------

export interface WorldUser {
  id: string;
  email: string;
  role: Role;
  token: string;
  profileId?: string;
}

/** Pools of real ids; requests pick from them by index at execution time, and 2xx answers add to them. */
export type Pool =
  | "coachUser"
  | "coachProfile"
  | "clientUser"
  | "anyUser"
  | "booking"
  | "payment"
  | "post"
  | "resource"
  | "photoKey"
  | "feedToken"
  | "refreshToken"
  | "email";

export type SqlQuery = <T extends Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

export interface FuzzWorld {
  users: Record<Role, WorldUser[]>;
  pools: Record<Pool, string[]>;
  password: string;
  /** A fresh user nobody else uses: the target of destructive operations (DELETE /profile, admin PATCH/DELETE). */
  disposableUser(role: Role): Promise<WorldUser>;
  /** A fresh post (for the DELETE routes, so the world's own posts survive). */
  disposablePost(): Promise<string>;
}

export const FUZZ_PASSWORD = "Fuzz#Pass1234";

const WEEK = WEEK_AVAILABILITY;

export const COMPLETE_QUIZ = SAMPLE_QUIZ;

/**
 * Builds the world over the API's database (`sql`: inserts as the test
 * fixtures do) and the API itself (bookings, payments, posts ... made through
 * their routes, so that they are real).
 */
export async function buildWorld(baseUrl: string, sql: SqlQuery, jwtSecret: string): Promise<FuzzWorld> {
  const hash = await bcrypt.hash(FUZZ_PASSWORD, 12);
  const key = new TextEncoder().encode(jwtSecret);
  const tag = () => crypto.randomUUID().slice(0, 10);

  const makeUser = async (role: Role): Promise<WorldUser> => {
    const email = `fuzz-${role}-${tag()}@example.test`;
    const [row] = await sql<{ id: string }>(
      "INSERT INTO users (email, password_hash, role, is_active, email_verified) VALUES ($1, $2, $3, true, true) RETURNING id",
      [email, hash, role],
    );
    const id = (row as { id: string }).id;
    const token = (await signToken(key, { sub: id, role, type: "access" }, new Date())).token;
    const user: WorldUser = { id, email, role, token };
    if (role === "coach") {
      const [profile] = await sql<{ id: string }>(
        `INSERT INTO coach_profiles (user_id, first_name, last_name, bio, expertise, languages, countries, hourly_rate, currency, availability, rating)
         VALUES ($1, 'Fuzz', 'Coach', 'Intercultural coach', $2, $3, $4, 100, 'USD', $5, 4.5) RETURNING id`,
        [id, ["cultural adaptation"], ["English", "Spanish"], ["Spain"], JSON.stringify(WEEK)],
      );
      user.profileId = (profile as { id: string }).id;
    } else if (role === "client") {
      const [profile] = await sql<{ id: string }>(
        "INSERT INTO client_profiles (user_id, first_name, last_name, timezone, quiz_data) VALUES ($1, 'Fuzz', " +
          "'Client', 'Europe/Madrid', $2) RETURNING id",
        [id, JSON.stringify(COMPLETE_QUIZ)],
      );
      user.profileId = (profile as { id: string }).id;
    }
    return user;
  };

  const users: Record<Role, WorldUser[]> = {
    client: [await makeUser("client"), await makeUser("client")],
    coach: [await makeUser("coach"), await makeUser("coach")],
    admin: [await makeUser("admin")],
  };
  const everyone = [...users.client, ...users.coach, ...users.admin];
  const pools: Record<Pool, string[]> = {
    coachUser: users.coach.map((user) => user.id),
    coachProfile: users.coach.map((user) => user.profileId as string),
    clientUser: users.client.map((user) => user.id),
    anyUser: everyone.map((user) => user.id),
    booking: [],
    payment: [],
    post: [],
    resource: [],
    photoKey: [],
    feedToken: [],
    refreshToken: [],
    email: everyone.map((user) => user.email),
  };

  const api = async (method: string, path: string, token: string | undefined, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // non-JSON answers are not harvested
    }
    return { status: response.status, body: parsed };
  };

  // Real content through the routes. Failures here only shrink the pools.
  const day = 24 * 3_600_000;
  for (const [index, client] of users.client.entries()) {
    for (const [coachIndex, coach] of users.coach.entries()) {
      const start = new Date(Math.floor(Date.now() / day) * day + (3 + index * 3 + coachIndex) * day + 10 * 3_600_000);
      const booking = await api("POST", "/booking", client.token, {
        coach_id: coach.id,
        session_datetime: start.toISOString().replace(/\.\d{3}Z$/, "Z"),
        duration_minutes: 60,
      });
      if (booking.status === 201 && typeof booking.body.id === "string") pools.booking.push(booking.body.id);
    }
  }
  for (const bookingId of pools.booking.slice(0, 2)) {
    const owner = users.client.find(() => true) as WorldUser;
    for (const client of [owner, ...users.client]) {
      const checkout = await api("POST", "/payment/checkout", client.token, { booking_id: bookingId });
      if (checkout.status === 200) break;
    }
  }
  const payments = await sql<{ id: string }>("SELECT id FROM payments WHERE booking_id = ANY($1::uuid[])", [pools.booking]);
  pools.payment.push(...payments.map((row) => row.id));

  for (const user of everyone) {
    for (const isPrivate of [false, true]) {
      const post = await api("POST", "/community/posts", user.token, {
        title: `Fuzz ${user.role}`,
        content: "Hello from the fuzzer",
        post_type: "discussion",
        is_private: isPrivate,
      });
      if (post.status === 201 && typeof post.body.id === "string") pools.post.push(post.body.id);
    }
  }
  for (const postId of pools.post.slice(0, 3))
    await api("POST", `/community/posts/${postId}/comment`, users.client[0]?.token, { content: "A comment" });
  for (const author of [users.coach[0], users.admin[0]]) {
    const resource = await api("POST", "/community/resources", author?.token, {
      title: "Fuzz guide",
      description: "A guide",
      resource_type: "article",
      url: "https://example.com/guide",
      tags: ["fuzz"],
    });
    if (resource.status === 201 && typeof resource.body.id === "string") pools.resource.push(resource.body.id);
  }
  for (const user of [users.client[0], users.coach[0]]) {
    const feed = await api("POST", "/calendar/feed-token", user?.token);
    const token =
      typeof feed.body.feed_url === "string" ? /\/calendar\/feed\/([^/]+)\.ics/.exec(feed.body.feed_url)?.[1] : undefined;
    if (token) pools.feedToken.push(token);
  }
  const login = await api("POST", "/auth/login", undefined, { email: users.client[1]?.email, password: FUZZ_PASSWORD });
  if (typeof login.body.refresh_token === "string") pools.refreshToken.push(login.body.refresh_token);

  return {
    users,
    pools,
    password: FUZZ_PASSWORD,
    disposableUser: makeUser,
    disposablePost: async () => {
      const [row] = await sql<{ id: string }>(
        "INSERT INTO posts (author_id, title, content, post_type, is_private) VALUES ($1, 'Disposable', 'To be " +
          "deleted', 'discussion', false) RETURNING id",
        [users.client[0]?.id],
      );
      return (row as { id: string }).id;
    },
  };
}

// ---------------------------------------------------------------------------
// Arbitraries from JSON schemas
// ---------------------------------------------------------------------------

/** A value taken from a pool at execution time (the pool grows while the run goes on). */
export interface PoolRef {
  $pool: Pool;
  index: number;
}

export type Planned = null | boolean | number | string | PoolRef | Planned[] | { [key: string]: Planned };

const poolRef = (pool: Pool): fc.Arbitrary<PoolRef> => fc.nat(1_000).map((index) => ({ $pool: pool, index }));

const TIME_ZONES = [
  "UTC",
  "Europe/Madrid",
  "America/New_York",
  "Asia/Tokyo",
  "Australia/Sydney",
  "Africa/Nairobi",
  "America/Sao_Paulo",
];

const isoSeconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");

/** Future half-hour slots: what a booking needs to get past validation. */
const futureSlot = fc
  .record({ days: fc.integer({ min: 1, max: 120 }), halfHours: fc.integer({ min: 0, max: 47 }) })
  .map(({ days, halfHours }) => {
    const day = 24 * 3_600_000;
    return isoSeconds(new Date(Math.floor(Date.now() / day) * day + days * day + halfHours * 1_800_000));
  });

const dateOnly = fc
  .date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2030-12-31T00:00:00Z"), noInvalidDate: true })
  .map((date) => date.toISOString().slice(0, 10));

const strongPassword = fc
  .tuple(fc.stringMatching(/^[A-Z][a-z]{4,10}$/), fc.integer({ min: 0, max: 999 }), fc.constantFrom("#", "!", "$", "%"))
  .map(([word, digits, special]) => `${word}${digits}${special}x`);

const simpleEmail = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9]{2,12}$/), fc.constantFrom("example.test", "mail.example.com"))
  .map(([local, domain]) => `${local}@${domain}`);

const words = fc
  .array(
    fc.constantFrom(
      "culture",
      "expat",
      "Madrid",
      "visa",
      "family",
      "career",
      "language",
      "coach",
      "tips",
      "München",
      "日本",
      "🙂",
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((list) => list.join(" "));

/**
 * Property-name hints: the schema says "string", the product needs a real
 * coach id or a future half-hour; without these, almost every generated
 * request would stop at the first business rule.
 */
function hintFor(name: string | undefined, method: string): fc.Arbitrary<Planned> | undefined {
  switch (name) {
    case "coach_id":
      return fc.oneof(poolRef("coachUser"), poolRef("coachProfile"));
    case "client_id":
      return poolRef("clientUser");
    case "actor_id":
      return poolRef("anyUser");
    case "booking_id":
      return poolRef("booking");
    case "refresh_token":
      return poolRef("refreshToken");
    case "email":
    case "to":
      return fc.oneof(poolRef("email"), simpleEmail);
    case "password":
    case "new_password":
      return fc.oneof(fc.constant(FUZZ_PASSWORD), strongPassword);
    case "session_datetime":
      return futureSlot;
    case "timezone":
      return fc.constantFrom(...TIME_ZONES);
    case "start_date":
    case "end_date":
      return dateOnly;
    case "url":
    case "intro_video_url":
      return fc.constantFrom("https://example.com/a", "http://example.org/video.mp4");
    case "meeting_link":
      return fc.constantFrom("https://meet.example.com/abc", null);
    case "currency":
      return fc.constantFrom("USD", "EUR", "GBP", "JPY");
    case "availability":
      return fc.constantFrom<Planned>(
        WEEK,
        { timezone: "Europe/Madrid", monday: ["09:00-12:00", "14:00-17:00"], tuesday: ["09:00-12:00"] },
        {},
      );
    case "quiz_data":
      return method === "PUT" ? fc.constant(COMPLETE_QUIZ as Planned) : undefined;
    default:
      return undefined;
  }
}

interface ArbitraryContext {
  doc: OpenApiDocument;
  method: string;
  depth: number;
}

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type as string[];
  if (typeof schema.type === "string") return [schema.type];
  if (schema.properties) return ["object"];
  if (schema.items) return ["array"];
  return [];
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Valid-looking values of a schema (business rules beyond the schema may still refuse them). */
export function validValue(schema: JsonSchema, ctx: ArbitraryContext, name?: string): fc.Arbitrary<Planned> {
  const hint = hintFor(name, ctx.method);
  const generic = genericValue(schema, ctx);
  return hint ? fc.oneof({ weight: 4, arbitrary: hint }, { weight: 1, arbitrary: generic }) : generic;
}

function genericValue(raw: JsonSchema, ctx: ArbitraryContext): fc.Arbitrary<Planned> {
  const schema = deref(ctx.doc, raw);
  const deeper: ArbitraryContext = { ...ctx, depth: ctx.depth + 1 };
  if ("const" in schema) return fc.constant(schema.const as Planned);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return fc.constantFrom(...(schema.enum as Planned[]));
  for (const combinator of ["anyOf", "oneOf"] as const) {
    const options = schema[combinator];
    if (Array.isArray(options) && options.length > 0)
      return fc.oneof(...options.map((option) => genericValue(option as JsonSchema, deeper)));
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const parts = (schema.allOf as JsonSchema[]).map((part) => genericValue(part, deeper));
    return fc
      .tuple(...parts)
      .map(
        (values) =>
          Object.assign({}, ...values.filter((value) => value && typeof value === "object" && !Array.isArray(value))) as Planned,
      );
  }
  const types = typesOf(schema);
  if (types.length > 1) {
    return fc.oneof(
      ...types.map((type) => ({ weight: type === "null" ? 1 : 4, arbitrary: genericValue({ ...schema, type }, ctx) })),
    );
  }
  const type = types[0];
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer": {
      const min =
        num(schema.minimum) ??
        (num(schema.exclusiveMinimum) !== undefined ? (num(schema.exclusiveMinimum) as number) + 1 : -1_000);
      const max =
        num(schema.maximum) ??
        (num(schema.exclusiveMaximum) !== undefined
          ? (num(schema.exclusiveMaximum) as number) - 1
          : Math.max(min + 1_000, 1_000));
      return fc.oneof(
        fc.integer({ min: Math.ceil(min), max: Math.floor(max) }),
        fc.constantFrom(Math.ceil(min), Math.floor(max)),
      );
    }
    case "number": {
      const min = num(schema.minimum) ?? num(schema.exclusiveMinimum) ?? -1_000;
      const max = num(schema.maximum) ?? num(schema.exclusiveMaximum) ?? Math.max(min + 1_000, 1_000);
      // Cents, as money is: most numbers in this API are amounts or ratings.
      return fc.integer({ min: Math.ceil(min * 100), max: Math.floor(max * 100) }).map((cents) => cents / 100);
    }
    case "string":
      return stringValue(schema);
    case "array": {
      if (ctx.depth > 6) return fc.constant([]);
      const items = (schema.items as JsonSchema | undefined) ?? {};
      const minLength = num(schema.minItems) ?? 0;
      const maxLength = Math.min(num(schema.maxItems) ?? 4, Math.max(minLength, 4));
      return fc.array(genericValue(items, deeper), { minLength, maxLength });
    }
    case "object": {
      if (ctx.depth > 6) return fc.constant({});
      const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const model: Record<string, fc.Arbitrary<Planned>> = {};
      for (const [key, property] of Object.entries(properties)) model[key] = validValue(property, deeper, key);
      if (Object.keys(model).length === 0) {
        // A free-form object (preferences, Stripe events...).
        return fc.dictionary(
          fc.stringMatching(/^[a-z_]{1,12}$/),
          fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()),
          { maxKeys: 4 },
        ) as fc.Arbitrary<Planned>;
      }
      const optional = Object.keys(model).filter((key) => !required.has(key));
      if (optional.length > 3) {
        // Partial updates: a few fields at a time, so that role-specific
        // bodies (PUT /profile) are sometimes entirely valid.
        return fc.subarray(optional, { maxLength: 3 }).chain((chosen) => {
          const keys = [...required].filter((key) => key in model).concat(chosen);
          return fc.record(
            Object.fromEntries(keys.map((key) => [key, model[key] as fc.Arbitrary<Planned>])),
          ) as fc.Arbitrary<Planned>;
        });
      }
      return fc.record(model, { requiredKeys: [...required].filter((key) => key in model) }) as fc.Arbitrary<Planned>;
    }
    default:
      // No type: anything JSON.
      return fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null));
  }
}

function stringValue(schema: JsonSchema): fc.Arbitrary<Planned> {
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = num(schema.maxLength) ?? 200;
  switch (schema.format) {
    case "uuid":
      return fc.uuid();
    case "email":
      return simpleEmail;
    case "date-time":
      return fc
        .date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2035-01-01T00:00:00Z"), noInvalidDate: true })
        .map(isoSeconds);
    case "date":
      return dateOnly;
    case "uri":
    case "url":
      return fc.webUrl();
    default:
      break;
  }
  if (typeof schema.pattern === "string") {
    try {
      return fc
        .stringMatching(new RegExp(schema.pattern))
        .filter((value) => value.length >= minLength && value.length <= maxLength);
    } catch {
      // an unparsable pattern: fall through to plain strings
    }
  }
  const cap = Math.max(minLength, Math.min(maxLength, 60));
  return fc.oneof(
    { weight: 3, arbitrary: words.filter((value) => value.length >= minLength && value.length <= maxLength) },
    { weight: 2, arbitrary: fc.string({ minLength, maxLength: cap }) },
    { weight: 1, arbitrary: fc.string({ minLength, maxLength: cap, unit: "grapheme" }) },
  );
}

/** Characters that must be refused (400), never reach Postgres (500) or an email header. */
const HOSTILE_CHARACTERS = ["\u0000", "\ud800", "\udfff", "\r\n", "\t", "\u0000\ud83d"];
/** Dates that parse in JavaScript but lie outside 1900-9999 (or do not parse at all). */
const EXTREME_DATES = [
  "0001-01-01",
  "1899-12-31",
  "9999-12-31",
  "9999-12-31T23:59:59Z",
  "10000-01-01",
  "+275760-09-13T00:00:00Z",
  "-000001-01-01T00:00:00Z",
  "0000-00-00",
  "2026-02-30",
];
/** Numbers at the edges of JSON and of Postgres' numeric types. */
const EXTREME_NUMBERS = [1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2, 2 ** 31, -(2 ** 31) - 1, 1e-320, 0.1 + 0.2];

/** Values that break the schema: wrong type, out of range, too long, missing or unknown fields. */
export function invalidValue(raw: JsonSchema, ctx: ArbitraryContext): fc.Arbitrary<Planned> {
  const schema = deref(ctx.doc, raw);
  const wrongType = fc.constantFrom<Planned>(
    null,
    0,
    -1,
    1e308,
    "",
    "x",
    true,
    [],
    {},
    "<script>alert(1)</script>",
    "' OR '1'='1",
  );
  const options: fc.Arbitrary<Planned>[] = [wrongType];
  const types = typesOf(schema);
  if (types.includes("object")) {
    const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
    const keys = Object.keys(properties);
    const valid = genericValue(schema, ctx) as fc.Arbitrary<Record<string, Planned>>;
    const required = (schema.required as string[] | undefined) ?? [];
    if (required.length > 0) {
      options.push(
        fc
          .tuple(valid, fc.constantFrom(...required))
          .map(([value, drop]) => Object.fromEntries(Object.entries(value ?? {}).filter(([key]) => key !== drop))),
      );
    }
    if (keys.length > 0) {
      const deeper = { ...ctx, depth: ctx.depth + 1 };
      options.push(
        fc
          .tuple(valid, fc.constantFrom(...keys))
          .chain(([value, key]) =>
            invalidValue(properties[key] as JsonSchema, deeper).map((broken) => ({ ...(value ?? {}), [key]: broken })),
          ),
      );
    }
    // Mass assignment: fields that belong to the server.
    options.push(
      valid.map((value) => ({
        ...(value ?? {}),
        role: "admin",
        is_verified: true,
        rating: 5,
        upvotes: 1_000_000,
        id: "00000000-0000-0000-0000-000000000000",
        user_id: "00000000-0000-0000-0000-000000000000",
        total_sessions: 999,
      })),
    );
  }
  if (types.includes("array")) {
    const items = (schema.items as JsonSchema | undefined) ?? {};
    const maxItems = num(schema.maxItems);
    if (maxItems !== undefined)
      options.push(fc.array(genericValue(items, ctx), { minLength: maxItems + 1, maxLength: maxItems + 2 }));
    if (num(schema.minItems)) options.push(fc.constant([]));
    options.push(fc.array(invalidValue(items, { ...ctx, depth: ctx.depth + 1 }), { minLength: 1, maxLength: 2 }));
  }
  if (types.includes("string")) {
    const maxLength = num(schema.maxLength);
    if (maxLength !== undefined) options.push(fc.constant("y".repeat(maxLength + 1)));
    if (num(schema.minLength)) options.push(fc.constant(""));
    if (schema.format || schema.pattern || schema.enum)
      options.push(fc.constantFrom("not-valid", "2026-13-45T99:99:99Z", "NaN", "\u0000", " "));
    options.push(fc.constant("z".repeat(20_000)));
    // Text Postgres cannot store or that breaks headers (contract v2 "Text input"): NUL, unpaired
    // surrogates, CR/LF and tabs, spliced into an otherwise valid value.
    options.push(
      fc.tuple(stringValue(schema), fc.constantFrom(...HOSTILE_CHARACTERS), fc.nat()).map(([value, hostile, at]) => {
        const text = typeof value === "string" ? value : "";
        const index = text.length === 0 ? 0 : at % (text.length + 1);
        return `${text.slice(0, index)}${hostile}${text.slice(index)}`;
      }),
    );
    // Dates outside 1900-9999, and unparsable ones, wherever a date goes.
    if (schema.format === "date" || schema.format === "date-time" || /date|time/.test(String(schema.description ?? "")))
      options.push(fc.constantFrom(...EXTREME_DATES));
  }
  if (types.includes("integer") || types.includes("number")) {
    const min = num(schema.minimum);
    const max = num(schema.maximum);
    if (min !== undefined) options.push(fc.constant(min - 1));
    if (max !== undefined) options.push(fc.constant(max + 1));
    if (types.includes("integer")) options.push(fc.constant(1.5));
    options.push(fc.constantFrom<Planned>("12", "abc", Number.MAX_SAFE_INTEGER * 4));
    options.push(fc.constantFrom<Planned>(...EXTREME_NUMBERS));
  }
  if (Array.isArray(schema.enum)) options.push(fc.constantFrom("NOT_IN_ENUM", "Admin", ""));
  return fc.oneof(...options);
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

export type AuthChoice =
  | { kind: "none" }
  | { kind: "garbage"; token: string }
  | { kind: "role"; role: Role; index: number }
  | { kind: "disposable"; role: Role };

export type PathValue = { literal: string } | PoolRef | { disposable: "user" | "post" };

export type PlannedBody =
  | { kind: "json"; value: Planned }
  | { kind: "raw"; contentType: string | undefined; text: string }
  | { kind: "multipart"; field: string; file: "png" | "jpeg" | "webp" | "gif" | "text" | "empty"; size: number }
  | { kind: "csv"; text: string };

export interface PlannedRequest {
  operation: string;
  method: string;
  pathTemplate: string;
  pathValues: Record<string, PathValue>;
  query: [string, Planned][];
  auth: AuthChoice;
  body: PlannedBody | undefined;
  /** What kind of request this was meant to be, for the statistics. */
  intent: "valid" | "invalid";
}

const ROLES: Role[] = ["client", "coach", "admin"];

const MALFORMED_SEGMENTS = [
  "not-a-uuid",
  "123",
  "-1",
  "00000000-0000-0000-0000-00000000000",
  "00000000-0000-0000-0000-0000000000000",
  "' OR 1=1 --",
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "x".repeat(300),
  "ü🙂",
  "null",
  "undefined",
  "%E0%A4%A",
  "0x10",
  "{id}",
];

function poolForPath(operation: Operation, param: string): Pool[] {
  const path = operation.path;
  if (path.startsWith("/coaches/")) return ["coachProfile", "coachUser"];
  if (param === "client_id") return ["clientUser"];
  if (param === "coach_id") return ["coachUser"];
  if (path.startsWith("/booking/")) return ["booking"];
  if (path.startsWith("/payment/")) return ["payment"];
  if (path.startsWith("/community/posts/") || path.startsWith("/admin/posts/")) return ["post"];
  if (path.startsWith("/community/resources/")) return ["resource"];
  if (path.startsWith("/admin/users/")) return ["anyUser"];
  if (path.startsWith("/photos/")) return ["photoKey"];
  if (path.startsWith("/calendar/feed/")) return ["feedToken"];
  return ["anyUser"];
}

/** Operations whose success would damage the shared world: they aim at disposable targets only. */
function destructiveTarget(operation: Operation): "user" | "post" | undefined {
  if ((operation.method === "PATCH" || operation.method === "DELETE") && operation.path === "/admin/users/{id}") return "user";
  if (operation.method === "DELETE" && (operation.path === "/community/posts/{id}" || operation.path === "/admin/posts/{id}"))
    return "post";
  return undefined;
}

function authArbitrary(operation: Operation): fc.Arbitrary<AuthChoice> {
  if (operation.method === "DELETE" && operation.path === "/profile") {
    return fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...ROLES).map((role): AuthChoice => ({ kind: "disposable", role })) },
      { weight: 1, arbitrary: fc.constant<AuthChoice>({ kind: "none" }) },
    );
  }
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<AuthChoice>({ kind: "none" }) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom("garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
        .map((token): AuthChoice => ({ kind: "garbage", token })),
    },
    {
      weight: 9,
      arbitrary: fc
        .record({ role: fc.constantFrom(...ROLES), index: fc.nat(10) })
        .map(({ role, index }): AuthChoice => ({ kind: "role", role, index })),
    },
  );
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff, 0xe0];
const WEBP_MAGIC = [0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50];
const GIF_MAGIC = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61];

function csvArbitrary(valid: boolean): fc.Arbitrary<string> {
  const header =
    "email,role,first_name,last_name,password_hash,phone,timezone,bio,hourly_rate,currency,languages,countries,expertise,created_at";
  const row = fc
    .record({
      email: fc.oneof(simpleEmail, fc.constantFrom("bad-email", "")),
      role: fc.constantFrom("client", "coach", "admin", "x"),
      first: fc.constantFrom("Ana", "Bo", '"Quoted, name"', ""),
      rate: fc.constantFrom("", "100", "20", "600", "abc"),
      languages: fc.constantFrom("", "English;Spanish", "Klingon"),
      zone: fc.constantFrom("", "Europe/Madrid", "Mars/Base"),
    })
    .map((r) => `${r.email},${r.role},${r.first},Test,,,${r.zone},,${r.rate},USD,${r.languages},Spain,coaching,`);
  if (valid) return fc.array(row, { minLength: 0, maxLength: 4 }).map((rows) => `${[header, ...rows].join("\n")}\n`);
  return fc.constantFrom(
    "",
    "\n\n\n",
    "not,a,header\n1,2,3\n",
    'email\n"unterminated',
    "\u0000\u0001\u0002",
    `${header}\n${"x,".repeat(5_000)}\n`,
  );
}

function bodyArbitrary(
  operation: Operation,
  doc: OpenApiDocument,
  intent: "valid" | "invalid",
): fc.Arbitrary<PlannedBody | undefined> {
  const body = operation.body;
  const ctx: ArbitraryContext = { doc, method: operation.method, depth: 0 };
  if (!body) {
    // Routes without a body get the occasional unexpected one.
    if (intent === "valid" || operation.method === "GET") return fc.constant(undefined);
    return fc.option(fc.constant<PlannedBody>({ kind: "raw", contentType: "application/json", text: '{"unexpected":true}' }), {
      nil: undefined,
    });
  }
  if (body.contentType.startsWith("multipart/")) {
    return fc
      .record({
        field: intent === "valid" ? fc.constantFrom("photo", "file") : fc.constantFrom("photo", "file", "image", ""),
        file:
          intent === "valid"
            ? fc.constantFrom<"png" | "jpeg" | "webp">("png", "jpeg", "webp")
            : fc.constantFrom<"gif" | "text" | "empty" | "png">("gif", "text", "empty", "png"),
        size: intent === "valid" ? fc.integer({ min: 16, max: 4_096 }) : fc.constantFrom(0, 1, 5 * 1024 * 1024 + 1),
      })
      .map((multipart): PlannedBody => ({ kind: "multipart", ...multipart }));
  }
  if (body.contentType.startsWith("text/csv"))
    return csvArbitrary(intent === "valid").map((text): PlannedBody => ({ kind: "csv", text }));
  if (intent === "valid") return validValue(body.schema, ctx).map((value): PlannedBody => ({ kind: "json", value }));
  return fc.oneof(
    { weight: 5, arbitrary: invalidValue(body.schema, ctx).map((value): PlannedBody => ({ kind: "json", value })) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(
          "{",
          '{"a":',
          "[1,2",
          "not json",
          "",
          "null",
          '"string"',
          "123",
          "[]",
          '{"__proto__":{"role":"admin"}}',
          `${"[".repeat(5_000)}${"]".repeat(5_000)}`,
        )
        .map((text): PlannedBody => ({ kind: "raw", contentType: "application/json", text })),
    },
    {
      weight: 1,
      arbitrary: validValue(body.schema, ctx).chain((value) =>
        fc
          .constantFrom(undefined, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16")
          .map((contentType): PlannedBody => ({ kind: "raw", contentType, text: JSON.stringify(value) })),
      ),
    },
  );
}

function queryArbitrary(
  operation: Operation,
  doc: OpenApiDocument,
  intent: "valid" | "invalid",
): fc.Arbitrary<[string, Planned][]> {
  const ctx: ArbitraryContext = { doc, method: operation.method, depth: 0 };
  const entries = operation.queryParams.map((parameter) => {
    const schema = parameter.schema ?? { type: "string" };
    const value =
      intent === "valid"
        ? validValue(schema, ctx, parameter.name)
        : fc.oneof(validValue(schema, ctx, parameter.name), invalidValue(schema, ctx));
    const present = parameter.required ? fc.constant(true) : fc.boolean();
    return fc
      .tuple(present, value)
      .map(([include, planned]) => (include ? ([[parameter.name, planned]] as [string, Planned][]) : []));
  });
  const extra: fc.Arbitrary<[string, Planned][]> =
    intent === "valid"
      ? fc.constant([])
      : fc.option(
          fc.constantFrom<[string, Planned][]>(
            [["limit", 1_000]],
            [["skip", -1]],
            [["limit", "abc"]],
            [["unknown_param", "1"]],
            [["limit", 0]],
          ),
          { nil: [] },
        );
  return fc.tuple(fc.tuple(...entries), extra).map(([parts, more]) => [...parts.flat(), ...more]);
}

function pathValueArbitrary(operation: Operation, param: string, intent: "valid" | "invalid"): fc.Arbitrary<PathValue> {
  const target = destructiveTarget(operation);
  const pools = poolForPath(operation, param);
  const real: fc.Arbitrary<PathValue> = target
    ? fc.constant<PathValue>({ disposable: target })
    : fc.tuple(fc.constantFrom(...pools), fc.nat(1_000)).map(([pool, index]): PathValue => ({ $pool: pool, index }));
  const randomUuid = fc.uuid().map((literal): PathValue => ({ literal }));
  const malformed = fc.constantFrom(...MALFORMED_SEGMENTS).map((literal): PathValue => ({ literal }));
  if (intent === "valid") return fc.oneof({ weight: 6, arbitrary: real }, { weight: 1, arbitrary: randomUuid });
  return fc.oneof({ weight: 2, arbitrary: real }, { weight: 2, arbitrary: randomUuid }, { weight: 3, arbitrary: malformed });
}

export function requestArbitrary(operation: Operation, doc: OpenApiDocument): fc.Arbitrary<PlannedRequest> {
  const intent = fc.oneof(
    { weight: 3, arbitrary: fc.constant<"valid">("valid") },
    { weight: 2, arbitrary: fc.constant<"invalid">("invalid") },
  );
  return intent.chain((kind) => {
    const pathEntries = operation.pathParams.map((parameter) =>
      pathValueArbitrary(operation, parameter.name, kind).map((value) => [parameter.name, value] as const),
    );
    return fc
      .record({
        path: fc.tuple(...pathEntries),
        query: queryArbitrary(operation, doc, kind),
        auth: authArbitrary(operation),
        body: bodyArbitrary(operation, doc, kind),
      })
      .map(
        ({ path, query, auth, body }): PlannedRequest => ({
          operation: operation.key,
          method: operation.method,
          pathTemplate: operation.path,
          pathValues: Object.fromEntries(path),
          query,
          auth,
          body,
          intent: kind,
        }),
      );
  });
}

/** Any operation of the document, each equally likely. */
export function anyRequestArbitrary(operations: Operation[], doc: OpenApiDocument): fc.Arbitrary<PlannedRequest> {
  return fc.oneof(...operations.map((operation) => requestArbitrary(operation, doc)));
}

// ---------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------

function isPoolRef(value: unknown): value is PoolRef {
  return typeof value === "object" && value !== null && "$pool" in value;
}

function fromPool(world: FuzzWorld, ref: PoolRef): string {
  const pool = world.pools[ref.$pool];
  // An empty pool (nothing of that kind yet): an id that exists nowhere.
  return pool.length > 0 ? (pool[ref.index % pool.length] as string) : "00000000-0000-4000-8000-000000000000";
}

function materialise(world: FuzzWorld, value: Planned): unknown {
  if (isPoolRef(value)) return fromPool(world, value);
  if (Array.isArray(value)) return value.map((item) => materialise(world, item));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, materialise(world, item as Planned)]));
  return value;
}

function fileBytes(file: "png" | "jpeg" | "webp" | "gif" | "text" | "empty", size: number): Uint8Array {
  const magic =
    file === "png" ? PNG_MAGIC : file === "jpeg" ? JPEG_MAGIC : file === "webp" ? WEBP_MAGIC : file === "gif" ? GIF_MAGIC : [];
  if (file === "empty") return new Uint8Array(0);
  const bytes = new Uint8Array(Math.max(size, magic.length));
  if (file === "text") bytes.fill(0x61);
  else for (let i = magic.length; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
  bytes.set(magic, 0);
  return bytes;
}

export interface ConcreteRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | FormData | undefined;
  /** For reports: the body as text (multipart summarised). */
  bodyText: string | undefined;
}

export async function concretise(plan: PlannedRequest, world: FuzzWorld, baseUrl: string): Promise<ConcreteRequest> {
  const headers: Record<string, string> = {};
  const auth = plan.auth;
  if (auth.kind === "garbage") headers.authorization = `Bearer ${auth.token}`;
  else if (auth.kind === "role") {
    const users = world.users[auth.role];
    headers.authorization = `Bearer ${(users[auth.index % users.length] as WorldUser).token}`;
  } else if (auth.kind === "disposable") headers.authorization = `Bearer ${(await world.disposableUser(auth.role)).token}`;

  let path = plan.pathTemplate;
  for (const [name, value] of Object.entries(plan.pathValues)) {
    let segment: string;
    if ("literal" in value) segment = value.literal;
    else if ("disposable" in value)
      segment = value.disposable === "user" ? (await world.disposableUser("client")).id : await world.disposablePost();
    else segment = fromPool(world, value);
    // Malformed literals that look percent-encoded are sent as they are.
    path = path.replace(`{${name}}`, /%[0-9A-Fa-f]{0,2}/.test(segment) ? segment : encodeURIComponent(segment));
  }
  const search = new URLSearchParams();
  for (const [name, value] of plan.query) {
    const concrete = materialise(world, value);
    if (concrete === null || concrete === undefined) continue;
    if (Array.isArray(concrete))
      for (const item of concrete) search.append(name, typeof item === "string" ? item : JSON.stringify(item));
    else
      search.append(
        name,
        typeof concrete === "string" ? concrete : typeof concrete === "object" ? JSON.stringify(concrete) : String(concrete),
      );
  }
  const query = search.toString();

  let body: string | FormData | undefined;
  let bodyText: string | undefined;
  const planned = plan.body;
  if (planned?.kind === "json") {
    body = JSON.stringify(materialise(world, planned.value));
    bodyText = body;
    headers["content-type"] = "application/json";
  } else if (planned?.kind === "raw") {
    body = planned.text;
    bodyText = planned.text.length > 300 ? `${planned.text.slice(0, 300)}... (${planned.text.length} chars)` : planned.text;
    if (planned.contentType) headers["content-type"] = planned.contentType;
  } else if (planned?.kind === "csv") {
    body = planned.text;
    bodyText = planned.text.length > 300 ? `${planned.text.slice(0, 300)}...` : planned.text;
    headers["content-type"] = "text/csv";
  } else if (planned?.kind === "multipart") {
    const form = new FormData();
    const bytes = fileBytes(planned.file, planned.size);
    form.append(
      planned.field || "unnamed",
      new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "image/png" }),
      `upload.${planned.file}`,
    );
    body = form;
    bodyText = `multipart field=${planned.field} file=${planned.file} bytes=${bytes.length}`;
  }
  return { method: plan.method, url: `${baseUrl}${path}${query ? `?${query}` : ""}`, headers, body, bodyText };
}

export interface Outcome {
  request: ConcreteRequest;
  status: number;
  headers: Headers | undefined;
  contentType: string;
  text: string;
  durationMs: number;
  networkError?: string;
}

export async function send(request: ConcreteRequest, timeoutMs = 30_000): Promise<Outcome> {
  const started = performance.now();
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return {
      request,
      status: response.status,
      headers: response.headers,
      contentType: response.headers.get("content-type") ?? "",
      text,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    return {
      request,
      status: 0,
      headers: undefined,
      contentType: "",
      text: "",
      durationMs: performance.now() - started,
      networkError: String(error),
    };
  }
}

/** Adds ids from successful answers to the pools, so later requests reach deeper. */
export function harvest(world: FuzzWorld, operation: Operation, outcome: Outcome): void {
  if (outcome.status < 200 || outcome.status >= 300 || !outcome.contentType.includes("json")) return;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(outcome.text) as Record<string, unknown>;
  } catch {
    return;
  }
  const add = (pool: Pool, value: unknown) => {
    if (typeof value === "string" && !world.pools[pool].includes(value)) world.pools[pool].push(value);
  };
  const key = operation.key;
  if (key === "POST /booking") add("booking", body.id);
  else if (key === "POST /community/posts") add("post", body.id);
  else if (key === "POST /community/resources") add("resource", body.id);
  else if (key === "POST /calendar/feed-token" && typeof body.feed_url === "string")
    add("feedToken", /\/calendar\/feed\/([^/]+)\.ics/.exec(body.feed_url)?.[1]);
  else if (key === "POST /profile/photo" && typeof body.photo_url === "string") add("photoKey", body.photo_url.split("/").pop());
  else if (
    (key === "POST /auth/login" || key === "POST /auth/refresh" || key === "POST /auth/signup") &&
    typeof body.refresh_token === "string"
  ) {
    add("refreshToken", body.refresh_token);
  }
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/** Rewrites "#/components/schemas/X" to the shared definitions document. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        key === "$ref" && typeof item === "string"
          ? item.replace("#/components/schemas/", "defs.json#/$defs/")
          : rewriteRefs(item),
      ]),
    );
  }
  return value;
}

export class ResponseValidator {
  private readonly ajv: InstanceType<typeof Ajv2020>;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(doc: OpenApiDocument) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addFormat("binary", true);
    this.ajv.addSchema({ $id: "defs.json", $defs: rewriteRefs(doc.components?.schemas ?? {}) });
  }

  /** Errors of `body` against `schema` (a schema from the document), or [] when valid. */
  validate(cacheKey: string, schema: JsonSchema, body: unknown): string[] {
    let validate = this.cache.get(cacheKey);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(schema) as JsonSchema);
      this.cache.set(cacheKey, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).slice(0, 5).map((error) => `${error.instancePath || "/"} ${error.message ?? "invalid"}`);
  }

  errorSchema(): JsonSchema {
    return { $ref: "#/components/schemas/Error" };
  }
}

export interface Finding {
  severity: "error" | "warning";
  operation: string;
  status: number;
  problem: string;
}

/** Everything wrong with one answer ([] when it is as the contract and the document say). */
export function checkOutcome(validator: ResponseValidator, operation: Operation, outcome: Outcome): Finding[] {
  const findings: Finding[] = [];
  const fail = (problem: string, severity: Finding["severity"] = "error") =>
    findings.push({ severity, operation: operation.key, status: outcome.status, problem });
  if (outcome.status === 0) {
    fail(`no response: ${outcome.networkError ?? "unknown"}`);
    return findings;
  }
  const headers = outcome.headers as Headers;
  if (outcome.status >= 500) fail(`server error ${outcome.status}: ${outcome.text.slice(0, 300)}`);
  const requestId = headers.get("x-request-id");
  if (!requestId) fail("no X-Request-Id header");
  for (const name of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"])
    if (!headers.get(name)) fail(`no ${name} header`);
  if (headers.get("x-content-type-options") !== "nosniff") fail("no X-Content-Type-Options: nosniff");
  // Excessive data exposure (OWASP API3): no answer ever carries a password
  // hash, a stored token hash or a Stripe secret, whatever the route.
  if (/"(password_hash|passwordHash|token_hash|tokenHash)"\s*:|\$2[aby]\$\d\d\$|sk_(test|live)_|whsec_/.test(outcome.text))
    fail("answer exposes a secret (password hash, token hash or Stripe key)");

  const documented = operation.responses[String(outcome.status)];
  if (!documented && outcome.status !== 304)
    fail(
      `status ${outcome.status} is not documented for this operation`,
      outcome.status >= 200 && outcome.status < 300 ? "error" : "warning",
    );

  if (outcome.status >= 400) {
    let body: unknown;
    try {
      body = JSON.parse(outcome.text);
    } catch {
      fail(`error answer is not JSON: ${outcome.text.slice(0, 200)}`);
      return findings;
    }
    const errors = validator.validate("Error", validator.errorSchema(), body);
    if (errors.length > 0) fail(`error answer is not the envelope: ${errors.join("; ")}`);
    const envelope = body as { error?: { request_id?: unknown; code?: unknown; message?: unknown } };
    if (envelope.error?.request_id !== requestId) fail("envelope request_id differs from X-Request-Id");
    if (/\bat\s+\S+\s+\(|node_modules|\.ts:\d+/.test(outcome.text)) fail("error answer contains a stack trace");
    return findings;
  }

  if (outcome.status >= 200 && outcome.status < 300 && documented) {
    const content = documented.content;
    if (outcome.status === 204 || !content) {
      if (outcome.text.length > 0) fail(`documented without a body, answered ${outcome.text.length} bytes`);
      return findings;
    }
    const types = Object.keys(content);
    const actualType = outcome.contentType.split(";")[0]?.trim() ?? "";
    if (!types.includes(actualType)) {
      fail(`content-type ${actualType || "(none)"} is not one of the documented ${types.join(", ")}`);
      return findings;
    }
    const schema = content[actualType]?.schema;
    if (actualType === "application/json" && schema) {
      let body: unknown;
      try {
        body = JSON.parse(outcome.text);
      } catch {
        fail("documented JSON, answered something else");
        return findings;
      }
      const errors = validator.validate(`${operation.key} ${outcome.status}`, schema, body);
      if (errors.length > 0) fail(`body does not match the documented schema: ${errors.join("; ")}`);
    }
  }
  return findings;
}

/** A reproducible description of a request, for reports. */
export function describeRequest(request: ConcreteRequest): string {
  const headers = Object.entries(request.headers)
    .map(([name, value]) => `-H '${name}: ${name === "authorization" ? `${value.slice(0, 24)}...` : value}'`)
    .join(" ");
  return `curl -X ${request.method} '${request.url}' ${headers}${request.bodyText !== undefined ? ` --data '${request.bodyText.slice(0, 400)}'` : ""}`;
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

export class FuzzStats {
  requests = 0;
  readonly byOperation = new Map<string, number>();
  readonly byStatus = new Map<number, number>();
  readonly twoXxByOperation = new Map<string, number>();
  readonly msByOperation = new Map<string, number>();
  readonly findings = new Map<string, { finding: Finding; count: number; example: string }>();
  slowest = 0;

  record(operation: Operation, outcome: Outcome, findings: Finding[]): void {
    this.requests++;
    this.byOperation.set(operation.key, (this.byOperation.get(operation.key) ?? 0) + 1);
    this.byStatus.set(outcome.status, (this.byStatus.get(outcome.status) ?? 0) + 1);
    if (outcome.status >= 200 && outcome.status < 300)
      this.twoXxByOperation.set(operation.key, (this.twoXxByOperation.get(operation.key) ?? 0) + 1);
    this.slowest = Math.max(this.slowest, outcome.durationMs);
    this.msByOperation.set(operation.key, (this.msByOperation.get(operation.key) ?? 0) + outcome.durationMs);
    for (const finding of findings) {
      const key = `${finding.severity} ${finding.operation} ${finding.status} ${finding.problem.slice(0, 120)}`;
      const existing = this.findings.get(key);
      if (existing) existing.count++;
      else this.findings.set(key, { finding, count: 1, example: describeRequest(outcome.request) });
    }
  }

  errors(): { finding: Finding; count: number; example: string }[] {
    return [...this.findings.values()].filter((entry) => entry.finding.severity === "error");
  }

  warnings(): { finding: Finding; count: number; example: string }[] {
    return [...this.findings.values()].filter((entry) => entry.finding.severity === "warning");
  }

  serverErrors(): number {
    let count = 0;
    for (const [status, n] of this.byStatus) if (status >= 500 || status === 0) count += n;
    return count;
  }

  summary(operations: Operation[]): string {
    const lines: string[] = [];
    const covered = operations.filter((operation) => this.byOperation.has(operation.key)).length;
    const reached = operations.filter((operation) => this.twoXxByOperation.has(operation.key)).length;
    lines.push(`requests: ${this.requests}`);
    lines.push(`operations covered: ${covered}/${operations.length} (with at least one 2xx: ${reached}/${operations.length})`);
    lines.push(
      `status histogram: ${[...this.byStatus.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([status, n]) => `${status}=${n}`)
        .join(" ")}`,
    );
    lines.push(`5xx or no answer: ${this.serverErrors()}`);
    lines.push(`slowest answer: ${Math.round(this.slowest)} ms`);
    const costly = [...this.msByOperation.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    lines.push(
      `most time spent in: ${costly.map(([key, ms]) => `${key} ${Math.round(ms / (this.byOperation.get(key) ?? 1))} ms avg`).join(", ")}`,
    );
    const noSuccess = operations
      .filter((operation) => !this.twoXxByOperation.has(operation.key))
      .map((operation) => operation.key);
    if (noSuccess.length > 0) lines.push(`operations never answered 2xx: ${noSuccess.join(", ")}`);
    for (const [label, entries] of [
      ["ERRORS", this.errors()],
      ["warnings", this.warnings()],
    ] as const) {
      if (entries.length === 0) continue;
      lines.push(`${label}:`);
      for (const { finding, count, example } of entries)
        lines.push(`  [${count}x] ${finding.operation} -> ${finding.status}: ${finding.problem}\n      e.g. ${example}`);
    }
    return lines.join("\n");
  }
}

/** Runs planned requests with bounded concurrency; returns the findings of each. */
export async function runPlans(
  plans: PlannedRequest[],
  context: {
    baseUrl: string;
    world: FuzzWorld;
    operations: Map<string, Operation>;
    validator: ResponseValidator;
    stats: FuzzStats;
    concurrency: number;
  },
): Promise<{ plan: PlannedRequest; outcome: Outcome; findings: Finding[] }[]> {
  const results: { plan: PlannedRequest; outcome: Outcome; findings: Finding[] }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < plans.length) {
      const plan = plans[next++] as PlannedRequest;
      const operation = context.operations.get(plan.operation) as Operation;
      const request = await concretise(plan, context.world, context.baseUrl);
      const outcome = await send(request);
      const findings = checkOutcome(context.validator, operation, outcome);
      harvest(context.world, operation, outcome);
      context.stats.record(operation, outcome, findings);
      results.push({ plan, outcome, findings });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, context.concurrency) }, worker));
  return results;
}
