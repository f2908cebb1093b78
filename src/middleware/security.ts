import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";

/**
 * Security headers on every response. The CSP is strict for the JSON API; the
 * docs page gets a CSP of its own that allows only this origin: Scalar's
 * bundle and its starter script are served by this Worker (routes/docs.ts), so
 * no third-party host and no inline script are needed. Inline styles stay
 * allowed because the bundle injects its stylesheet as a <style> element.
 */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.header("X-Content-Type-Options", "nosniff");
  c.header("X-Frame-Options", "DENY");
  c.header("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
  c.header("Referrer-Policy", "no-referrer");
  c.header("Cross-Origin-Opener-Policy", "same-origin");
  c.header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  c.header("Content-Security-Policy", c.req.path === "/docs" ? DOCS_CSP : API_CSP);
});
