/**
 * The CultureBridge data model.
 *
 * The first ten tables, five enums and six indexes are the seed's model
 * (../shared/seeds/000_ec99788e6bd90cfe.txt) and keep its names and columns.
 * Additions, each needed by a contract rule, are marked "added:".
 *
 * Foreign keys follow the seed's cascade list (user -> profiles, posts,
 * comments, bookmarks; post -> comments; resource -> bookmarks). Where the
 * seed lists none, the choice is documented on the column.
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";

export const userRole = pgEnum("user_role", ["client", "coach", "admin"]);
export const bookingStatus = pgEnum("booking_status", ["pending", "confirmed", "completed", "cancelled"]);
export const paymentStatus = pgEnum("payment_status", ["pending", "succeeded", "failed", "refunded"]);
export const postType = pgEnum("post_type", ["discussion", "question", "announcement"]);
export const resourceType = pgEnum("resource_type", ["article", "video", "document"]);

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // Stored lower-cased so that the unique index is also case-insensitive.
    email: varchar("email", { length: 255 }).notNull(),
    // Nullable: imported users without a usable hash and deleted-account
    // tombstones have no password and can only get one through a reset.
    passwordHash: varchar("password_hash", { length: 255 }),
    role: userRole("role").notNull().default("client"),
    isActive: boolean("is_active").notNull().default(true),
    emailVerified: boolean("email_verified").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    // added: last authenticated request (throttled writes), for "active this period".
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("ix_users_email").on(t.email)],
);

export const clientProfiles = pgTable("client_profiles", {
  id: uuid("id").primaryKey().defaultRandom(),
  userId: uuid("user_id")
    .notNull()
    .unique("client_profiles_user_id_key")
    .references(() => users.id, { onDelete: "cascade" }),
  firstName: varchar("first_name", { length: 100 }),
  lastName: varchar("last_name", { length: 100 }),
  photoUrl: varchar("photo_url", { length: 500 }),
  phone: varchar("phone", { length: 20 }),
  timezone: varchar("timezone", { length: 64 }),
  // Required by the seed: never NULL; an empty object until the quiz is filled in.
  quizData: jsonb("quiz_data").$type<Record<string, unknown>>().notNull().default({}),
  preferences: jsonb("preferences").$type<Record<string, unknown>>().notNull().default({}),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const coachProfiles = pgTable(
  "coach_profiles",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .unique("coach_profiles_user_id_key")
      .references(() => users.id, { onDelete: "cascade" }),
    firstName: varchar("first_name", { length: 100 }),
    lastName: varchar("last_name", { length: 100 }),
    photoUrl: varchar("photo_url", { length: 500 }),
    bio: text("bio"),
    introVideoUrl: varchar("intro_video_url", { length: 500 }),
    expertise: text("expertise").array().notNull().default(sql`'{}'::text[]`),
    languages: text("languages").array().notNull().default(sql`'{}'::text[]`),
    countries: text("countries").array().notNull().default(sql`'{}'::text[]`),
    hourlyRate: numeric("hourly_rate", { precision: 10, scale: 2 }),
    currency: varchar("currency", { length: 3 }).notNull().default("USD"),
    availability: jsonb("availability").$type<Record<string, unknown>>().notNull().default({}),
    rating: numeric("rating", { precision: 3, scale: 2 }).notNull().default("0.00"),
    totalSessions: integer("total_sessions").notNull().default(0),
    isVerified: boolean("is_verified").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    // added (v2 reviews): maintained in the statement that writes or deletes a review, as
    // increments, so that concurrent reviews of one coach add up exactly (an UPDATE waits for
    // the row and re-reads it). rating = round(rating_sum / review_count, 2) while review_count > 0.
    reviewCount: integer("review_count").notNull().default(0),
    ratingSum: integer("rating_sum").notNull().default(0),
    // added: the rating that stood before the first review (imported), restored when the last
    // review is deleted; null while the coach has never had a review.
    importedRating: numeric("imported_rating", { precision: 3, scale: 2 }),
    // added (payouts): the coach's Stripe Connect Express account and its flags, as the last
    // applied account.updated event said (stripeAccountSyncedAt = that event's creation time).
    stripeAccountId: varchar("stripe_account_id", { length: 255 }).unique("coach_profiles_stripe_account_id_key"),
    stripeChargesEnabled: boolean("stripe_charges_enabled").notNull().default(false),
    stripePayoutsEnabled: boolean("stripe_payouts_enabled").notNull().default(false),
    stripeDetailsSubmitted: boolean("stripe_details_submitted").notNull().default(false),
    stripeAccountSyncedAt: timestamp("stripe_account_synced_at", { withTimezone: true, mode: "date" }),
    // added (issue 14, cold POST /match): the taxonomy topics of the expertise, as the match
    // pre-rank matches them (an array overlap instead of dozens of LIKE patterns per row).
    // Generated, so that every write of `expertise` keeps it right; the IMMUTABLE function is
    // generated from taxonomy.ts (src/services/matching/expertise-topics.ts, custom migration).
    expertiseTopics: text("expertise_topics").array().notNull().generatedAlwaysAs(sql`coach_expertise_topics(expertise)`),
  },
  (t) => [
    index("ix_coach_profiles_languages").using("gin", t.languages),
    // added: the discovery filters on countries and expertise are containment too.
    index("ix_coach_profiles_countries").using("gin", t.countries),
    index("ix_coach_profiles_expertise").using("gin", t.expertise),
    // added: discovery's ordering.
    index("ix_coach_profiles_rank").on(t.rating.desc(), t.totalSessions.desc(), t.id),
    // added (v2 `q`): words of name, bio and expertise; coach_search_vector() is an immutable
    // SQL function from a hand-written migration (array_to_string alone is only stable).
    index("ix_coach_profiles_search").using(
      "gin",
      sql`coach_search_vector(${t.firstName}, ${t.lastName}, ${t.bio}, ${t.expertise})`,
    ),
  ],
);

/**
 * added (issue 14, cold POST /match): the match pre-rank's inputs, one narrow row per (coach,
 * country), kept by triggers on coach_profiles (migration coach_match_keys_sync). The pre-rank
 * of the coaches who know a decisive country then reads a contiguous run of one covering index
 * (primary key (country, coach_id) INCLUDE the other columns, in the custom migration:
 * drizzle cannot declare INCLUDE) instead of thousands of scattered coach_profiles pages.
 * Countries and keys longer than 60 characters are left out (no country name is that long; it
 * keeps every index tuple far below btree's size limit). Never written by the application.
 */
export const coachMatchKeys = pgTable(
  "coach_match_keys",
  {
    country: text("country").notNull(),
    coachId: uuid("coach_id")
      .notNull()
      .references(() => coachProfiles.id, { onDelete: "cascade" }),
    languages: text("languages").array().notNull(),
    countries: text("countries").array().notNull(),
    expertiseTopics: text("expertise_topics").array().notNull(),
    hourlyRate: numeric("hourly_rate", { precision: 10, scale: 2 }),
    rating: numeric("rating", { precision: 3, scale: 2 }).notNull(),
    totalSessions: integer("total_sessions").notNull(),
  },
  // the triggers' and the cascade's delete by coach
  (t) => [index("ix_coach_match_keys_coach").on(t.coachId)],
);

/**
 * added (issue 14, GET /coaches at scale): the discovery list's keys, one row per visible coach
 * (active user of role coach, hourly rate set) and (language, country) pair of theirs, where ''
 * stands for "any": (l, c), (l, ''), ('', c) and ('', '') for every language l and country c
 * of the coach. Kept by triggers on coach_profiles and users (migration coach_list_keys_sync).
 * A page of a language and/or country filter is then a range of ix_coach_list_keys_rank, already
 * in the list's order (rating desc, total_sessions desc, id), and the total an index-only count,
 * instead of a walk of the global rank index that skips the ~92 % of coaches who do not match and
 * joins users for each one that does (docs/SEARCH.md). Values longer than 100 characters (the
 * longest filter value the API accepts) are left out: no request can ask for them. Never written
 * by the application.
 */
export const coachListKeys = pgTable(
  "coach_list_keys",
  {
    language: text("language").notNull(),
    country: text("country").notNull(),
    rating: numeric("rating", { precision: 3, scale: 2 }).notNull(),
    totalSessions: integer("total_sessions").notNull(),
    coachId: uuid("coach_id")
      .notNull()
      .references(() => coachProfiles.id, { onDelete: "cascade" }),
  },
  (t) => [
    // the list's order within one (language, country): a page is one range, read index-only
    uniqueIndex("ix_coach_list_keys_rank").on(t.language, t.country, t.rating.desc(), t.totalSessions.desc(), t.coachId),
    // the triggers' and the cascade's delete by coach; a filter that starts from coach_profiles
    index("ix_coach_list_keys_coach").on(t.coachId, t.language, t.country),
  ],
);

/**
 * added (issue 14, GET /coaches at scale): how many coach_list_keys rows each (language, country)
 * has, i.e. the exact total of a pure language/country filter ('' = any), kept by statement
 * triggers on coach_list_keys (migration coach_list_totals_sync) so that a list read never counts
 * and never writes. Only membership changes touch it: a rating or session count moves a coach
 * within its ranges by an UPDATE, which leaves the totals alone.
 */
export const coachListTotals = pgTable(
  "coach_list_totals",
  {
    language: text("language").notNull(),
    country: text("country").notNull(),
    coaches: integer("coaches").notNull(),
  },
  (t) => [primaryKey({ columns: [t.language, t.country] })],
);

export const bookings = pgTable(
  "bookings",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // No cascade (the seed lists none): bookings are financial records; a
    // deleted user with bookings stays as an anonymised tombstone.
    clientId: uuid("client_id")
      .notNull()
      .references(() => users.id),
    coachId: uuid("coach_id")
      .notNull()
      .references(() => users.id),
    sessionDatetime: timestamp("session_datetime", { withTimezone: true, mode: "date" }).notNull(),
    durationMinutes: integer("duration_minutes").notNull().default(60),
    status: bookingStatus("status").notNull().default("pending"),
    paymentId: uuid("payment_id").references((): AnyPgColumn => payments.id, { onDelete: "set null" }),
    meetingLink: varchar("meeting_link", { length: 500 }),
    notes: text("notes"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    // added: bumped on every change, used as the iCalendar SEQUENCE.
    sequence: integer("sequence").notNull().default(0),
  },
  (t) => [
    index("ix_bookings_client_id").on(t.clientId),
    index("ix_bookings_coach_id").on(t.coachId),
    index("ix_bookings_session_datetime").on(t.sessionDatetime),
  ],
);

export const payments = pgTable(
  "payments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    bookingId: uuid("booking_id")
      .notNull()
      .references((): AnyPgColumn => bookings.id),
    amount: numeric("amount", { precision: 10, scale: 2 }).notNull(),
    currency: varchar("currency", { length: 3 }).notNull().default("USD"),
    status: paymentStatus("status").notNull().default("pending"),
    stripeSessionId: varchar("stripe_session_id", { length: 255 }),
    stripePaymentIntentId: varchar("stripe_payment_intent_id", { length: 255 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    // added: checkout bookkeeping and the money trail.
    checkoutUrl: text("checkout_url"),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
    paidAt: timestamp("paid_at", { withTimezone: true, mode: "date" }),
    refundedAt: timestamp("refunded_at", { withTimezone: true, mode: "date" }),
    // added: a paid amount/currency that differs from the expected one is kept here, not confirmed.
    receivedAmount: numeric("received_amount", { precision: 12, scale: 3 }),
    receivedCurrency: varchar("received_currency", { length: 3 }),
    flagReason: text("flag_reason"),
    // added (payouts): the split of `amount`. destination_account is set for a destination
    // charge (the coach's share went to their connected account); null means the share is owed.
    platformFee: numeric("platform_fee", { precision: 12, scale: 3 }),
    coachAmount: numeric("coach_amount", { precision: 12, scale: 3 }),
    destinationAccount: varchar("destination_account", { length: 255 }),
    // added: a refund decided in a committed write, made at Stripe after the commit (retried by the cron).
    refundRequestedAt: timestamp("refund_requested_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("ix_payments_booking_id").on(t.bookingId),
    uniqueIndex("ix_payments_stripe_session_id").on(t.stripeSessionId),
    index("ix_payments_stripe_payment_intent_id").on(t.stripePaymentIntentId),
  ],
);

export const posts = pgTable(
  "posts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    authorId: uuid("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: varchar("title", { length: 200 }).notNull(),
    content: text("content").notNull(),
    postType: postType("post_type").notNull().default("discussion"),
    isPrivate: boolean("is_private").notNull().default(false),
    upvotes: integer("upvotes").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("ix_posts_created_at").on(t.createdAt),
    index("ix_posts_author_id").on(t.authorId),
    // added: the list's total as index-only counts (public posts; private posts by author), BENCHMARKS.md.
    index("ix_posts_visibility").on(t.isPrivate, t.postType, t.authorId),
  ],
);

export const comments = pgTable(
  "comments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    postId: uuid("post_id")
      .notNull()
      .references(() => posts.id, { onDelete: "cascade" }),
    authorId: uuid("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    content: text("content").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("ix_comments_post_id").on(t.postId, t.createdAt)],
);

export const resources = pgTable(
  "resources",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    title: varchar("title", { length: 200 }).notNull(),
    description: text("description"),
    resourceType: resourceType("resource_type").notNull(),
    url: varchar("url", { length: 500 }),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    // SET NULL (the seed lists no cascade): the library outlives its authors.
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [
    index("ix_resources_tags").using("gin", t.tags),
    index("ix_resources_search").using(
      "gin",
      sql`to_tsvector('simple', coalesce(${t.title}, '') || ' ' || coalesce(${t.description}, ''))`,
    ),
  ],
);

export const bookmarks = pgTable(
  "bookmarks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    resourceId: uuid("resource_id")
      .notNull()
      .references(() => resources.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [unique("uq_bookmarks_user_resource").on(t.userId, t.resourceId)],
);

export const matchCache = pgTable(
  "match_cache",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // Cascade (not in the seed's list): a cache must never keep a user row alive.
    clientId: uuid("client_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    matchResults: jsonb("match_results").$type<unknown>().notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: createdAt(),
    // added: quiz hash + coaches version the results were computed for.
    cacheKey: varchar("cache_key", { length: 200 }),
  },
  (t) => [uniqueIndex("ix_match_cache_client_id").on(t.clientId), index("ix_match_cache_expires_at").on(t.expiresAt)],
);

// ---------------------------------------------------------------------------
// added tables
// ---------------------------------------------------------------------------

/** Refresh tokens, one row per issued token; a login starts a family, every refresh adds a row. */
export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: uuid("id").primaryKey(), // the token's jti
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    familyId: uuid("family_id").notNull(),
    tokenHash: varchar("token_hash", { length: 64 }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [index("ix_refresh_tokens_user_id").on(t.userId), index("ix_refresh_tokens_family_id").on(t.familyId)],
);

/** Single-use email tokens (password reset, email verification), stored as SHA-256 hashes. */
export const emailTokens = pgTable(
  "email_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: varchar("purpose", { length: 20 }).$type<"reset" | "verify">().notNull(),
    tokenHash: varchar("token_hash", { length: 64 }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("ix_email_tokens_hash").on(t.tokenHash), index("ix_email_tokens_user_id").on(t.userId)],
);

/** One vote per (post, user); posts.upvotes is kept equal to the row count. */
export const postVotes = pgTable(
  "post_votes",
  {
    postId: uuid("post_id")
      .notNull()
      .references(() => posts.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.userId] })],
);

/** Every admin mutation, written in the same transaction as the mutation. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // No FK: the trail must survive the deletion of the admin who wrote it.
    actorId: uuid("actor_id"),
    action: varchar("action", { length: 64 }).notNull(),
    targetType: varchar("target_type", { length: 32 }).notNull(),
    targetId: varchar("target_id", { length: 64 }),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index("ix_audit_log_created_at").on(t.createdAt), index("ix_audit_log_actor_action").on(t.actorId, t.action)],
);

/** Stripe event ids already applied: the insert is the exactly-once gate of the webhook. */
export const stripeEvents = pgTable("stripe_events", {
  id: varchar("id", { length: 255 }).primaryKey(),
  type: varchar("type", { length: 100 }).notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/** Outgoing email. In development the row is the delivery (GET /dev/emails reads it). */
export const emailOutbox = pgTable(
  "email_outbox",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    toAddress: varchar("to_address", { length: 255 }).notNull(),
    subject: varchar("subject", { length: 300 }).notNull(),
    body: text("body").notNull(),
    status: varchar("status", { length: 16 }).$type<"queued" | "sent" | "kept" | "failed">().notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: createdAt(),
    sentAt: timestamp("sent_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("ix_email_outbox_to").on(t.toAddress, t.createdAt)],
);

/** Secret iCalendar feed tokens, hashed; one per user, replaced on rotation. */
export const calendarFeeds = pgTable(
  "calendar_feeds",
  {
    userId: uuid("user_id")
      .primaryKey()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: varchar("token_hash", { length: 64 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("ix_calendar_feeds_token_hash").on(t.tokenHash)],
);

/**
 * added (v2): reviews of completed sessions, one per booking. `coach_id` and `client_id` are
 * user ids copied from the booking (no cascade from users, as bookings: a reviewed booking keeps
 * both accounts as tombstones at worst).
 */
export const reviews = pgTable(
  "reviews",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    bookingId: uuid("booking_id")
      .notNull()
      .references(() => bookings.id),
    coachId: uuid("coach_id")
      .notNull()
      .references(() => users.id),
    clientId: uuid("client_id")
      .notNull()
      .references(() => users.id),
    rating: smallint("rating").notNull(),
    comment: text("comment"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("ix_reviews_booking_id").on(t.bookingId),
    // GET /coaches/{id}/reviews: newest first, stable ties.
    index("ix_reviews_coach_created").on(t.coachId, t.createdAt.desc(), t.id.desc()),
    check("ck_reviews_rating", sql`${t.rating} between 1 and 5`),
    check("ck_reviews_comment_length", sql`${t.comment} is null or char_length(${t.comment}) between 1 and 2000`),
  ],
);

/**
 * added (issue 14, GET /coaches at scale): the exact total of a broad coach filter, computed
 * once per coaches version (the counter every coach change bumps) and read instead of a count
 * over thousands of coaches. `filter_key` is a SHA-256 of the canonical filters. Only filters
 * with more matches than the list's exact-count threshold are stored; rows of older versions
 * are pruned by the statement that stores a new one.
 */
export const coachListCounts = pgTable("coach_list_counts", {
  filterKey: varchar("filter_key", { length: 64 }).primaryKey(),
  version: bigint("version", { mode: "number" }).notNull(),
  total: integer("total").notNull(),
});

/** Small global counters, e.g. the coaches version that keys the match cache. */
export const appCounters = pgTable("app_counters", {
  name: varchar("name", { length: 64 }).primaryKey(),
  value: bigint("value", { mode: "number" }).notNull().default(0),
});

/** added (contract v2 Rescheduling): every move of a booking, listed in GET /booking/{id} as `reschedules`. */
export const bookingReschedules = pgTable(
  "booking_reschedules",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // Cascade: the history belongs to its booking (bookings themselves are never deleted, see above).
    bookingId: uuid("booking_id")
      .notNull()
      .references(() => bookings.id, { onDelete: "cascade" }),
    oldSessionDatetime: timestamp("old_session_datetime", { withTimezone: true, mode: "date" }).notNull(),
    newSessionDatetime: timestamp("new_session_datetime", { withTimezone: true, mode: "date" }).notNull(),
    // SET NULL: a deleted account (no tombstone needed for it) must not take the history with it; the role stays.
    rescheduledBy: uuid("rescheduled_by").references(() => users.id, { onDelete: "set null" }),
    rescheduledByRole: userRole("rescheduled_by_role").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("ix_booking_reschedules_booking_id").on(t.bookingId, t.createdAt)],
);

/**
 * added (contract v2 Reminders): the claim of one reminder email. The cron inserts
 * (booking, kind, session time) with ON CONFLICT DO NOTHING and sends only what it
 * inserted, in the same transaction as the outbox rows: overlapping runs send each
 * reminder once, a run failing half-way sends nothing and the next run retries.
 * The session time is part of the key so that a rescheduled session is reminded
 * again at its new time.
 */
export const bookingReminders = pgTable(
  "booking_reminders",
  {
    bookingId: uuid("booking_id")
      .notNull()
      .references(() => bookings.id, { onDelete: "cascade" }),
    kind: varchar("kind", { length: 8 }).$type<"24h" | "1h">().notNull(),
    sessionDatetime: timestamp("session_datetime", { withTimezone: true, mode: "date" }).notNull(),
    claimedAt: timestamp("claimed_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.bookingId, t.kind, t.sessionDatetime] })],
);

export type User = typeof users.$inferSelect;
export type ClientProfile = typeof clientProfiles.$inferSelect;
export type CoachProfile = typeof coachProfiles.$inferSelect;
export type Booking = typeof bookings.$inferSelect;
export type BookingReschedule = typeof bookingReschedules.$inferSelect;
export type Payment = typeof payments.$inferSelect;
export type Post = typeof posts.$inferSelect;
export type Resource = typeof resources.$inferSelect;
export type Review = typeof reviews.$inferSelect;
