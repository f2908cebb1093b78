/**
 * Admin user management: the user list and detail, role / active / verified
 * changes with the last-active-admin rule, and account deletion by an admin.
 * Every mutation writes its audit entry in its own transaction (PATCH: inside
 * the admin_update_user function, one statement).
 */
import { and, asc, count, desc, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import {
  type Booking,
  bookings,
  clientProfiles,
  coachProfiles,
  comments,
  type Payment,
  payments,
  posts,
  type User,
  users,
} from "../../../drizzle/schema.ts";
import type { ClientProfileBody, CoachProfileBody } from "../../contract/profiles.ts";
import type { Database, Executor } from "../../db/client.ts";
import { jsonRows, rowFromJson, rowsFromJson } from "../../db/json-rows.ts";
import type { ServiceEnv } from "../../env.ts";
import { conflict, notFound } from "../../lib/errors.ts";
import { type ExportCursor, exactInstant } from "../../lib/keyset.ts";
import { type Pagination, pageTotal, windowTotal } from "../../lib/pagination.ts";
import { isoUtc, requireIso } from "../../lib/time.ts";
import { deleteAccount } from "../account-deletion.ts";
import { serializeClientProfile, serializeCoachProfile } from "../profiles.ts";

export type Role = User["role"];

export interface AdminUser {
  id: string;
  email: string;
  role: Role;
  is_active: boolean;
  email_verified: boolean;
  created_at: string;
  updated_at: string;
  last_seen_at: string | null;
  first_name: string | null;
  last_name: string | null;
}

const clientProfile = alias(clientProfiles, "admin_client_profile");
const coachProfile = alias(coachProfiles, "admin_coach_profile");

/**
 * Names come from one profile, never mixed: the coach profile when the user
 * has one (a role change can leave both), else the client profile; admins
 * have none (null). The same rule as the community's author names.
 */
const firstName = sql<
  string | null
>`case when ${coachProfile.id} is not null then ${coachProfile.firstName} else ${clientProfile.firstName} end`;
const lastName = sql<
  string | null
>`case when ${coachProfile.id} is not null then ${coachProfile.lastName} else ${clientProfile.lastName} end`;

const userColumns = {
  id: users.id,
  email: users.email,
  role: users.role,
  isActive: users.isActive,
  emailVerified: users.emailVerified,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  lastSeenAt: users.lastSeenAt,
  firstName,
  lastName,
};

type UserRow = {
  id: string;
  email: string;
  role: Role;
  isActive: boolean;
  emailVerified: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastSeenAt: Date | null;
  firstName: string | null;
  lastName: string | null;
};

function serializeUser(row: UserRow): AdminUser {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    is_active: row.isActive,
    email_verified: row.emailVerified,
    created_at: requireIso(row.createdAt),
    updated_at: requireIso(row.updatedAt),
    last_seen_at: isoUtc(row.lastSeenAt),
    first_name: row.firstName,
    last_name: row.lastName,
  };
}

/** `%`, `_` and `\` typed by the admin are literal characters, not wildcards. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

export interface UserFilters {
  role?: Role | undefined;
  isActive?: boolean | undefined;
  /** Case-insensitive substring of the email, first name, last name or "first last". */
  search?: string | undefined;
}

function usersWithProfiles(db: Executor) {
  return db
    .select(userColumns)
    .from(users)
    .leftJoin(clientProfile, eq(clientProfile.userId, users.id))
    .leftJoin(coachProfile, eq(coachProfile.userId, users.id));
}

function userWhere(filters: UserFilters): SQL | undefined {
  const conditions: SQL[] = [];
  if (filters.role) conditions.push(eq(users.role, filters.role));
  if (filters.isActive !== undefined) conditions.push(eq(users.isActive, filters.isActive));
  const search = filters.search?.trim();
  if (search) {
    const pattern = likePattern(search);
    conditions.push(
      or(
        ilike(users.email, pattern),
        ilike(sql`concat_ws(' ', ${clientProfile.firstName}, ${clientProfile.lastName})`, pattern),
        ilike(sql`concat_ws(' ', ${coachProfile.firstName}, ${coachProfile.lastName})`, pattern),
      ) as SQL,
    );
  }
  return conditions.length > 0 ? and(...conditions) : undefined;
}

export async function listUsers(
  db: Executor,
  filters: UserFilters,
  pagination: Pagination,
): Promise<{ items: AdminUser[]; total: number }> {
  const where = userWhere(filters);
  const rows = await db
    .select({ ...userColumns, total: windowTotal })
    .from(users)
    .leftJoin(clientProfile, eq(clientProfile.userId, users.id))
    .leftJoin(coachProfile, eq(coachProfile.userId, users.id))
    .where(where)
    .orderBy(desc(users.createdAt), asc(users.id))
    .offset(pagination.skip)
    .limit(pagination.limit);
  const total = await pageTotal(rows, pagination, async () => {
    const [row] = await db
      .select({ total: count() })
      .from(users)
      .leftJoin(clientProfile, eq(clientProfile.userId, users.id))
      .leftJoin(coachProfile, eq(coachProfile.userId, users.id))
      .where(where);
    return row?.total ?? 0;
  });
  return { items: rows.map(serializeUser), total };
}

/**
 * One chunk of the CSV export of GET /admin/users: the list's filters and
 * order, read by keyset (created_at desc, id) from `cursor` on, so a chunk
 * costs the same wherever it is in a 100,000-row export (no OFFSET scan).
 */
export async function usersExportChunk(
  db: Executor,
  filters: UserFilters,
  cursor: ExportCursor | undefined,
  size: number,
): Promise<{ items: AdminUser[]; next: ExportCursor | undefined }> {
  const after = cursor
    ? sql`(${users.createdAt} < ${cursor.at}::timestamptz or (${users.createdAt} = ${cursor.at}::timestamptz and ${users.id} > ${cursor.id}::uuid))`
    : undefined;
  const rows = await db
    .select({ ...userColumns, cursorAt: exactInstant(users.createdAt) })
    .from(users)
    .leftJoin(clientProfile, eq(clientProfile.userId, users.id))
    .leftJoin(coachProfile, eq(coachProfile.userId, users.id))
    .where(and(userWhere(filters), after))
    .orderBy(desc(users.createdAt), asc(users.id))
    .limit(size);
  const last = rows.at(-1);
  return { items: rows.map(serializeUser), next: rows.length === size && last ? { at: last.cursorAt, id: last.id } : undefined };
}

export async function getAdminUser(db: Executor, userId: string): Promise<AdminUser | undefined> {
  const [row] = await usersWithProfiles(db).where(eq(users.id, userId)).limit(1);
  return row ? serializeUser(row) : undefined;
}

// ---------------------------------------------------------------------------
// detail with activity
// ---------------------------------------------------------------------------

/** How many of each kind of record the detail view lists (newest first); the totals are exact. */
export const ACTIVITY_LIMIT = 50;

export function serializeBooking(row: Booking) {
  return {
    id: row.id,
    client_id: row.clientId,
    coach_id: row.coachId,
    session_datetime: requireIso(row.sessionDatetime),
    duration_minutes: row.durationMinutes,
    status: row.status,
    payment_id: row.paymentId,
    meeting_link: row.meetingLink,
    notes: row.notes,
    created_at: requireIso(row.createdAt),
    updated_at: requireIso(row.updatedAt),
  };
}

export function serializePayment(row: Payment) {
  return {
    id: row.id,
    booking_id: row.bookingId,
    amount: Number(row.amount),
    currency: row.currency,
    status: row.status,
    stripe_session_id: row.stripeSessionId,
    stripe_payment_intent_id: row.stripePaymentIntentId,
    paid_at: isoUtc(row.paidAt),
    refunded_at: isoUtc(row.refundedAt),
    created_at: requireIso(row.createdAt),
    updated_at: requireIso(row.updatedAt),
  };
}

export interface UserActivity {
  bookings: ReturnType<typeof serializeBooking>[];
  payments: ReturnType<typeof serializePayment>[];
  posts: { id: string; title: string; post_type: string; is_private: boolean; upvotes: number; created_at: string }[];
  comments: { id: string; post_id: string; content: string; created_at: string }[];
}

export interface UserActivityTotals {
  bookings: number;
  payments: number;
  posts: number;
  comments: number;
}

export interface AdminUserDetail {
  user: AdminUser;
  /** The coach profile when the user has one (as for names), else the client profile, else null (admins). */
  profile: ClientProfileBody | CoachProfileBody | null;
  activity: UserActivity;
  activity_totals: UserActivityTotals;
}

/**
 * The outer row's user id, written out qualified: drizzle leaves column names unqualified in a
 * one-table select, where inside a subquery "id" would bind to the subquery's own table.
 */
const userIdColumn = sql`"users"."id"`;

/** Bookings of the user in either role, as SQL over the outer `users` row. */
const bookingsOfUser = sql`select b.id from bookings b where b.client_id = ${userIdColumn} or b.coach_id = ${userIdColumn}`;

/**
 * GET /admin/users/{id}: the user, the profile, and the activity — the
 * bookings (as client or as coach), the payments of those bookings, posts
 * and comments, the newest ACTIVITY_LIMIT of each with exact totals — in ONE
 * statement: each set is a JSON array of whole rows in a correlated,
 * index-served subquery (see db/json-rows.ts), turned back into drizzle rows
 * for the usual serializers. Undefined when there is no such user.
 */
export async function getAdminUserDetail(db: Executor, userId: string): Promise<AdminUserDetail | undefined> {
  const limit = sql.raw(String(ACTIVITY_LIMIT));
  const [row] = await db
    .select({
      ...userColumns,
      coachProfile: sql<Record<
        string,
        unknown
      > | null>`(select to_jsonb(p) from coach_profiles p where p.user_id = ${userIdColumn})`,
      clientProfile: sql<Record<
        string,
        unknown
      > | null>`(select to_jsonb(p) from client_profiles p where p.user_id = ${userIdColumn})`,
      bookings: jsonRows(
        sql`select b.* from bookings b where b.client_id = ${userIdColumn} or b.coach_id = ${userIdColumn} order by b.session_datetime desc, b.id limit ${limit}`,
        sql`r.session_datetime desc, r.id`,
      ),
      payments: jsonRows(
        sql`select p.* from payments p where p.booking_id in (${bookingsOfUser}) order by p.created_at desc, p.id limit ${limit}`,
        sql`r.created_at desc, r.id`,
      ),
      posts: jsonRows(
        sql`select p.* from posts p where p.author_id = ${userIdColumn} order by p.created_at desc, p.id limit ${limit}`,
        sql`r.created_at desc, r.id`,
      ),
      comments: jsonRows(
        sql`select c.* from comments c where c.author_id = ${userIdColumn} order by c.created_at desc, c.id limit ${limit}`,
        sql`r.created_at desc, r.id`,
      ),
      bookingTotal: sql<number>`(select count(*)::int from bookings b where b.client_id = ${userIdColumn} or b.coach_id = ${userIdColumn})`,
      paymentTotal: sql<number>`(select count(*)::int from payments p where p.booking_id in (${bookingsOfUser}))`,
      postTotal: sql<number>`(select count(*)::int from posts p where p.author_id = ${userIdColumn})`,
      commentTotal: sql<number>`(select count(*)::int from comments c where c.author_id = ${userIdColumn})`,
    })
    .from(users)
    .leftJoin(clientProfile, eq(clientProfile.userId, users.id))
    .leftJoin(coachProfile, eq(coachProfile.userId, users.id))
    .where(eq(users.id, userId))
    .limit(1);
  if (!row) return undefined;
  const profile = row.coachProfile
    ? serializeCoachProfile(rowFromJson(coachProfiles, row.coachProfile))
    : row.clientProfile
      ? serializeClientProfile(rowFromJson(clientProfiles, row.clientProfile))
      : null;
  return {
    user: serializeUser(row),
    profile,
    activity: {
      bookings: rowsFromJson(bookings, row.bookings).map(serializeBooking),
      payments: rowsFromJson(payments, row.payments).map(serializePayment),
      posts: rowsFromJson(posts, row.posts).map((post) => ({
        id: post.id,
        title: post.title,
        post_type: post.postType,
        is_private: post.isPrivate,
        upvotes: post.upvotes,
        created_at: requireIso(post.createdAt),
      })),
      comments: rowsFromJson(comments, row.comments).map((comment) => ({
        id: comment.id,
        post_id: comment.postId,
        content: comment.content,
        created_at: requireIso(comment.createdAt),
      })),
    },
    activity_totals: {
      bookings: Number(row.bookingTotal),
      payments: Number(row.paymentTotal),
      posts: Number(row.postTotal),
      comments: Number(row.commentTotal),
    },
  };
}

// ---------------------------------------------------------------------------
// PATCH /admin/users/{id}
// ---------------------------------------------------------------------------

export interface UserPatch {
  role?: Role | undefined;
  is_active?: boolean | undefined;
  email_verified?: boolean | undefined;
}

type AccountState = { role: Role; is_active: boolean; email_verified: boolean };

export interface UserUpdateResult {
  user: AdminUser;
  before: AccountState;
  after: AccountState;
  /** Role changed or the account was deactivated: the caller revokes the user's access tokens. */
  revokeTokens: boolean;
}

type UpdateOutcome =
  | { outcome: "not_found" }
  | { outcome: "last_active_admin" }
  | {
      outcome: "updated";
      user: Record<string, unknown>;
      first_name: string | null;
      last_name: string | null;
      before: AccountState;
      after: AccountState;
      changed: (keyof AccountState)[];
    };

/**
 * PATCH /admin/users/{id} in ONE round trip: the Postgres function
 * admin_update_user (migrations/0010_admin_update_user_function.sql) takes the
 * locks (the active admins in id order, before the target, only when an active
 * admin loses the role or is deactivated), applies the last-active-admin rule
 * on the locked rows, updates, bumps the coaches version when a coach's role or
 * active flag changes, writes the audit entry (for every accepted PATCH, a
 * no-op included) and returns the updated user, all in the statement's own
 * transaction. Its writes are listed in db/client.ts FUNCTION_WRITES so that
 * the edge caches are bumped.
 */
export async function updateUser(
  db: Database,
  actorId: string,
  userId: string,
  patch: UserPatch,
  now: Date,
): Promise<UserUpdateResult> {
  const result = await db.execute<{ result: UpdateOutcome }>(
    sql`select admin_update_user(${actorId}::uuid, ${userId}::uuid, ${patch.role ?? null}::user_role,
        ${patch.is_active ?? null}::boolean, ${patch.email_verified ?? null}::boolean, ${now.toISOString()}::timestamptz) as result`,
  );
  const outcome = result.rows[0]?.result;
  if (!outcome) throw new Error("admin_update_user returned no row");
  if (outcome.outcome === "not_found") throw notFound("User");
  if (outcome.outcome === "last_active_admin") {
    throw conflict("The last active admin cannot be demoted, deactivated or deleted", { reason: "last_active_admin" });
  }
  const row = rowFromJson(users, outcome.user);
  const { before, after, changed } = outcome;
  return {
    user: serializeUser({ ...row, firstName: outcome.first_name, lastName: outcome.last_name }),
    before,
    after,
    revokeTokens: changed.includes("role") || (changed.includes("is_active") && !after.is_active),
  };
}

// ---------------------------------------------------------------------------
// DELETE /admin/users/{id}
// ---------------------------------------------------------------------------

/**
 * Deletes an account exactly as DELETE /profile does (future bookings
 * cancelled with full refunds since an admin acts, profile and content
 * removed, the user row deleted or kept as an anonymised tombstone), through
 * the shared account-deletion service, which also refuses the last active
 * admin (409) under the same admin-row lock as PATCH.
 *
 * The audit entry is written by account_delete() (migration 0011) in the
 * statement that deletes the row, so a refused or failed deletion leaves no
 * entry and a deletion never lacks one. It records the role and state the
 * account had, and not the email: the erased person's address must not
 * outlive the account in the trail.
 */
export async function deleteUserAsAdmin(
  db: Database,
  env: ServiceEnv,
  actorId: string,
  userId: string,
  now: Date,
): Promise<void> {
  await deleteAccount(db, env, { userId, byAdmin: true, now, auditActorId: actorId });
}
