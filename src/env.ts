import { z } from "zod";
import type { Database } from "./db/client.ts";
import type { RateLimiter } from "./durable/rate-limiter.ts";
import type { EmailMessage } from "./platform/notifications-queue.ts";
import type { RateLimitBinding } from "./platform/rate-limiter.ts";

/** Everything the Worker receives from wrangler.toml, .dev.vars and secrets. */
export interface Bindings {
  // vars and secrets
  DATABASE_URL: string;
  /** Local only: ws:// URL of the WebSocket-to-TCP proxy in front of a local Postgres. */
  WS_PROXY?: string;
  JWT_SECRET?: string;
  ENVIRONMENT?: string;
  APP_VERSION?: string;
  /** Public origin of this API, used in links (emails, feeds, photos). */
  PUBLIC_BASE_URL?: string;
  CORS_ORIGINS?: string;
  RATE_LIMIT_PER_MINUTE?: string;
  STRIPE_SECRET_KEY?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  STRIPE_API_BASE?: string;
  /** Checkout redirect targets (the web app); defaults derive from PUBLIC_BASE_URL. */
  CHECKOUT_SUCCESS_URL?: string;
  CHECKOUT_CANCEL_URL?: string;
  /** HTTP email API (JSON POST {from,to,subject,text}, bearer EMAIL_API_KEY). */
  EMAIL_API_URL?: string;
  EMAIL_API_KEY?: string;
  EMAIL_FROM?: string;
  /** Test-only: lets tests move the server clock (ignored unless ENVIRONMENT is test). */
  ALLOW_TEST_CLOCK?: string;
  /** Generated meeting links: MEETING_BASE_URL + "/" + room (default https://meet.jit.si). */
  MEETING_BASE_URL?: string;
  // --- payouts (Stripe Connect) ---
  /** Platform fee in percent of each payment (default 15). */
  PLATFORM_FEE_PERCENT?: string;
  /** "1": POST /booking refuses coaches who cannot receive payouts. */
  PAYOUTS_REQUIRED?: string;
  /** Where Stripe sends the coach after onboarding / when the link expired; default under PUBLIC_BASE_URL. */
  CONNECT_RETURN_URL?: string;
  CONNECT_REFRESH_URL?: string;

  // bindings
  MATCH_CACHE: KVNamespace;
  UPLOADS: R2Bucket;
  NOTIFICATIONS: Queue<EmailMessage>;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** Optional Workers AI binding for the semantic part of matching. */
  AI?: Ai;
  /** Static assets (public/: the /docs page's script); absent outside the Workers runtime. */
  ASSETS?: Fetcher;
  // --- edge data path (issue 13) ---
  /** Optional Hyperdrive binding: when bound, the database is reached through it (src/db/client.ts). */
  HYPERDRIVE?: Hyperdrive;
  /** Optional Rate Limiting binding (`[[ratelimits]]`): per-location limit shared by the isolates of a location. */
  RATE_LIMITS?: RateLimitBinding;
  /** "location" (default) or "exact" (Durable Object counter per user/IP). */
  RATE_LIMIT_MODE?: string;
  /** "on" (default) or "off": the edge cache of public reads (middleware/edge-cache.ts). */
  EDGE_CACHE?: string;
}

/** The authenticated caller, as established by the auth middleware. */
export interface AuthUser {
  id: string;
  role: "client" | "coach" | "admin";
}

export interface Variables {
  requestId: string;
  /** readConfig(c.env), validated once per isolate and env object (middleware/config.ts). */
  config: Config;
  db: Database;
  /** What services receive: built by the database middleware (and by index.ts for scheduled/queue). */
  deps: Deps;
  /** Set when a valid access token was presented (requireUser makes it mandatory). */
  user: AuthUser | undefined;
  /** The request's notion of "now" (injectable in tests). */
  now: Date;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}

// ---------------------------------------------------------------------------
// Configuration: read once, validated, handed to services as values.
// ---------------------------------------------------------------------------

const DEVELOPMENT_JWT_SECRET = "culturebridge-development-only-secret-do-not-use-in-production";
const DEFAULT_DEV_BASE_URL = "http://127.0.0.1:8787";
const DEFAULT_MEETING_BASE_URL = "https://meet.jit.si";

/** An absolute http(s) origin-or-prefix, without a trailing slash. */
const baseUrl = z
  .string()
  .trim()
  .url()
  .refine((value) => /^https?:\/\//i.test(value), "must be an http(s) URL")
  .transform((value) => value.replace(/\/+$/, ""));

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));

const environmentSchema = z.enum(["production", "staging", "development", "test"]);

/** The raw vars as wrangler hands them over (strings), validated and turned into values. */
const rawConfigSchema = z.object({
  ENVIRONMENT: z.preprocess((value) => value ?? "production", environmentSchema),
  APP_VERSION: optionalText,
  DATABASE_URL: optionalText,
  WS_PROXY: optionalText,
  JWT_SECRET: optionalText,
  PUBLIC_BASE_URL: optionalText,
  CORS_ORIGINS: optionalText,
  RATE_LIMIT_PER_MINUTE: optionalText,
  STRIPE_SECRET_KEY: optionalText,
  STRIPE_WEBHOOK_SECRET: optionalText,
  STRIPE_API_BASE: optionalText,
  CHECKOUT_SUCCESS_URL: optionalText,
  CHECKOUT_CANCEL_URL: optionalText,
  EMAIL_API_URL: optionalText,
  EMAIL_API_KEY: optionalText,
  EMAIL_FROM: optionalText,
  ALLOW_TEST_CLOCK: optionalText,
  // accounts (issue 15): links in emails, development CORS default
  APP_BASE_URL: optionalText,
  // --- edge data path (issue 13) ---
  RATE_LIMIT_MODE: z.preprocess((value) => value || "location", z.enum(["location", "exact"])),
  EDGE_CACHE: z.preprocess((value) => value || "on", z.enum(["on", "off"])),
  // bookings (contract v2 Meeting links)
  MEETING_BASE_URL: optionalText,
  // --- payouts (Stripe Connect) ---
  PLATFORM_FEE_PERCENT: optionalText,
  PAYOUTS_REQUIRED: optionalText,
  CONNECT_RETURN_URL: optionalText,
  CONNECT_REFRESH_URL: optionalText,
});

export type Environment = z.infer<typeof environmentSchema>;

export interface Config {
  environment: Environment;
  /** development or test: dev-only routes, kept emails, X-DB-Queries, local fallbacks. */
  isLocal: boolean;
  appVersion: string;
  database: { url: string; wsProxy: string | undefined };
  /** HS256 key (>= 32 bytes outside development). */
  jwtKey: Uint8Array;
  /** Origin used in every link the API writes (emails, calendar feeds, photos, Stripe return URLs). */
  publicBaseUrl: string;
  corsOrigins: string[];
  rateLimitPerMinute: number;
  stripe: { secretKey: string | undefined; webhookSecret: string | undefined; apiBase: URL | undefined };
  checkoutSuccessUrl: string;
  checkoutCancelUrl: string;
  email: { apiUrl: string | undefined; apiKey: string | undefined; from: string };
  /** Tests move the clock with X-Test-Now only when ENVIRONMENT=test and ALLOW_TEST_CLOCK=1. */
  allowTestClock: boolean;
  // accounts (issue 15)
  /**
   * Where the links of verification and reset emails point (the web app's
   * `/auth/verify-email?token=` and `/auth/reset-password/confirm?token=`);
   * default PUBLIC_BASE_URL, whose own HTML pages at those paths do the action.
   */
  appBaseUrl: string;
  /**
   * The CORS rule: an origin listed in CORS_ORIGINS (`*` any); in development
   * with CORS_ORIGINS unset, also any `http://localhost:<port>` and
   * `http://127.0.0.1:<port>` (a frontend dev server); never otherwise.
   */
  allowsOrigin: (origin: string) => boolean;
  // --- edge data path (issue 13) ---
  /** Where the general rate limit is counted (platform/rate-limiter.ts). */
  rateLimitMode: "location" | "exact";
  /** false: every public read is answered by its route (an operator's switch, README "Edge cache"). */
  edgeCache: boolean;
  // bookings (contract v2 Meeting links)
  /** Generated meeting links are this + "/" + an unguessable room name (default https://meet.jit.si). */
  meetingBaseUrl: string;
  // --- payouts (Stripe Connect) ---
  payouts: {
    /** PLATFORM_FEE_PERCENT, 0-100 (default 15). */
    feePercent: number;
    /** PAYOUTS_REQUIRED=1: bookings only with coaches who can receive payouts. */
    required: boolean;
    returnUrl: string;
    refreshUrl: string;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 100;
export const DEFAULT_PLATFORM_FEE_PERCENT = 15;

/** Lenient on purpose: an unusable value means the documented default, not an outage. */
export function rateLimitPerMinute(value: string | undefined): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : DEFAULT_RATE_LIMIT_PER_MINUTE;
}

type RawEnv = Partial<Record<keyof z.infer<typeof rawConfigSchema>, unknown>>;

/**
 * The only reader of vars and secrets. Outside development/test a missing or
 * malformed required value (DATABASE_URL, JWT_SECRET >= 32 bytes, PUBLIC_BASE_URL)
 * is a ConfigError (the Worker answers 503 with one log line), never a
 * localhost fallback.
 */
export function readConfig(env: RawEnv): Config {
  const parsed = rawConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  const raw = parsed.data;
  const isLocal = raw.ENVIRONMENT === "development" || raw.ENVIRONMENT === "test";
  const problems: string[] = [];

  const url = (name: string, value: string | undefined, fallback: string | undefined): string | undefined => {
    if (value === undefined) {
      if (fallback === undefined) problems.push(`${name} is required`);
      return fallback;
    }
    const result = baseUrl.safeParse(value);
    if (!result.success) {
      problems.push(`${name} must be an absolute http(s) URL`);
      return fallback;
    }
    return result.data;
  };

  // A Hyperdrive binding carries its own connection string (src/db/client.ts); DATABASE_URL is then optional.
  const hyperdrive = (env as { HYPERDRIVE?: { connectionString?: unknown } }).HYPERDRIVE;
  if (!raw.DATABASE_URL && typeof hyperdrive?.connectionString !== "string") problems.push("DATABASE_URL is required");
  const secretBytes = raw.JWT_SECRET ? new TextEncoder().encode(raw.JWT_SECRET) : undefined;
  if (!isLocal && (!secretBytes || secretBytes.length < 32)) problems.push("JWT_SECRET must be at least 32 bytes");
  const publicBaseUrl = url("PUBLIC_BASE_URL", raw.PUBLIC_BASE_URL, isLocal ? DEFAULT_DEV_BASE_URL : undefined);
  const stripeApiBase = raw.STRIPE_API_BASE ? url("STRIPE_API_BASE", raw.STRIPE_API_BASE, undefined) : undefined;
  const successUrl = raw.CHECKOUT_SUCCESS_URL ? url("CHECKOUT_SUCCESS_URL", raw.CHECKOUT_SUCCESS_URL, undefined) : undefined;
  const cancelUrl = raw.CHECKOUT_CANCEL_URL ? url("CHECKOUT_CANCEL_URL", raw.CHECKOUT_CANCEL_URL, undefined) : undefined;
  const emailApiUrl = raw.EMAIL_API_URL ? url("EMAIL_API_URL", raw.EMAIL_API_URL, undefined) : undefined;
  const appBaseUrl = raw.APP_BASE_URL ? url("APP_BASE_URL", raw.APP_BASE_URL, undefined) : undefined;
  const meetingBaseUrl = url("MEETING_BASE_URL", raw.MEETING_BASE_URL, DEFAULT_MEETING_BASE_URL);
  // --- payouts (Stripe Connect) ---
  const feePercent = raw.PLATFORM_FEE_PERCENT === undefined ? DEFAULT_PLATFORM_FEE_PERCENT : Number(raw.PLATFORM_FEE_PERCENT);
  if (!Number.isFinite(feePercent) || feePercent < 0 || feePercent > 100)
    problems.push("PLATFORM_FEE_PERCENT must be a number from 0 to 100");
  if (raw.PAYOUTS_REQUIRED !== undefined && !["0", "1"].includes(raw.PAYOUTS_REQUIRED))
    problems.push("PAYOUTS_REQUIRED must be 0 or 1");
  const connectReturnUrl = raw.CONNECT_RETURN_URL ? url("CONNECT_RETURN_URL", raw.CONNECT_RETURN_URL, undefined) : undefined;
  const connectRefreshUrl = raw.CONNECT_REFRESH_URL ? url("CONNECT_REFRESH_URL", raw.CONNECT_REFRESH_URL, undefined) : undefined;
  // The local Stripe stand-in (npm start) speaks plain http on loopback: never outside development/test.
  if (!isLocal && stripeApiBase && !stripeApiBase.startsWith("https://"))
    problems.push("STRIPE_API_BASE must be https outside development");
  if (problems.length > 0) throw new ConfigError(problems);
  const corsOrigins = (raw.CORS_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);

  const base = publicBaseUrl ?? DEFAULT_DEV_BASE_URL;
  return {
    environment: raw.ENVIRONMENT,
    isLocal,
    appVersion: raw.APP_VERSION ?? "0.1.0",
    database: { url: raw.DATABASE_URL ?? "", wsProxy: raw.WS_PROXY },
    jwtKey: secretBytes ?? new TextEncoder().encode(DEVELOPMENT_JWT_SECRET),
    publicBaseUrl: base,
    corsOrigins,
    rateLimitPerMinute: rateLimitPerMinute(raw.RATE_LIMIT_PER_MINUTE),
    stripe: {
      secretKey: raw.STRIPE_SECRET_KEY,
      webhookSecret: raw.STRIPE_WEBHOOK_SECRET,
      apiBase: stripeApiBase ? new URL(stripeApiBase) : undefined,
    },
    checkoutSuccessUrl: successUrl ?? `${base}/payment/success`,
    checkoutCancelUrl: cancelUrl ?? `${base}/payment/cancelled`,
    email: {
      apiUrl: emailApiUrl,
      apiKey: raw.EMAIL_API_KEY,
      from: raw.EMAIL_FROM ?? "CultureBridge <no-reply@culturebridge.app>",
    },
    allowTestClock: raw.ENVIRONMENT === "test" && raw.ALLOW_TEST_CLOCK === "1",
    appBaseUrl: appBaseUrl ?? base,
    allowsOrigin: originRule(corsOrigins, raw.ENVIRONMENT === "development" && raw.CORS_ORIGINS === undefined),
    // --- edge data path (issue 13) ---
    rateLimitMode: raw.RATE_LIMIT_MODE,
    edgeCache: raw.EDGE_CACHE === "on",
    meetingBaseUrl: meetingBaseUrl ?? DEFAULT_MEETING_BASE_URL,
    payouts: {
      feePercent,
      required: raw.PAYOUTS_REQUIRED === "1",
      returnUrl: connectReturnUrl ?? `${base}/payouts/onboarding/return`,
      refreshUrl: connectRefreshUrl ?? `${base}/payouts/onboarding/refresh`,
    },
  };
}

/** `http://localhost:<port>` / `http://127.0.0.1:<port>` (port optional): a local dev server's origin. */
const LOCAL_DEV_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/;

function originRule(origins: string[], localDefault: boolean): (origin: string) => boolean {
  if (origins.includes("*")) return () => true;
  const listed = new Set(origins);
  return (origin) => listed.has(origin) || (localDefault && LOCAL_DEV_ORIGIN.test(origin));
}

/** readConfig once per env object (wrangler hands the same object to every request of an isolate). */
const configCache = new WeakMap<object, Config>();
export function configFor(env: Bindings): Config {
  const cached = configCache.get(env);
  if (cached) return cached;
  const config = readConfig(env as unknown as RawEnv);
  configCache.set(env, config);
  return config;
}

// ---------------------------------------------------------------------------
// Per-request (or per-cron-run) dependencies of services: `(deps, input)`.
// ---------------------------------------------------------------------------

/** Bindings services may use, through platform/ adapters. */
export interface Platform {
  queue: Queue<EmailMessage> | undefined;
  uploads: R2Bucket | undefined;
  matchCache: KVNamespace | undefined;
  rateLimiter: DurableObjectNamespace<RateLimiter> | undefined;
}

export interface Log {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface Deps {
  db: Database;
  config: Config;
  now: Date;
  log: Log;
  /** Work that may finish after the response (ctx.waitUntil). */
  defer: (work: Promise<unknown>) => void;
  platform: Platform;
}

/**
 * What services that talk to the outside receive besides the database handle:
 * configuration values and platform bindings, never raw env strings.
 */
export type ServiceEnv = Pick<Deps, "config" | "platform" | "log" | "defer">;

/** ServiceEnv outside a request (scheduled, queue, tests): config from the env, one log, `defer` to waitUntil. */
export function serviceEnvOf(env: Bindings, defer: (work: Promise<unknown>) => void, log: Log): ServiceEnv {
  return { config: configFor(env), platform: platformOf(env), log, defer };
}

export function platformOf(env: Bindings): Platform {
  return { queue: env.NOTIFICATIONS, uploads: env.UPLOADS, matchCache: env.MATCH_CACHE, rateLimiter: env.RATE_LIMITER };
}
