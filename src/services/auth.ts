/**
 * Accounts: signup, login, rotating refresh tokens, logout, password reset and
 * email verification. Plain functions over (db, env, input, now); the routes
 * only validate and shape.
 *
 * Passwords: bcrypt (bcryptjs) cost 12. Hashes of the old system (`$2b$`, any
 * cost) verify as they are. bcrypt reads at most 72 bytes of a password; the
 * contract allows 128 characters, so the tail of a very long password does not
 * count. Pre-hashing would lift that limit but would make every old hash
 * unverifiable, so it is accepted as it is.
 *
 * Refresh tokens: every issued refresh token is a row (id = jti, the SHA-256
 * of the token, its family). A login starts a family; every refresh marks the
 * presented token used and issues the next one in the same family. Presenting
 * an already-used token means that two parties hold the family (theft, or a
 * client bug): the whole family is revoked. Logout revokes the family; a
 * password reset revokes every family of the user.
 *
 * Deactivated and deleted users -- why a Durable Object mark and not a
 * per-request database read: `revokeUserTokens(env, userId, now)`
 * (src/middleware/rate-limit.ts) writes "access tokens issued before now are
 * revoked" into the user's RateLimiter Durable Object, which the rate-limit
 * middleware calls on every authenticated request anyway. So revocation costs
 * zero extra database round trips per request, and it is strongly consistent
 * per user (one object per user, serial), unlike a KV marker that takes up to
 * ~60 s to reach other locations. The price: it depends on the DO call
 * succeeding -- a revocation whose DO write fails leaves access tokens valid
 * until they expire (24 h), while the database change itself (inactive flag,
 * tombstone) is committed; login and refresh still read the database and
 * refuse such a user. A per-request DB read would be simpler to reason about
 * but adds a round trip to every authenticated request.
 */
import bcrypt from "bcryptjs";
import { and, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";
import { emailTokens, refreshTokens, users, type User } from "../../drizzle/schema.ts";
import type { Database, Executor } from "../db/client.ts";
import { badRequest, conflict, forbidden, pgErrorCode, unauthorized } from "../lib/errors.ts";
import { HOUR_MS } from "../lib/time.ts";
import { BCRYPT_COST, normalizeEmail } from "./admins.ts";
import { dispatchEmails, recordEmails, type NotificationEnv } from "./notifications.ts";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  randomToken,
  sha256Hex,
  signingKey,
  signToken,
  verifyToken,
  type Role,
  type SecretConfig,
} from "./tokens.ts";

export const RESET_TOKEN_TTL_MS = 1 * HOUR_MS;
export const VERIFY_TOKEN_TTL_MS = 24 * HOUR_MS;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** Same answer for an unknown email and a wrong password: no account enumeration. */
export const INVALID_CREDENTIALS = "Invalid email or password";
const INVALID_REFRESH = "Invalid, expired or revoked refresh token";
const INVALID_EMAIL_TOKEN = "Invalid, expired or already used token";

/**
 * A cost-12 hash of a random string nobody knows. Compared against when the
 * email is unknown, so that an unknown email costs the same bcrypt time as a
 * wrong password (no timing oracle for registered emails).
 */
const DUMMY_HASH = "$2b$12$SjYp6.cSuJ32ti1h2pgDquMEI166z/9EcbAFiNNPrKN8em9Qly.8u";

export type AuthEnv = SecretConfig & NotificationEnv;

// ---------------------------------------------------------------------------
// passwords
// ---------------------------------------------------------------------------

/** Every rule the password breaks (empty when strong enough). Shared by signup, reset and admin:create. */
export function passwordProblems(password: string): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) problems.push(`Must be at least ${PASSWORD_MIN_LENGTH} characters long`);
  if (length > PASSWORD_MAX_LENGTH) problems.push(`Must be at most ${PASSWORD_MAX_LENGTH} characters long`);
  if (!/\p{Lu}/u.test(password)) problems.push("Must contain an uppercase letter");
  if (!/\p{Ll}/u.test(password)) problems.push("Must contain a lowercase letter");
  if (!/\p{Nd}/u.test(password)) problems.push("Must contain a digit");
  if (!/[^\p{L}\p{N}]/u.test(password)) problems.push("Must contain a special character");
  return problems;
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

/** bcrypt compare; a malformed stored hash counts as a mismatch, never a 500. */
export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  try {
    return await bcrypt.compare(password, hash ?? DUMMY_HASH);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// tokens
// ---------------------------------------------------------------------------

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "bearer";
  expires_in: number;
}

/** Signs an access + refresh pair and stores the refresh token (hashed) in its family. */
async function issueTokenPair(db: Executor, env: SecretConfig, user: { id: string; role: Role }, familyId: string, now: Date): Promise<TokenPair> {
  const key = signingKey(env);
  const [access, refresh] = await Promise.all([
    signToken(key, { sub: user.id, role: user.role, type: "access" }, now),
    signToken(key, { sub: user.id, role: user.role, type: "refresh", fam: familyId }, now),
  ]);
  await db.insert(refreshTokens).values({
    id: refresh.jti,
    userId: user.id,
    familyId,
    tokenHash: await sha256Hex(refresh.token),
    expiresAt: refresh.expiresAt,
  });
  return { access_token: access.token, refresh_token: refresh.token, token_type: "bearer", expires_in: ACCESS_TOKEN_TTL_SECONDS };
}

/** A random single-use email token; only its hash is stored. */
async function createEmailToken(db: Executor, userId: string, purpose: "reset" | "verify", now: Date): Promise<string> {
  const token = randomToken();
  await db.insert(emailTokens).values({
    userId,
    purpose,
    tokenHash: await sha256Hex(token),
    expiresAt: new Date(now.getTime() + (purpose === "reset" ? RESET_TOKEN_TTL_MS : VERIFY_TOKEN_TTL_MS)),
  });
  return token;
}

/**
 * Marks an email token used, only if it is unused, unexpired and of the
 * purpose: a conditional UPDATE, so two concurrent uses cannot both succeed.
 */
async function consumeEmailToken(db: Executor, token: string, purpose: "reset" | "verify", now: Date): Promise<string | undefined> {
  const [row] = await db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(emailTokens.tokenHash, await sha256Hex(token)),
        eq(emailTokens.purpose, purpose),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, now),
      ),
    )
    .returning({ userId: emailTokens.userId });
  return row?.userId;
}

function verificationEmail(to: string, linkBase: string, token: string) {
  return {
    to,
    subject: "Verify your CultureBridge email address",
    text:
      `Welcome to CultureBridge!\n\nPlease confirm your email address by opening this link (valid for 24 hours):\n\n` +
      `${linkBase}/auth/verify-email?token=${token}\n\nIf you did not create an account, ignore this email.`,
  };
}

function resetEmail(to: string, linkBase: string, token: string) {
  return {
    to,
    subject: "Reset your CultureBridge password",
    text:
      `Someone (hopefully you) asked to reset the password of your CultureBridge account.\n\n` +
      `Open this link to choose a new password (valid for 1 hour, usable once):\n\n${linkBase}/auth/reset-password/confirm?token=${token}\n\n` +
      `If you did not ask for it, ignore this email: your password stays as it is.`,
  };
}

// ---------------------------------------------------------------------------
// signup / login
// ---------------------------------------------------------------------------

export interface SignupInput {
  email: string;
  password: string;
  role: "client" | "coach";
}

/**
 * Creates the account, signs it in (a new refresh family) and sends the
 * verification email. The bcrypt hash is computed before the transaction so
 * that no connection is held during ~hundreds of ms of CPU.
 */
export async function signup(db: Database, env: AuthEnv, input: SignupInput, now: Date, linkBase: string): Promise<{ user: User; tokens: TokenPair }> {
  const email = normalizeEmail(input.email);
  const [taken] = await db.select({ id: users.id }).from(users).where(eq(users.email, email)).limit(1);
  if (taken) throw conflict("An account with this email already exists", { field: "email" });
  const passwordHash = await hashPassword(input.password);
  try {
    const { user, tokens, outboxIds } = await db.transaction(async (tx) => {
      const [user] = await tx
        .insert(users)
        .values({ email, passwordHash, role: input.role, isActive: true, emailVerified: false, createdAt: now, updatedAt: now, lastSeenAt: now })
        .returning();
      if (!user) throw new Error("user insert returned no row");
      const tokens = await issueTokenPair(tx, env, user, crypto.randomUUID(), now);
      const verifyToken = await createEmailToken(tx, user.id, "verify", now);
      const outboxIds = await recordEmails(tx, [verificationEmail(user.email, linkBase, verifyToken)]);
      return { user, tokens, outboxIds };
    });
    await dispatchEmails(env, outboxIds);
    return { user, tokens };
  } catch (error) {
    // Two signups racing for one email: the unique index decides.
    if (pgErrorCode(error) === "23505") throw conflict("An account with this email already exists", { field: "email" });
    throw error;
  }
}

/**
 * Email + password -> a new session. Unknown email and wrong password give the
 * same 401 (and cost the same bcrypt time); a correct password of an inactive
 * account gives 403 (only after the password proved who is asking).
 */
export async function login(db: Database, env: AuthEnv, input: { email: string; password: string }, now: Date): Promise<{ user: User; tokens: TokenPair }> {
  const email = normalizeEmail(input.email);
  const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  const matches = await verifyPassword(input.password, user?.passwordHash ?? null);
  if (!user || !user.passwordHash || !matches) throw unauthorized(INVALID_CREDENTIALS);
  if (!user.isActive) throw forbidden("This account is deactivated");
  const [tokens] = await Promise.all([
    issueTokenPair(db, env, user, crypto.randomUUID(), now),
    db.update(users).set({ lastSeenAt: now }).where(eq(users.id, user.id)),
  ]);
  return { user, tokens };
}

// ---------------------------------------------------------------------------
// refresh / logout
// ---------------------------------------------------------------------------

/**
 * Rotates a refresh token. The claim is one conditional UPDATE (used_at IS
 * NULL, not revoked, no revoked token in its family, not expired) inside the
 * transaction that also stores the successor, so of two concurrent refreshes
 * of one token exactly one wins: the loser blocks on the row lock until the
 * winner commits, then sees the token used -- which is reuse, and revokes the
 * family including the winner's new token.
 */
export async function refreshSession(db: Database, env: AuthEnv, refreshToken: string, now: Date): Promise<TokenPair> {
  const claims = await verifyToken(signingKey(env), refreshToken, "refresh", now).catch(() => {
    throw unauthorized(INVALID_REFRESH);
  });
  if (!claims.fam) throw unauthorized(INVALID_REFRESH);
  const tokenHash = await sha256Hex(refreshToken);

  const outcome = await db.transaction(async (tx) => {
    const [claimed] = await tx
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(refreshTokens.id, claims.jti),
          eq(refreshTokens.tokenHash, tokenHash),
          isNull(refreshTokens.usedAt),
          isNull(refreshTokens.revokedAt),
          gt(refreshTokens.expiresAt, now),
          sql`not exists (select 1 from ${refreshTokens} as family_member
                          where family_member.family_id = ${refreshTokens.familyId}
                            and family_member.revoked_at is not null)`,
        ),
      )
      .returning({ userId: refreshTokens.userId, familyId: refreshTokens.familyId });
    if (!claimed) return { kind: "rejected" as const };
    const [user] = await tx.select({ id: users.id, role: users.role, isActive: users.isActive }).from(users).where(eq(users.id, claimed.userId)).limit(1);
    if (!user || !user.isActive) return { kind: "inactive" as const };
    const tokens = await issueTokenPair(tx, env, user, claimed.familyId, now);
    await tx.update(users).set({ lastSeenAt: now }).where(eq(users.id, user.id));
    return { kind: "rotated" as const, tokens };
  });

  if (outcome.kind === "rotated") return outcome.tokens;
  if (outcome.kind === "rejected") await revokeFamilyOnReuse(db, claims.jti, tokenHash, now);
  throw unauthorized(INVALID_REFRESH);
}

/** A rejected refresh token that exists and was already used: theft detection, the family dies. */
async function revokeFamilyOnReuse(db: Database, jti: string, tokenHash: string, now: Date): Promise<void> {
  const [row] = await db
    .select({ familyId: refreshTokens.familyId, userId: refreshTokens.userId })
    .from(refreshTokens)
    .where(and(eq(refreshTokens.id, jti), eq(refreshTokens.tokenHash, tokenHash), isNotNull(refreshTokens.usedAt)))
    .limit(1);
  if (!row) return;
  const revoked = await revokeFamily(db, row.familyId, now);
  if (revoked > 0) {
    console.warn(JSON.stringify({ level: "warn", msg: "refresh token reuse: family revoked", user_id: row.userId, family_id: row.familyId }));
  }
}

async function revokeFamily(db: Executor, familyId: string, now: Date): Promise<number> {
  const rows = await db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
    .returning({ id: refreshTokens.id });
  return rows.length;
}

/**
 * Logout: revokes the family of the given refresh token. Idempotent (an
 * already revoked family answers the same). The token must be a valid refresh
 * token of the caller: another user's token is 403, garbage 401.
 */
export async function logout(db: Database, env: AuthEnv, userId: string, refreshToken: string, now: Date): Promise<void> {
  const claims = await verifyToken(signingKey(env), refreshToken, "refresh", now).catch(() => {
    throw unauthorized(INVALID_REFRESH);
  });
  if (!claims.fam) throw unauthorized(INVALID_REFRESH);
  if (claims.sub !== userId) throw forbidden("This refresh token belongs to another account");
  await revokeFamily(db, claims.fam, now);
}

/** Revokes every refresh token of a user (password reset; also used by account deletion). */
export async function revokeAllRefreshTokens(db: Executor, userId: string, now: Date): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
}

// ---------------------------------------------------------------------------
// password reset / email verification
// ---------------------------------------------------------------------------

/**
 * Sends a reset link when an active account has this email; says nothing
 * either way. Earlier unused reset links of the account stop working: only
 * the newest one is valid.
 */
export async function requestPasswordReset(db: Database, env: AuthEnv, email: string, now: Date, linkBase: string): Promise<void> {
  const [user] = await db
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(and(eq(users.email, normalizeEmail(email)), eq(users.isActive, true)))
    .limit(1);
  if (!user) return;
  const outboxIds = await db.transaction(async (tx) => {
    await tx
      .update(emailTokens)
      .set({ usedAt: now })
      .where(and(eq(emailTokens.userId, user.id), eq(emailTokens.purpose, "reset"), isNull(emailTokens.usedAt)));
    const token = await createEmailToken(tx, user.id, "reset", now);
    return recordEmails(tx, [resetEmail(user.email, linkBase, token)]);
  });
  await dispatchEmails(env, outboxIds);
}

/**
 * Sets a new password with a reset token (single use, 1 h) and revokes every
 * refresh token of the user. The token is looked up before the bcrypt hash so
 * that garbage tokens cost no hashing; it is consumed in the transaction that
 * sets the password, so a token can only ever be used once.
 */
export async function confirmPasswordReset(db: Database, input: { token: string; newPassword: string }, now: Date): Promise<void> {
  const tokenHash = await sha256Hex(input.token);
  const [candidate] = await db
    .select({ id: emailTokens.id })
    .from(emailTokens)
    .where(and(eq(emailTokens.tokenHash, tokenHash), eq(emailTokens.purpose, "reset"), isNull(emailTokens.usedAt), gt(emailTokens.expiresAt, now)))
    .limit(1);
  if (!candidate) throw badRequest(INVALID_EMAIL_TOKEN, { field: "token" });
  const passwordHash = await hashPassword(input.newPassword);
  await db.transaction(async (tx) => {
    const userId = await consumeEmailToken(tx, input.token, "reset", now);
    if (!userId) throw badRequest(INVALID_EMAIL_TOKEN, { field: "token" });
    // Following the emailed link proves the address too.
    await tx.update(users).set({ passwordHash, emailVerified: true, updatedAt: now }).where(eq(users.id, userId));
    await revokeAllRefreshTokens(tx, userId, now);
  });
}

/** When the reset token is usable (unused, unexpired): its expiry; else 400. Consumes nothing. */
export async function checkResetToken(db: Database, token: string, now: Date): Promise<Date> {
  const [row] = await db
    .select({ expiresAt: emailTokens.expiresAt })
    .from(emailTokens)
    .where(and(eq(emailTokens.tokenHash, await sha256Hex(token)), eq(emailTokens.purpose, "reset"), isNull(emailTokens.usedAt), gt(emailTokens.expiresAt, now)))
    .limit(1);
  if (!row) throw badRequest(INVALID_EMAIL_TOKEN, { field: "token" });
  return row.expiresAt;
}

/** Marks the email verified with a verification token (single use, 24 h). */
export async function verifyEmail(db: Database, token: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const userId = await consumeEmailToken(tx, token, "verify", now);
    if (!userId) throw badRequest(INVALID_EMAIL_TOKEN, { field: "token" });
    await tx.update(users).set({ emailVerified: true, updatedAt: now }).where(eq(users.id, userId));
  });
}
