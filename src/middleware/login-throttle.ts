/**
 * Password-guessing brake on POST /auth/login (contract, beyond): at most 10
 * failed attempts per (email, client IP) in any 15 minutes; the next attempt
 * is answered 429 RATE_LIMIT_EXCEEDED without checking the password (no
 * bcrypt work for the attacker either). A successful login clears the count.
 *
 * Keyed by email AND IP on purpose: keyed by email alone, anyone could lock a
 * victim out of their account from anywhere by failing 10 times; keyed by
 * (email, IP) the victim's own IP keeps its full allowance. Distributed
 * guessing from many IPs is still bounded per IP here and by the general
 * per-IP limit (100 requests/minute).
 *
 * It wraps the login route (which another module owns) rather than living in
 * it: before next() it reads the email from the JSON body — Hono caches the
 * parsed body, so the route's validator reads it again — and after next() it
 * counts the outcome: 401 = a failure, 200 = reset.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { normalizeEmail } from "../lib/email-address.ts";
import { AppError } from "../lib/errors.ts";
import { clientIp, retryAfterSeconds } from "./rate-limit.ts";

export const LOGIN_FAILURE_LIMIT = 10;
export const LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60;
/** Longer strings are no email (the route answers 400) and would make an oversized object name. */
const MAX_EMAIL_LENGTH = 320;

/** The Durable Object key of one (email, IP) pair; the email normalised as the login route does. */
export function loginThrottleKey(email: string, ip: string): string {
  return `login:${normalizeEmail(email)}:${ip}`;
}

async function emailOf(read: () => Promise<unknown>): Promise<string | undefined> {
  try {
    const body = await read();
    if (body && typeof body === "object" && "email" in body) {
      const email = (body as { email: unknown }).email;
      if (typeof email === "string" && email.trim().length > 0 && email.length <= MAX_EMAIL_LENGTH) return email;
    }
  } catch {
    // Malformed JSON: the route's validator answers 400; nothing to count.
  }
  return undefined;
}

export const loginThrottle = createMiddleware<AppEnv>(async (c, next) => {
  const namespace = c.env.RATE_LIMITER;
  if (c.req.method !== "POST" || !namespace || !(c.req.header("content-type") ?? "").includes("json")) return next();
  const email = await emailOf(() => c.req.json());
  if (email === undefined) return next();

  const stub = namespace.get(
    namespace.idFromName(
      loginThrottleKey(
        email,
        clientIp((name) => c.req.header(name)),
      ),
    ),
  );
  const now = c.var.now.getTime();
  const before = await stub.failures(LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS, now, 0);
  if (!before.allowed) {
    const retryAfter = retryAfterSeconds(before.resetAt, c.var.now);
    throw new AppError(
      "RATE_LIMIT_EXCEEDED",
      "Too many failed login attempts for this account from your address; try again later",
      { limit: LOGIN_FAILURE_LIMIT, window_seconds: LOGIN_FAILURE_WINDOW_SECONDS, retry_after_seconds: retryAfter },
      { "Retry-After": String(retryAfter) },
    );
  }

  await next();

  if (c.res.status === 401) await stub.failures(LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS, now, 1);
  else if (c.res.status === 200) await stub.reset();
});
