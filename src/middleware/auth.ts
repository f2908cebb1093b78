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
          c.set("claims", await verifyToken(c.var.config.jwtKey, match[1], "access", c.var.now));
        } catch (error) {
          if (error instanceof AppError && error.code !== "UNAUTHORIZED") throw error;
          c.set("authError", error instanceof AppError ? error : unauthorized("Invalid token"));
        }
      }
    }
    await next();
  },
);

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
