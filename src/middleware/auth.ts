import { createMiddleware } from "hono/factory";
import type { AppEnv, AuthUser } from "../env.ts";
import { AppError, forbidden, unauthorized } from "../lib/errors.ts";
import { type TokenClaims, verifyToken } from "../lib/tokens.ts";

/**
 * Reads a bearer token when one is presented. An invalid token is remembered,
 * not rejected here: public routes ignore it, `requireUser` answers 401 with
 * the reason. The rate limiter then confirms that the token is not revoked.
 */
export const identify = createMiddleware<AppEnv & { Variables: { claims?: TokenClaims; authError?: AppError } }>(
  async (c, next) => {
    const header = c.req.header("authorization");
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) {
        c.set("authError", unauthorized("Malformed Authorization header"));
      } else {
        try {
          c.set("claims", await verifiedClaims(c.var.config.jwtKey, match[1], c.var.now));
        } catch (error) {
          if (error instanceof AppError && error.code !== "UNAUTHORIZED") throw error;
          c.set("authError", error instanceof AppError ? error : unauthorized("Invalid token"));
        }
      }
    }
    await next();
  },
);

/**
 * Verified access tokens of this isolate: a client sends the same token on
 * every request for up to 24 h, and an HMAC check per request is CPU spent
 * twice. Only successful verifications are kept (keyed by the exact token
 * string, under the same key); expiry is checked again on every use, and
 * revocation is checked per request by the rate limiter whatever this says.
 */
const MAX_VERIFIED = 10_000;
const verified = new Map<string, { key: Uint8Array; claims: TokenClaims }>();

async function verifiedClaims(key: Uint8Array, token: string, now: Date): Promise<TokenClaims> {
  const known = verified.get(token);
  if (known && known.key === key) {
    // As jose: expired once exp <= now (seconds).
    if (known.claims.exp <= Math.floor(now.getTime() / 1000)) throw new AppError("UNAUTHORIZED", "Token expired");
    return known.claims;
  }
  const claims = await verifyToken(key, token, "access", now);
  if (verified.size >= MAX_VERIFIED) verified.clear();
  verified.set(token, { key, claims });
  return claims;
}

type Role = AuthUser["role"];

/** The caller, or 401; with roles, 403 when the caller has none of them. */
export function requireUser(c: { var: { user: AuthUser | undefined; authError?: AppError } }, ...roles: Role[]): AuthUser {
  const user = c.var.user;
  if (!user) throw c.var.authError ?? unauthorized();
  if (roles.length > 0 && !roles.includes(user.role)) throw forbidden(`This action requires the role ${roles.join(" or ")}`);
  return user;
}

/** Middleware form of requireUser, for whole sub-apps (e.g. /admin). */
export function requireRole(...roles: Role[]) {
  return createMiddleware<AppEnv & { Variables: { authError?: AppError } }>(async (c, next) => {
    requireUser(c, ...roles);
    await next();
  });
}
