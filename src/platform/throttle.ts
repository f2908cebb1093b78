/**
 * Adapter to the RateLimiter Durable Object for the account-protection
 * brakes that services apply (the rules are the services'; the counting is
 * exact and serial in one object per key):
 *
 * - Login throttle (contract, beyond; issue 19): at most 10 failed password
 *   checks per (email, client) in any 15 minutes, the client being its IPv4
 *   address or IPv6 /64 (lib/ip-bucket.ts); and at most 30 per account from
 *   all clients together, so that guessing spread over many addresses is
 *   bounded too. Once either is reached the next attempt is 429 without a
 *   password check. A success clears the (email, client) count only: an
 *   attacker cannot reset the account cap by also owning a valid login.
 *   The account cap is the price of that bound: a distributed attacker can
 *   lock an account for up to 15 minutes (the pair throttle alone could not).
 * - Quotas: "at most N an hour" for reset emails per address and
 *   verification resends per user.
 *
 * Without the binding (plain app.request in Node unit tests) nothing is counted.
 */
import type { RateLimiter } from "../durable/rate-limiter.ts";
import { normalizeEmail } from "../lib/email-address.ts";
import { AppError } from "../lib/errors.ts";
import { ipBucket } from "../lib/ip-bucket.ts";

type Namespace = DurableObjectNamespace<RateLimiter> | undefined;

export const LOGIN_FAILURE_LIMIT = 10;
export const LOGIN_ACCOUNT_FAILURE_LIMIT = 30;
export const LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60;

/** The Durable Object key of one (email, client) pair; the email normalised as the login does. */
export function loginThrottleKey(email: string, ip: string): string {
  return `login:${normalizeEmail(email)}:${ipBucket(ip)}`;
}

export function loginAccountKey(email: string): string {
  return `login-account:${normalizeEmail(email)}`;
}

export interface LoginAttempt {
  email: string;
  /** The client's address as the edge states it (CF-Connecting-IP). */
  ip: string;
}

function stub(namespace: NonNullable<Namespace>, key: string) {
  return namespace.get(namespace.idFromName(key));
}

function retryAfter(resetAt: number, now: Date): number {
  return Math.max(1, resetAt - Math.floor(now.getTime() / 1000));
}

/** 429 when the pair or the account has used up its failures; reads only. */
export async function assertLoginAllowed(namespace: Namespace, attempt: LoginAttempt, now: Date): Promise<void> {
  if (!namespace) return;
  const nowMs = now.getTime();
  const [pair, account] = await Promise.all([
    stub(namespace, loginThrottleKey(attempt.email, attempt.ip)).failures(
      LOGIN_FAILURE_LIMIT,
      LOGIN_FAILURE_WINDOW_SECONDS,
      nowMs,
      0,
    ),
    stub(namespace, loginAccountKey(attempt.email)).failures(LOGIN_ACCOUNT_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS, nowMs, 0),
  ]);
  const blocked = !pair.allowed ? pair : !account.allowed ? account : undefined;
  if (!blocked) return;
  const seconds = retryAfter(blocked.resetAt, now);
  throw new AppError(
    "RATE_LIMIT_EXCEEDED",
    blocked === pair
      ? "Too many failed login attempts for this account from your address; try again later"
      : "Too many failed login attempts for this account; try again later",
    {
      limit: blocked.limit,
      window_seconds: LOGIN_FAILURE_WINDOW_SECONDS,
      retry_after_seconds: seconds,
      scope: blocked === pair ? "account_and_address" : "account",
    },
    { "Retry-After": String(seconds) },
  );
}

/** A wrong password (or unknown email): counted for the pair and for the account. */
export async function recordLoginFailure(namespace: Namespace, attempt: LoginAttempt, now: Date): Promise<void> {
  if (!namespace) return;
  const nowMs = now.getTime();
  await Promise.all([
    stub(namespace, loginThrottleKey(attempt.email, attempt.ip)).failures(
      LOGIN_FAILURE_LIMIT,
      LOGIN_FAILURE_WINDOW_SECONDS,
      nowMs,
      1,
    ),
    stub(namespace, loginAccountKey(attempt.email)).failures(LOGIN_ACCOUNT_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS, nowMs, 1),
  ]);
}

/** A correct password: the pair starts over (the account cap does not, see above). */
export async function recordLoginSuccess(namespace: Namespace, attempt: LoginAttempt): Promise<void> {
  if (!namespace) return;
  await stub(namespace, loginThrottleKey(attempt.email, attempt.ip)).reset();
}

export interface QuotaOutcome {
  allowed: boolean;
  retryAfterSeconds: number;
}

/** Takes one use of `key`'s quota (limit per sliding window) when one is left. */
export async function takeQuota(
  namespace: Namespace,
  key: string,
  limit: number,
  windowSeconds: number,
  now: Date,
): Promise<QuotaOutcome> {
  if (!namespace) return { allowed: true, retryAfterSeconds: 0 };
  const result = await stub(namespace, `quota:${key}`).take(limit, windowSeconds, now.getTime());
  return { allowed: result.allowed, retryAfterSeconds: result.allowed ? 0 : retryAfter(result.resetAt, now) };
}
