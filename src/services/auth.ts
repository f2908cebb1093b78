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
 * Password reset and change also revoke the access tokens issued before them
 * (contract v2), with the same mark as deactivation (below). The mark covers
 * the whole second of the change (`iat` has one-second resolution), so a
 * session started in that very second after the change is issued with the
 * next second as its `iat` (`issuedAfterChange`), never revoked by mistake.
 *
 * Login throttle (platform/throttle.ts): the judgement "this attempt failed"
 * is made here, where the password is checked -- a wrong password at login or
 * at change-password counts, a malformed request does not.
 *
 * Old hashes: a successful login re-hashes a password stored below cost 12
 * (imported cost-4 hashes) at cost 12, in the login's own write statement.
 *
 * Deactivated and deleted users -- why a Durable Object mark and not a
 * per-request database read: `revokeUserTokens(platform, userId, now)`
 * (src/platform/rate-limiter.ts) writes "access tokens issued before now are
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
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { emailTokens, refreshTokens, type User, users } from "../../drizzle/schema.ts";
import type { Database, Executor } from "../db/client.ts";
import { rowFromJson } from "../db/json-rows.ts";
import type { ServiceEnv } from "../env.ts";
import { normalizeEmail } from "../lib/email-address.ts";
import { AppError, badRequest, conflict, forbidden, notFound, pgErrorCode, unauthorized } from "../lib/errors.ts";
import { HOUR_MS } from "../lib/time.ts";
import { ACCESS_TOKEN_TTL_SECONDS, type Role, randomToken, sha256Hex, signToken, verifyToken } from "../lib/tokens.ts";
import { revokeUserTokens } from "../platform/rate-limiter.ts";
import {
  assertLoginAllowed,
  type LoginAttempt,
  recordLoginFailure,
  recordLoginSuccess,
  takeQuota,
} from "../platform/throttle.ts";
import { BCRYPT_COST } from "./admins.ts";
import { dispatchEmails } from "./notifications.ts";

export const RESET_TOKEN_TTL_MS = 1 * HOUR_MS;
export const VERIFY_TOKEN_TTL_MS = 24 * HOUR_MS;
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordProblems } from "../lib/passwords.ts";
/** Reset emails per address and hour (contract v2); the endpoint answers 200 either way. */
export const RESET_EMAILS_PER_HOUR = 5;
/** Verification resends per user and hour (contract v2); then 429. */
export const VERIFY_RESENDS_PER_HOUR = 3;
const HOUR_SECONDS = 3600;

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

// ---------------------------------------------------------------------------
// passwords
// ---------------------------------------------------------------------------

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

/** True when the stored hash is a bcrypt hash below today's cost (re-hashed on the next successful login). */
export function needsRehash(hash: string): boolean {
  try {
    return bcrypt.getRounds(hash) < BCRYPT_COST;
  } catch {
    return false;
  }
}

/**
 * The issue time of a session started at `now` for an account last changed
 * at `changedAt`: the next whole second when both fall in the same second,
 * because a revocation mark (password reset/change, role change) covers the
 * whole second it was set in.
 */
export function issuedAfterChange(now: Date, changedAt: Date | null | undefined): Date {
  const second = Math.floor(now.getTime() / 1000);
  if (changedAt && Math.floor(changedAt.getTime() / 1000) === second) return new Date((second + 1) * 1000);
  return now;
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

/** A signed access + refresh pair and the refresh token's row, not yet stored. */
interface SignedPair {
  tokens: TokenPair;
  refresh: { id: string; tokenHash: string; expiresAt: Date };
}

async function signTokenPair(
  env: ServiceEnv,
  user: { id: string; role: Role },
  familyId: string,
  now: Date,
): Promise<SignedPair> {
  const key = env.config.jwtKey;
  const [access, refresh] = await Promise.all([
    signToken(key, { sub: user.id, role: user.role, type: "access" }, now),
    signToken(key, { sub: user.id, role: user.role, type: "refresh", fam: familyId }, now),
  ]);
  return {
    tokens: {
      access_token: access.token,
      refresh_token: refresh.token,
      token_type: "bearer",
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
    },
    refresh: { id: refresh.jti, tokenHash: await sha256Hex(refresh.token), expiresAt: refresh.expiresAt },
  };
}

/** Outbox ids returned by a statement's `outbox` CTE (text[] from array_agg). */
function outboxIds(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/**
 * Links point at APP_BASE_URL (the web app; by default this API, whose HTML
 * pages at the same paths do the action): routes/auth-pages.ts.
 */
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
 * verification email. The bcrypt hash is computed before writing so that no
 * connection waits on ~hundreds of ms of CPU.
 *
 * Two round trips: the email check (a taken email answers 409 before any
 * bcrypt work), then ONE statement whose data-modifying CTEs insert the user,
 * the refresh token, the verification token and the email (a statement is
 * atomic: all four rows or none). The user id is chosen here so that the
 * tokens can be signed before that statement.
 */
export async function signup(
  db: Database,
  env: ServiceEnv,
  input: SignupInput,
  now: Date,
): Promise<{ user: User; tokens: TokenPair }> {
  const email = normalizeEmail(input.email);
  const [taken] = await db.select({ id: users.id }).from(users).where(eq(users.email, email)).limit(1);
  if (taken) throw conflict("An account with this email already exists", { field: "email" });
  const passwordHash = await hashPassword(input.password);
  const userId = crypto.randomUUID();
  const familyId = crypto.randomUUID();
  const { tokens, refresh } = await signTokenPair(env, { id: userId, role: input.role }, familyId, now);
  const verify = randomToken();
  const mail = verificationEmail(email, env.config.appBaseUrl, verify);
  try {
    const result = await db.execute<{ user: Record<string, unknown>; outbox: unknown }>(sql`
      with account as (
        insert into users (id, email, password_hash, role, is_active, email_verified, created_at, updated_at, last_seen_at)
        values (${userId}::uuid, ${email}, ${passwordHash}, ${input.role}::user_role, true, false, ${now}::timestamptz, ${now}::timestamptz, ${now}::timestamptz)
        returning *),
      refresh as (
        insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at)
        select ${refresh.id}::uuid, account.id, ${familyId}::uuid, ${refresh.tokenHash}, ${refresh.expiresAt}::timestamptz from account),
      verify as (
        insert into email_tokens (user_id, purpose, token_hash, expires_at)
        select account.id, 'verify', ${await sha256Hex(verify)}, ${new Date(now.getTime() + VERIFY_TOKEN_TTL_MS)}::timestamptz from account),
      outbox as (
        insert into email_outbox (to_address, subject, body)
        select lower(account.email), ${mail.subject}, ${mail.text} from account returning id)
      select to_jsonb(account) as user, (select array_agg(outbox.id) from outbox) as outbox from account`);
    const row = result.rows[0];
    if (!row) throw new Error("signup insert returned no row");
    await dispatchEmails(env, outboxIds(row.outbox));
    return { user: rowFromJson(users, row.user), tokens };
  } catch (error) {
    // Two signups racing for one email: the unique index decides.
    if (pgErrorCode(error) === "23505") throw conflict("An account with this email already exists", { field: "email" });
    throw error;
  }
}

/**
 * Email + password -> a new session. Unknown email and wrong password give the
 * same 401 (and cost the same bcrypt time) and both count for the login
 * throttle; a correct password of an inactive account gives 403 (only after
 * the password proved who is asking). A hash below cost 12 is upgraded.
 */
export async function login(
  db: Database,
  env: ServiceEnv,
  input: { email: string; password: string; ip: string },
  now: Date,
): Promise<{ user: User; tokens: TokenPair }> {
  const email = normalizeEmail(input.email);
  const attempt: LoginAttempt = { email, ip: input.ip };
  // Before any bcrypt work: a throttled attempt costs the attacker's target nothing.
  await assertLoginAllowed(env.platform.rateLimiter, attempt, now);
  const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  const matches = await verifyPassword(input.password, user?.passwordHash ?? null);
  if (!user?.passwordHash || !matches) {
    await recordLoginFailure(env.platform.rateLimiter, attempt, now);
    throw unauthorized(INVALID_CREDENTIALS);
  }
  await recordLoginSuccess(env.platform.rateLimiter, attempt);
  if (!user.isActive) throw forbidden("This account is deactivated");
  const rehash = needsRehash(user.passwordHash) ? await hashPassword(input.password) : undefined;
  // One statement for both writes (two statements "in parallel" would open a second pooled connection).
  const tokens = await issueTokenPairAndSeen(db, env, user, crypto.randomUUID(), now, {
    // Only a change after signup moves the session to the next second: a login in the very second of
    // the signup itself must stay revocable by a password change made in that same second.
    issuedAt: issuedAfterChange(now, user.updatedAt?.getTime() === user.createdAt?.getTime() ? null : user.updatedAt),
    rehash,
  });
  return { user, tokens };
}

/**
 * Changes the password of the signed-in user after checking the current one
 * (a wrong one is a 401 counted by the login throttle, which also answers 429
 * once exhausted). One statement sets the hash, revokes every refresh family
 * and starts a new one for the caller; after the commit every access token
 * issued before is revoked, and the caller gets a fresh pair issued after
 * the mark. The hash read is compared in the UPDATE: of two concurrent
 * changes only one applies, the other answers 409.
 */
export async function changePassword(
  db: Database,
  env: ServiceEnv,
  input: { userId: string; currentPassword: string; newPassword: string; ip: string },
  now: Date,
): Promise<{ user: User; tokens: TokenPair }> {
  const [user] = await db.select().from(users).where(eq(users.id, input.userId)).limit(1);
  if (!user?.isActive) throw unauthorized("Token revoked");
  const attempt: LoginAttempt = { email: user.email, ip: input.ip };
  await assertLoginAllowed(env.platform.rateLimiter, attempt, now);
  if (!user.passwordHash || !(await verifyPassword(input.currentPassword, user.passwordHash))) {
    await recordLoginFailure(env.platform.rateLimiter, attempt, now);
    throw unauthorized("The current password is not correct");
  }
  await recordLoginSuccess(env.platform.rateLimiter, attempt);
  const passwordHash = await hashPassword(input.newPassword);
  const familyId = crypto.randomUUID();
  // The revocation mark below covers this whole second: the new pair starts at the next one.
  const { tokens, refresh } = await signTokenPair(env, user, familyId, issuedAfterChange(now, now));
  const result = await db.execute<{ changed: boolean }>(sql`
    with changed as (
      update users set password_hash = ${passwordHash}, updated_at = ${now}::timestamptz, last_seen_at = ${now}::timestamptz
       where id = ${user.id}::uuid and password_hash = ${user.passwordHash} and is_active
      returning id),
    revoked as (
      update refresh_tokens set revoked_at = ${now}::timestamptz
       where user_id in (select id from changed) and revoked_at is null),
    fresh as (
      insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at)
      select ${refresh.id}::uuid, changed.id, ${familyId}::uuid, ${refresh.tokenHash}, ${refresh.expiresAt}::timestamptz from changed)
    select exists (select 1 from changed) as changed`);
  if (!result.rows[0]?.changed)
    throw conflict("The password was changed concurrently; sign in again", { reason: "concurrent_change" });
  await revokeAccessTokens(env, user.id, now);
  return { user, tokens };
}

/** After a password reset or change: access tokens issued until now stop working (contract v2). */
async function revokeAccessTokens(env: ServiceEnv, userId: string, now: Date): Promise<void> {
  try {
    await revokeUserTokens(env.platform, userId, now);
  } catch (error) {
    // The password did change; the caller must learn that other sessions may still be signed in.
    env.log.error("token revocation failed after a password change", { user_id: userId, error: String(error) });
    throw new AppError("SERVICE_UNAVAILABLE", "The password was changed, but signing out other sessions failed; please retry");
  }
}

// ---------------------------------------------------------------------------
// refresh / logout
// ---------------------------------------------------------------------------

/**
 * Rotates a refresh token in ONE statement: the claim is a conditional UPDATE
 * (used_at IS NULL, not revoked, no revoked token in its family, not expired)
 * whose data-modifying CTEs also store the successor and the last-seen time,
 * so the claim and the successor commit together. Of two concurrent
 * refreshes of one token exactly one wins: the loser blocks on the row lock
 * until the winner's statement commits, then sees the token used -- which is
 * reuse, and revokes the family including the winner's new token.
 *
 * The successor is signed before the statement with the role of the
 * presented token; the statement stores it only when the account is active
 * and still has that role. A role changed since (rare) costs a second
 * statement: the pair is signed again with the current role.
 */
export async function refreshSession(db: Database, env: ServiceEnv, refreshToken: string, now: Date): Promise<TokenPair> {
  const claims = await verifyToken(env.config.jwtKey, refreshToken, "refresh", now).catch(() => {
    throw unauthorized(INVALID_REFRESH);
  });
  if (!claims.fam) throw unauthorized(INVALID_REFRESH);
  const tokenHash = await sha256Hex(refreshToken);
  const signed = await signTokenPair(env, { id: claims.sub, role: claims.role }, claims.fam, now);

  const result = await db.execute<{ claimed: boolean; role: Role | null; is_active: boolean | null; stored: boolean }>(sql`
    with claimed as (
      update refresh_tokens set used_at = ${now}::timestamptz
       where id = ${claims.jti}::uuid and token_hash = ${tokenHash} and user_id = ${claims.sub}::uuid
         and used_at is null and revoked_at is null and expires_at > ${now}::timestamptz
         and not exists (select 1 from refresh_tokens as family_member
                          where family_member.family_id = refresh_tokens.family_id and family_member.revoked_at is not null)
      returning user_id, family_id),
    account as (
      select users.id, users.role, users.is_active from users join claimed on users.id = claimed.user_id),
    successor as (
      insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at)
      select ${signed.refresh.id}::uuid, account.id, claimed.family_id, ${signed.refresh.tokenHash}, ${signed.refresh.expiresAt}::timestamptz
        from account join claimed on true
       where account.is_active and account.role = ${claims.role}::user_role
      returning id),
    seen as (
      update users set last_seen_at = ${now}::timestamptz
       where id in (select id from account where is_active and role = ${claims.role}::user_role))
    select exists (select 1 from claimed) as claimed, account.role, account.is_active, exists (select 1 from successor) as stored
      from (select 1) as one left join account on true`);
  const outcome = result.rows[0];

  if (!outcome?.claimed) {
    await revokeFamilyOnReuse(db, claims.jti, tokenHash, now);
    throw unauthorized(INVALID_REFRESH);
  }
  if (!outcome.is_active || !outcome.role) throw unauthorized(INVALID_REFRESH);
  if (outcome.stored) return signed.tokens;
  // Claimed, active, but the role changed since the presented token was issued: the new pair carries the current role.
  const tokens = await issueTokenPairAndSeen(db, env, { id: claims.sub, role: outcome.role }, claims.fam, now);
  return tokens;
}

/** A new refresh token (login, or the successor of a claimed one) and the last-seen time: one statement. */
async function issueTokenPairAndSeen(
  db: Database,
  env: ServiceEnv,
  user: { id: string; role: Role },
  familyId: string,
  now: Date,
  options: { issuedAt?: Date; rehash?: string | undefined } = {},
): Promise<TokenPair> {
  const { tokens, refresh } = await signTokenPair(env, user, familyId, options.issuedAt ?? now);
  // The upgraded hash (if any) does not touch updated_at: it is the same password.
  const hashUpdate = options.rehash ? sql`, password_hash = ${options.rehash}` : sql``;
  await db.execute(sql`
    with refresh as (
      insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at)
      values (${refresh.id}::uuid, ${user.id}::uuid, ${familyId}::uuid, ${refresh.tokenHash}, ${refresh.expiresAt}::timestamptz))
    update users set last_seen_at = ${now}::timestamptz${hashUpdate} where id = ${user.id}::uuid`);
  return tokens;
}

/** A rejected refresh token that exists and was already used: theft detection, the family dies (one statement). */
async function revokeFamilyOnReuse(db: Database, jti: string, tokenHash: string, now: Date): Promise<void> {
  const result = await db.execute<{ user_id: string; family_id: string }>(sql`
    update refresh_tokens set revoked_at = ${now}::timestamptz
     where family_id = (select family_id from refresh_tokens
                         where id = ${jti}::uuid and token_hash = ${tokenHash} and used_at is not null)
       and revoked_at is null
    returning user_id, family_id`);
  const first = result.rows[0];
  if (first) {
    console.warn(
      JSON.stringify({
        level: "warn",
        msg: "refresh token reuse: family revoked",
        user_id: first.user_id,
        family_id: first.family_id,
      }),
    );
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
export async function logout(db: Database, env: ServiceEnv, userId: string, refreshToken: string, now: Date): Promise<void> {
  const claims = await verifyToken(env.config.jwtKey, refreshToken, "refresh", now).catch(() => {
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
 * the newest one is valid. One statement: the account lookup, retiring the
 * old links, the new link and its email are CTEs of one (atomic) statement;
 * for an unknown email they all act on no row.
 *
 * At most 5 reset emails an hour per address (contract v2), counted exactly
 * in the address's quota object before the statement -- for unknown
 * addresses too, so the answer and its timing reveal nothing; over the quota
 * nothing is sent and the caller still gets the same 200.
 */
export async function requestPasswordReset(db: Database, env: ServiceEnv, email: string, now: Date): Promise<void> {
  const address = normalizeEmail(email);
  const quota = await takeQuota(env.platform.rateLimiter, `reset-email:${address}`, RESET_EMAILS_PER_HOUR, HOUR_SECONDS, now);
  if (!quota.allowed) {
    env.log.info("reset email quota reached; nothing sent", { retry_after_seconds: quota.retryAfterSeconds });
    return;
  }
  const token = randomToken();
  // The account's stored email equals the normalised address (that is how it is found).
  const mail = resetEmail(address, env.config.appBaseUrl, token);
  const result = await db.execute<{ outbox: unknown }>(sql`
    with account as (
      select id, email from users where email = ${address} and is_active limit 1),
    retired as (
      update email_tokens set used_at = ${now}::timestamptz
       where user_id in (select id from account) and purpose = 'reset' and used_at is null),
    issued as (
      insert into email_tokens (user_id, purpose, token_hash, expires_at)
      select account.id, 'reset', ${await sha256Hex(token)}, ${new Date(now.getTime() + RESET_TOKEN_TTL_MS)}::timestamptz from account),
    outbox as (
      insert into email_outbox (to_address, subject, body)
      select lower(account.email), ${mail.subject}, ${mail.text} from account returning id)
    select (select array_agg(outbox.id) from outbox) as outbox`);
  await dispatchEmails(env, outboxIds(result.rows[0]?.outbox));
}

/**
 * Sets a new password with a reset token (single use, 1 h) and revokes every
 * refresh token of the user, then (after the commit) every access token issued
 * before. The token is looked up before the bcrypt hash so that garbage tokens
 * cost no hashing; it is consumed in the statement that sets the password, so
 * a token can only ever be used once.
 */
export async function confirmPasswordReset(
  db: Database,
  env: ServiceEnv,
  input: { token: string; newPassword: string },
  now: Date,
): Promise<void> {
  const tokenHash = await sha256Hex(input.token);
  const [candidate] = await db
    .select({ id: emailTokens.id })
    .from(emailTokens)
    .where(
      and(
        eq(emailTokens.tokenHash, tokenHash),
        eq(emailTokens.purpose, "reset"),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, now),
      ),
    )
    .limit(1);
  if (!candidate) throw badRequest(INVALID_EMAIL_TOKEN, { field: "token" });
  const passwordHash = await hashPassword(input.newPassword);
  // One statement: consuming the token (conditional UPDATE: a token is used once), the new
  // password (following the emailed link proves the address too) and revoking every refresh token.
  const result = await db.execute<{ user_id: string }>(sql`
    with consumed as (
      update email_tokens set used_at = ${now}::timestamptz
       where token_hash = ${tokenHash} and purpose = 'reset' and used_at is null and expires_at > ${now}::timestamptz
      returning user_id),
    changed as (
      update users set password_hash = ${passwordHash}, email_verified = true, updated_at = ${now}::timestamptz
       where id in (select user_id from consumed)),
    revoked as (
      update refresh_tokens set revoked_at = ${now}::timestamptz
       where user_id in (select user_id from consumed) and revoked_at is null)
    select user_id from consumed`);
  const userId = result.rows[0]?.user_id;
  if (!userId) throw badRequest(INVALID_EMAIL_TOKEN, { field: "token" });
  await revokeAccessTokens(env, userId, now);
}

/**
 * A new verification email for the signed-in user (contract v2): 409 when
 * already verified, 429 after 3 in an hour; the earlier links stop working
 * (only the newest token is valid). A read, the quota, then one statement
 * (retire old tokens, new token, outbox row) that again requires "not yet
 * verified", so a verification racing the resend sends nothing stale.
 */
export async function resendVerification(db: Database, env: ServiceEnv, userId: string, now: Date): Promise<void> {
  const [user] = await db
    .select({ id: users.id, email: users.email, emailVerified: users.emailVerified, isActive: users.isActive })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (!user?.isActive) throw notFound("User");
  if (user.emailVerified) throw conflict("The email address is already verified", { reason: "already_verified" });
  const quota = await takeQuota(env.platform.rateLimiter, `verify-resend:${userId}`, VERIFY_RESENDS_PER_HOUR, HOUR_SECONDS, now);
  if (!quota.allowed) {
    throw new AppError(
      "RATE_LIMIT_EXCEEDED",
      `At most ${VERIFY_RESENDS_PER_HOUR} verification emails an hour; try again later`,
      { limit: VERIFY_RESENDS_PER_HOUR, window_seconds: HOUR_SECONDS, retry_after_seconds: quota.retryAfterSeconds },
      { "Retry-After": String(quota.retryAfterSeconds) },
    );
  }
  const token = randomToken();
  const mail = verificationEmail(user.email, env.config.appBaseUrl, token);
  const result = await db.execute<{ verified: boolean; outbox: unknown }>(sql`
    with account as (
      select id, email from users where id = ${userId}::uuid and not email_verified and is_active),
    retired as (
      update email_tokens set used_at = ${now}::timestamptz
       where user_id in (select id from account) and purpose = 'verify' and used_at is null),
    issued as (
      insert into email_tokens (user_id, purpose, token_hash, expires_at)
      select account.id, 'verify', ${await sha256Hex(token)}, ${new Date(now.getTime() + VERIFY_TOKEN_TTL_MS)}::timestamptz from account),
    outbox as (
      insert into email_outbox (to_address, subject, body)
      select lower(account.email), ${mail.subject}, ${mail.text} from account returning id)
    select not exists (select 1 from account) as verified, (select array_agg(outbox.id) from outbox) as outbox`);
  if (result.rows[0]?.verified) throw conflict("The email address is already verified", { reason: "already_verified" });
  await dispatchEmails(env, outboxIds(result.rows[0]?.outbox));
}

/** When the reset token is usable (unused, unexpired): its expiry; else 400. Consumes nothing. */
export async function checkResetToken(db: Database, token: string, now: Date): Promise<Date> {
  const [row] = await db
    .select({ expiresAt: emailTokens.expiresAt })
    .from(emailTokens)
    .where(
      and(
        eq(emailTokens.tokenHash, await sha256Hex(token)),
        eq(emailTokens.purpose, "reset"),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, now),
      ),
    )
    .limit(1);
  if (!row) throw badRequest(INVALID_EMAIL_TOKEN, { field: "token" });
  return row.expiresAt;
}

/** Marks the email verified with a verification token (single use, 24 h). */
export async function verifyEmail(db: Database, token: string, now: Date): Promise<void> {
  // One statement: the conditional UPDATE consumes the token (once), the account is marked verified with it.
  const result = await db.execute<{ consumed: boolean }>(sql`
    with consumed as (
      update email_tokens set used_at = ${now}::timestamptz
       where token_hash = ${await sha256Hex(token)} and purpose = 'verify' and used_at is null and expires_at > ${now}::timestamptz
      returning user_id),
    verified as (
      update users set email_verified = true, updated_at = ${now}::timestamptz where id in (select user_id from consumed))
    select exists (select 1 from consumed) as consumed`);
  if (!result.rows[0]?.consumed) throw badRequest(INVALID_EMAIL_TOKEN, { field: "token" });
}
