/**
 * JWTs (jose, HS256 pinned) and the random single-use tokens of emails and feeds.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { AppError } from "./errors.ts";

export const ACCESS_TOKEN_TTL_SECONDS = 24 * 60 * 60;
export const REFRESH_TOKEN_TTL_SECONDS = 7 * 24 * 60 * 60;
const ALGORITHM = "HS256";
const ISSUER = "culturebridge";

export type Role = "client" | "coach" | "admin";
export type TokenType = "access" | "refresh";

export interface TokenClaims {
  sub: string;
  role: Role;
  type: TokenType;
  jti: string;
  iat: number;
  exp: number;
  /** refresh tokens only: the family the token belongs to */
  fam?: string;
}

export async function signToken(
  key: Uint8Array,
  claims: { sub: string; role: Role; type: TokenType; jti?: string; fam?: string },
  now: Date,
): Promise<{ token: string; jti: string; expiresAt: Date }> {
  const iat = Math.floor(now.getTime() / 1000);
  const ttl = claims.type === "access" ? ACCESS_TOKEN_TTL_SECONDS : REFRESH_TOKEN_TTL_SECONDS;
  const jti = claims.jti ?? crypto.randomUUID();
  const payload: Record<string, unknown> = { role: claims.role, type: claims.type };
  if (claims.fam) payload.fam = claims.fam;
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(key);
  return { token, jti, expiresAt: new Date((iat + ttl) * 1000) };
}

/** Verifies signature (HS256 only), expiry and the expected token type; throws 401 otherwise. */
export async function verifyToken(key: Uint8Array, token: string, expected: TokenType, now: Date): Promise<TokenClaims> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer: ISSUER,
      currentDate: now,
      requiredClaims: ["sub", "jti", "iat", "exp"],
    });
    const role = payload.role;
    if (payload.type !== expected) throw new AppError("UNAUTHORIZED", "Invalid token type");
    if (role !== "client" && role !== "coach" && role !== "admin") throw new AppError("UNAUTHORIZED", "Invalid token");
    return {
      sub: String(payload.sub),
      role,
      type: expected,
      jti: String(payload.jti),
      iat: Number(payload.iat),
      exp: Number(payload.exp),
      ...(typeof payload.fam === "string" ? { fam: payload.fam } : {}),
    };
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof joseErrors.JWTExpired) throw new AppError("UNAUTHORIZED", "Token expired");
    throw new AppError("UNAUTHORIZED", "Invalid token");
  }
}

/** A URL-safe random token with 256 bits of entropy. */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** SHA-256 hex: tokens are stored only as hashes. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
