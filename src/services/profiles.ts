/**
 * Client and coach profiles: the serializers every module shares (profile,
 * admin user detail, coach discovery), reading the caller's profile, and the
 * create-or-update of PUT /profile.
 *
 * A coach profile change bumps the coaches version in the same transaction
 * (match cache invalidation); a client's quiz change needs nothing here: the
 * match cache key contains the quiz hash (src/lib/quiz.ts quizHash).
 */
import { eq, sql } from "drizzle-orm";
import {
  appCounters,
  bookings,
  bookmarks,
  type ClientProfile,
  type CoachProfile,
  clientProfiles,
  coachProfiles,
  comments,
  payments,
  posts,
  postVotes,
  resources,
  type User,
  users,
} from "../../drizzle/schema.ts";
import type { ClientProfileBody, CoachProfileBody } from "../contract/profiles.ts";
import type { Database, Executor } from "../db/client.ts";
import { jsonRows, rowFromJson, rowsFromJson } from "../db/json-rows.ts";
import type { Availability } from "../lib/availability.ts";
import { forbidden, unauthorized } from "../lib/errors.ts";
import type { Quiz } from "../lib/quiz.ts";
import { requireIso } from "../lib/time.ts";

/** The app_counters row bumpCoachesVersion increments (coaches-version.ts). */
const COACHES_VERSION_COUNTER = "coaches_version";

// ---------------------------------------------------------------------------
// the profile objects (contract: Profiles)
// ---------------------------------------------------------------------------

export function serializeClientProfile(row: ClientProfile): ClientProfileBody {
  return {
    id: row.id,
    user_id: row.userId,
    first_name: row.firstName,
    last_name: row.lastName,
    photo_url: row.photoUrl,
    phone: row.phone,
    timezone: row.timezone,
    quiz_data: row.quizData ?? {},
    preferences: row.preferences ?? {},
    created_at: requireIso(row.createdAt),
    updated_at: requireIso(row.updatedAt),
  };
}

export function serializeCoachProfile(row: CoachProfile): CoachProfileBody {
  return {
    id: row.id,
    user_id: row.userId,
    first_name: row.firstName,
    last_name: row.lastName,
    photo_url: row.photoUrl,
    bio: row.bio,
    intro_video_url: row.introVideoUrl,
    expertise: row.expertise ?? [],
    languages: row.languages ?? [],
    countries: row.countries ?? [],
    // numeric columns arrive as strings; the API speaks JSON numbers
    hourly_rate: row.hourlyRate === null ? null : Number(row.hourlyRate),
    currency: row.currency,
    availability: row.availability ?? {},
    rating: Number(row.rating),
    total_sessions: row.totalSessions,
    is_verified: row.isVerified,
    review_count: row.reviewCount,
    created_at: requireIso(row.createdAt),
    updated_at: requireIso(row.updatedAt),
  };
}

// ---------------------------------------------------------------------------
// reading
// ---------------------------------------------------------------------------

export interface OwnProfile {
  user: User;
  profile: ClientProfileBody | CoachProfileBody | null;
}

/** The profile row of a user by role (admins have none). */
export async function loadProfileRow(
  db: Executor,
  userId: string,
  role: User["role"],
): Promise<ClientProfile | CoachProfile | undefined> {
  if (role === "client") {
    const [row] = await db.select().from(clientProfiles).where(eq(clientProfiles.userId, userId)).limit(1);
    return row;
  }
  if (role === "coach") {
    const [row] = await db.select().from(coachProfiles).where(eq(coachProfiles.userId, userId)).limit(1);
    return row;
  }
  return undefined;
}

export function serializeProfileRow(
  role: User["role"],
  row: ClientProfile | CoachProfile | undefined,
): ClientProfileBody | CoachProfileBody | null {
  if (!row) return null;
  return role === "coach" ? serializeCoachProfile(row as CoachProfile) : serializeClientProfile(row as ClientProfile);
}

/**
 * The caller's account and profile. The user row is read anyway, so an
 * account that is gone or deactivated is refused here too (defence in depth
 * behind the token revocation mark).
 */
export async function getOwnProfile(db: Database, userId: string): Promise<OwnProfile> {
  // One round trip: the user row with whichever profile row it has (each table holds at most one per user).
  const [row] = await db
    .select({ user: users, client: clientProfiles, coach: coachProfiles })
    .from(users)
    .leftJoin(clientProfiles, eq(clientProfiles.userId, users.id))
    .leftJoin(coachProfiles, eq(coachProfiles.userId, users.id))
    .where(eq(users.id, userId))
    .limit(1);
  if (!row) throw unauthorized("This account no longer exists");
  const { user } = row;
  if (!user.isActive) throw forbidden("This account is deactivated");
  // As loadProfileRow: the role decides which profile counts (admins have none).
  const profileRow = user.role === "client" ? row.client : user.role === "coach" ? row.coach : null;
  return { user, profile: serializeProfileRow(user.role, profileRow ?? undefined) };
}

// ---------------------------------------------------------------------------
// create-or-update
// ---------------------------------------------------------------------------

/** Validated client changes; an absent key is left unchanged, null clears. */
export interface ClientProfileChanges {
  first_name?: string | null;
  last_name?: string | null;
  phone?: string | null;
  timezone?: string | null;
  quiz_data?: Quiz;
  preferences?: Record<string, unknown>;
}

/** Validated coach changes; an absent key is left unchanged, null clears. */
export interface CoachProfileChanges {
  first_name?: string | null;
  last_name?: string | null;
  bio?: string | null;
  intro_video_url?: string | null;
  expertise?: string[];
  languages?: string[];
  countries?: string[];
  hourly_rate?: number;
  currency?: string;
  availability?: Availability;
}

type ClientColumns = Partial<Omit<typeof clientProfiles.$inferInsert, "id" | "userId" | "createdAt">>;
type CoachColumns = Partial<Omit<typeof coachProfiles.$inferInsert, "id" | "userId" | "createdAt">>;

function clientColumns(changes: ClientProfileChanges): ClientColumns {
  const set: ClientColumns = {};
  if (changes.first_name !== undefined) set.firstName = changes.first_name;
  if (changes.last_name !== undefined) set.lastName = changes.last_name;
  if (changes.phone !== undefined) set.phone = changes.phone;
  if (changes.timezone !== undefined) set.timezone = changes.timezone;
  if (changes.quiz_data !== undefined) set.quizData = changes.quiz_data as Record<string, unknown>;
  if (changes.preferences !== undefined) set.preferences = changes.preferences;
  return set;
}

function coachColumns(changes: CoachProfileChanges): CoachColumns {
  const set: CoachColumns = {};
  if (changes.first_name !== undefined) set.firstName = changes.first_name;
  if (changes.last_name !== undefined) set.lastName = changes.last_name;
  if (changes.bio !== undefined) set.bio = changes.bio;
  if (changes.intro_video_url !== undefined) set.introVideoUrl = changes.intro_video_url;
  if (changes.expertise !== undefined) set.expertise = changes.expertise;
  if (changes.languages !== undefined) set.languages = changes.languages;
  if (changes.countries !== undefined) set.countries = changes.countries;
  // two decimals, as the numeric(10,2) column stores it
  if (changes.hourly_rate !== undefined) set.hourlyRate = changes.hourly_rate.toFixed(2);
  if (changes.currency !== undefined) set.currency = changes.currency;
  if (changes.availability !== undefined) set.availability = changes.availability as Record<string, unknown>;
  return set;
}

/**
 * One INSERT ... ON CONFLICT (user_id) DO UPDATE: creates the profile on the
 * first PUT, otherwise sets only the given columns. Race-free without a read.
 */
export async function upsertClientProfile(
  db: Executor,
  userId: string,
  changes: ClientProfileChanges,
  now: Date,
): Promise<ClientProfile> {
  const set = clientColumns(changes);
  const [row] = await db
    .insert(clientProfiles)
    .values({ ...set, userId, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: clientProfiles.userId, set: { ...set, updatedAt: now } })
    .returning();
  return row as ClientProfile;
}

/**
 * As upsertClientProfile, plus the coaches-version bump (match cache
 * invalidation, as bumpCoachesVersion) in the SAME statement: the upsert and
 * the bump are data-modifying CTEs of one atomic statement, one round trip
 * instead of BEGIN, upsert, bump, COMMIT.
 */
export async function upsertCoachProfile(
  db: Database,
  userId: string,
  changes: CoachProfileChanges,
  now: Date,
): Promise<CoachProfile> {
  const set = coachColumns(changes);
  const upsert = db
    .insert(coachProfiles)
    .values({ ...set, userId, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: coachProfiles.userId, set: { ...set, updatedAt: now } })
    .returning();
  const bump = db
    .insert(appCounters)
    .values({ name: COACHES_VERSION_COUNTER, value: 1 })
    .onConflictDoUpdate({ target: appCounters.name, set: { value: sql`${appCounters.value} + 1` } });
  const result = await db.execute<{ row: Record<string, unknown> }>(
    sql`with upserted as (${upsert.getSQL()}), bumped as (${bump.getSQL()}) select to_jsonb(upserted) as row from upserted`,
  );
  const row = result.rows[0]?.row;
  if (!row) throw new Error("coach profile upsert returned no row");
  return rowFromJson(coachProfiles, row);
}

/**
 * Sets photo_url on the caller's profile (a minimal profile is created when
 * none exists) and returns the previous URL, in ONE statement (one round trip,
 * its own implicit transaction): a CTE reads the old URL under a row lock
 * (FOR UPDATE: a concurrent upload waits, then reads the URL the other one
 * committed, so each sees the photo it replaces), the upsert reads that CTE
 * (so it runs after the lock is taken) and, for a coach, the coaches version
 * is bumped in the same statement (photo_url is part of the coach list items:
 * the match cache must not serve the old one). No transaction to wrap it in.
 */
export async function setProfilePhotoUrl(
  db: Executor,
  userId: string,
  role: "client" | "coach",
  photoUrl: string,
  now: Date,
): Promise<string | null> {
  const table = role === "client" ? clientProfiles : coachProfiles;
  const at = now.toISOString();
  const bump =
    role === "coach"
      ? sql`, bumped as (insert into ${appCounters} (${sql.identifier(appCounters.name.name)}, ${sql.identifier(appCounters.value.name)})
          values (${COACHES_VERSION_COUNTER}, 1)
          on conflict (${sql.identifier(appCounters.name.name)}) do update set ${sql.identifier(appCounters.value.name)} = ${appCounters.value} + 1)`
      : sql``;
  const result = await db.execute<{ previous: string | null; written: number }>(sql`
    with old as (select ${table.photoUrl} as photo_url from ${table} where ${table.userId} = ${userId}::uuid for update),
    upserted as (
      insert into ${table} (${sql.identifier(table.userId.name)}, ${sql.identifier(table.photoUrl.name)},
                            ${sql.identifier(table.createdAt.name)}, ${sql.identifier(table.updatedAt.name)})
      select ${userId}::uuid, ${photoUrl}::text, ${at}::timestamptz, ${at}::timestamptz
        from (select 1) as one left join old on true
      on conflict (${sql.identifier(table.userId.name)}) do update
        set ${sql.identifier(table.photoUrl.name)} = excluded.${sql.identifier(table.photoUrl.name)},
            ${sql.identifier(table.updatedAt.name)} = excluded.${sql.identifier(table.updatedAt.name)}
      returning 1)${bump}
    select (select photo_url from old) as previous, (select count(*)::int from upserted) as written`);
  const row = result.rows[0];
  if (!row || Number(row.written) !== 1) throw new Error("profile photo upsert wrote no row");
  return row.previous ?? null;
}

// ---------------------------------------------------------------------------
// GDPR export
// ---------------------------------------------------------------------------

const iso = (date: Date | null) => (date === null ? null : requireIso(date));
const money = (value: string | null) => (value === null ? null : Number(value));

/**
 * Everything stored about the user, machine-readable: the account (no
 * password hash), the profile, bookings on either side, their payments,
 * posts, comments, bookmarks, votes and the resources they created. Secrets
 * (password hash, refresh/email/calendar token hashes) and the outbox (whose
 * messages carry single-use links) are left out on purpose.
 */
export async function exportAccount(db: Database, userId: string, now: Date): Promise<Record<string, unknown>> {
  // Written out qualified: drizzle leaves column names unqualified in a one-table select, where
  // inside a subquery "id" would bind to the subquery's own table.
  const userIdColumn = sql`"users"."id"`;
  // ONE statement: the user row and every set as a JSON array of whole rows (db/json-rows.ts).
  const bookingsOfUser = sql`select b.* from bookings b where b.client_id = ${userIdColumn} or b.coach_id = ${userIdColumn}`;
  const [row] = await db
    .select({
      user: users,
      clientProfile: sql<Record<
        string,
        unknown
      > | null>`(select to_jsonb(p) from client_profiles p where p.user_id = ${userIdColumn})`,
      coachProfile: sql<Record<
        string,
        unknown
      > | null>`(select to_jsonb(p) from coach_profiles p where p.user_id = ${userIdColumn})`,
      bookings: jsonRows(bookingsOfUser, sql`r.session_datetime`),
      payments: jsonRows(
        sql`select p.* from payments p where p.booking_id in (select b.id from (${bookingsOfUser}) as b)`,
        sql`r.created_at`,
      ),
      posts: jsonRows(sql`select p.* from posts p where p.author_id = ${userIdColumn}`, sql`r.created_at`),
      comments: jsonRows(sql`select c.* from comments c where c.author_id = ${userIdColumn}`, sql`r.created_at`),
      bookmarks: jsonRows(
        sql`select bm.id, bm.resource_id, res.title, res.url, bm.created_at
              from bookmarks bm join resources res on res.id = bm.resource_id where bm.user_id = ${userIdColumn}`,
        sql`r.created_at`,
      ),
      votes: jsonRows(sql`select v.* from post_votes v where v.user_id = ${userIdColumn}`, sql`r.created_at`),
      resources: jsonRows(sql`select res.* from resources res where res.created_by = ${userIdColumn}`, sql`r.created_at`),
    })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (!row) throw unauthorized("This account no longer exists");
  const { user } = row;
  // As loadProfileRow: the role decides which profile counts (admins have none).
  const profileRow =
    user.role === "client" && row.clientProfile
      ? rowFromJson(clientProfiles, row.clientProfile)
      : user.role === "coach" && row.coachProfile
        ? rowFromJson(coachProfiles, row.coachProfile)
        : undefined;
  const bookingRows = rowsFromJson(bookings, row.bookings);
  const paymentRows = rowsFromJson(payments, row.payments);
  const postRows = rowsFromJson(posts, row.posts);
  const commentRows = rowsFromJson(comments, row.comments);
  const voteRows = rowsFromJson(postVotes, row.votes);
  const resourceRows = rowsFromJson(resources, row.resources);
  const bookmarkRows = (Array.isArray(row.bookmarks) ? (row.bookmarks as Array<Record<string, unknown>>) : []).map((json) => ({
    ...rowFromJson(bookmarks, json),
    title: json.title as string,
    url: (json.url as string | null) ?? null,
  }));

  return {
    user: {
      id: user.id,
      email: user.email,
      role: user.role,
      is_active: user.isActive,
      email_verified: user.emailVerified,
      created_at: iso(user.createdAt),
      updated_at: iso(user.updatedAt),
      last_seen_at: iso(user.lastSeenAt),
    },
    profile: serializeProfileRow(user.role, profileRow),
    bookings: bookingRows.map((booking) => ({
      id: booking.id,
      role: booking.clientId === userId ? "client" : "coach",
      client_id: booking.clientId,
      coach_id: booking.coachId,
      session_datetime: iso(booking.sessionDatetime),
      duration_minutes: booking.durationMinutes,
      status: booking.status,
      payment_id: booking.paymentId,
      meeting_link: booking.meetingLink,
      notes: booking.notes,
      created_at: iso(booking.createdAt),
      updated_at: iso(booking.updatedAt),
    })),
    payments: paymentRows.map((payment) => ({
      id: payment.id,
      booking_id: payment.bookingId,
      amount: money(payment.amount),
      currency: payment.currency,
      status: payment.status,
      stripe_session_id: payment.stripeSessionId,
      stripe_payment_intent_id: payment.stripePaymentIntentId,
      paid_at: iso(payment.paidAt),
      refunded_at: iso(payment.refundedAt),
      created_at: iso(payment.createdAt),
      updated_at: iso(payment.updatedAt),
    })),
    posts: postRows.map((post) => ({
      id: post.id,
      title: post.title,
      content: post.content,
      post_type: post.postType,
      is_private: post.isPrivate,
      upvotes: post.upvotes,
      created_at: iso(post.createdAt),
      updated_at: iso(post.updatedAt),
    })),
    comments: commentRows.map((comment) => ({
      id: comment.id,
      post_id: comment.postId,
      content: comment.content,
      created_at: iso(comment.createdAt),
    })),
    bookmarks: bookmarkRows.map((bookmark) => ({
      id: bookmark.id,
      resource_id: bookmark.resourceId,
      resource_title: bookmark.title,
      resource_url: bookmark.url,
      created_at: iso(bookmark.createdAt),
    })),
    post_votes: voteRows.map((vote) => ({ post_id: vote.postId, created_at: iso(vote.createdAt) })),
    resources: resourceRows.map((resource) => ({
      id: resource.id,
      title: resource.title,
      description: resource.description,
      resource_type: resource.resourceType,
      url: resource.url,
      tags: resource.tags,
      created_at: iso(resource.createdAt),
    })),
    exported_at: requireIso(now),
  };
}
