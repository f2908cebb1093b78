import type { Database } from "./db/client.ts";
import type { RateLimiter } from "./durable/rate-limiter.ts";
import type { EmailMessage } from "./platform/notifications-queue.ts";

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

  // bindings
  MATCH_CACHE: KVNamespace;
  UPLOADS: R2Bucket;
  NOTIFICATIONS: Queue<EmailMessage>;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** Optional Workers AI binding for the semantic part of matching. */
  AI?: Ai;
}

/** The authenticated caller, as established by the auth middleware. */
export interface AuthUser {
  id: string;
  role: "client" | "coach" | "admin";
}

export interface Variables {
  requestId: string;
  db: Database;
  /** Set when a valid access token was presented (requireUser makes it mandatory). */
  user: AuthUser | undefined;
  /** The request's notion of "now" (injectable in tests). */
  now: Date;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}
