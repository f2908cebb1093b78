/**
 * Reviews (contract v2 "Bookings" -> Reviews, "Admin" -> DELETE /admin/reviews/{id}).
 *
 * Every write is ONE statement (data-modifying CTEs, one implicit transaction): the review row,
 * the coach's `rating` / `review_count`, the coaches version (caches keyed by it see the new
 * rating) and, for the admin removal, the audit entry commit or roll back together.
 *
 * Concurrency: the coach row is changed by increments (`review_count + 1`, `rating_sum + r`) and
 * the rating recomputed from those columns in the same UPDATE. Under READ COMMITTED a second
 * UPDATE of the same coach row waits for the first to commit and then re-evaluates on the newest
 * row version, so N simultaneous reviews of one coach add up exactly (a recount with
 * `avg(rating)` in the same statement would not see the other transactions' rows and lose them).
 * One review per booking is the unique index ix_reviews_booking_id (ON CONFLICT DO NOTHING, so a
 * lost race reads as the 409 it is, not as a 500).
 */
import { type SQL, sql } from "drizzle-orm";
import { coachProfiles, reviews } from "../../drizzle/schema.ts";
import type { CoachProfileBody } from "../contract/profiles.ts";
import type { CoachReviewBody, ReviewBody } from "../contract/reviews.ts";
import type { Executor } from "../db/client.ts";
import { rowFromJson } from "../db/json-rows.ts";
import { badRequest, conflict, forbidden, notFound, pgErrorCode } from "../lib/errors.ts";
import type { Page, Pagination } from "../lib/pagination.ts";
import { requireIso } from "../lib/time.ts";
import { serializeCoachProfile } from "./profiles.ts";

/** A client may review a completed session up to this many days after it ended. */
export const REVIEW_WINDOW_DAYS = 60;

/** The coaches version counter (services/coaches-version.ts), bumped inside our statements. */
const COACHES_VERSION = "coaches_version";

/** Audit verbs written by this module (services/admin/audit.ts lists the others). */
export const REVIEW_DELETE_ACTION = "review.delete";
export const COACH_VERIFICATION_ACTION = "coach.verification";

/** A CTE that bumps the coaches version once when `source` has a row. */
const bumpVersionWhen = (source: SQL) => sql`
  insert into app_counters (name, value) select ${COACHES_VERSION}::varchar, 1::bigint where exists (${source})
  on conflict (name) do update set value = app_counters.value + 1
  returning value`;

/** Deadlock victims (40P01: two writers taking the coach row and the version row in other orders) run again. */
async function runStatement(db: Executor, statement: SQL): Promise<Record<string, unknown>[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await db.execute<Record<string, unknown>>(statement)).rows;
    } catch (error) {
      // One statement is one implicit transaction: a victim wrote nothing, running it again is safe.
      if (pgErrorCode(error) !== "40P01" || attempt >= 3) throw error;
    }
  }
}

// ---------------------------------------------------------------------------
// POST /booking/{id}/review
// ---------------------------------------------------------------------------

export interface CreateReviewInput {
  bookingId: string;
  callerId: string;
  rating: number;
  comment: string | null;
  now: Date;
}

function toReviewBody(json: Record<string, unknown>): ReviewBody {
  const row = rowFromJson(reviews, json);
  return {
    id: row.id,
    booking_id: row.bookingId,
    coach_id: row.coachId,
    rating: row.rating,
    comment: row.comment,
    created_at: requireIso(row.createdAt),
  };
}

/**
 * Rules in the order a caller can act on them: 404 unknown booking; 403 anyone but the
 * booking's client, whatever the state; 409 already reviewed; 400 not completed; 400 more than
 * REVIEW_WINDOW_DAYS after the session ended. The statement inserts only when every rule holds,
 * and reports the facts it decided on, so the answer needs no second round trip.
 */
export async function createReview(db: Executor, input: CreateReviewInput): Promise<ReviewBody> {
  const now = input.now.toISOString();
  const [outcome] = await runStatement(
    db,
    sql`
    with b as (
      select id, client_id, coach_id, status,
             session_datetime + make_interval(mins => duration_minutes) as ended_at
        from bookings where id = ${input.bookingId}::uuid),
    prior as (select id from reviews where booking_id = ${input.bookingId}::uuid),
    ins as (
      insert into reviews (booking_id, coach_id, client_id, rating, comment, created_at)
      select b.id, b.coach_id, b.client_id, ${input.rating}::smallint, ${input.comment}::text, ${now}::timestamptz
        from b
       where b.client_id = ${input.callerId}::uuid and b.status = 'completed'
         and ${now}::timestamptz <= b.ended_at + make_interval(days => ${REVIEW_WINDOW_DAYS})
         and not exists (select 1 from prior)
      on conflict (booking_id) do nothing
      returning *),
    coach as (
      update coach_profiles cp
         set review_count = cp.review_count + 1,
             rating_sum = cp.rating_sum + ins.rating,
             imported_rating = case when cp.review_count = 0 then cp.rating else cp.imported_rating end,
             rating = round((cp.rating_sum + ins.rating)::numeric / (cp.review_count + 1), 2)
        from ins
       where cp.user_id = ins.coach_id
      returning cp.id),
    version as (${bumpVersionWhen(sql`select 1 from coach`)})
    select b.id as booking_id, b.client_id, b.status, b.ended_at,
           (select id from prior) as prior_id,
           (select to_jsonb(ins) from ins) as review,
           (select count(*) from version) as bumped
      from (select 1) one left join b on true`,
  );
  const facts = outcome as
    | {
        booking_id: string | null;
        client_id: string | null;
        status: string | null;
        ended_at: string | Date | null;
        prior_id: string | null;
        review: Record<string, unknown> | null;
      }
    | undefined;
  if (!facts?.booking_id) throw notFound("Booking");
  if (facts.client_id !== input.callerId) throw forbidden("Only the booking's client can review it");
  if (facts.review) return toReviewBody(facts.review);
  if (facts.status !== "completed") {
    throw badRequest("Only a completed session can be reviewed", { reason: "booking_not_completed", status: facts.status });
  }
  const endedAt = facts.ended_at === null ? null : new Date(facts.ended_at);
  const deadline = endedAt && new Date(endedAt.getTime() + REVIEW_WINDOW_DAYS * 86_400_000);
  if (facts.prior_id === null && deadline && input.now.getTime() > deadline.getTime()) {
    throw badRequest(`A session can be reviewed up to ${REVIEW_WINDOW_DAYS} days after it ended`, {
      reason: "review_window_closed",
      deadline: requireIso(deadline),
    });
  }
  // Either a review existed, or a concurrent one won the unique index: one review per booking.
  throw conflict("This booking has already been reviewed", { reason: "already_reviewed" });
}

// ---------------------------------------------------------------------------
// GET /coaches/{id}/reviews
// ---------------------------------------------------------------------------

/**
 * One statement: the coach (by profile or user id, active coaches only, as GET /coaches/{id})
 * with one page of its reviews, newest first. The total is the coach's maintained
 * `review_count`, written in the same transaction as every review, so no count is needed.
 */
export async function listCoachReviews(db: Executor, coachRef: string, pagination: Pagination): Promise<Page<CoachReviewBody>> {
  const [row] = await runStatement(
    db,
    sql`
    select cp.review_count,
      (select coalesce(jsonb_agg(jsonb_build_object(
                'id', r.id, 'rating', r.rating, 'comment', r.comment, 'created_at', r.created_at,
                'first_name', cl.first_name) order by r.created_at desc, r.id desc), '[]'::jsonb)
         from (select * from reviews where coach_id = cp.user_id
                order by created_at desc, id desc limit ${pagination.limit} offset ${pagination.skip}) r
         left join client_profiles cl on cl.user_id = r.client_id) as items
      from coach_profiles cp join users u on u.id = cp.user_id and u.is_active and u.role = 'coach'
     where cp.id = ${coachRef}::uuid or cp.user_id = ${coachRef}::uuid
     order by cp.id = ${coachRef}::uuid desc
     limit 1`,
  );
  if (!row) throw notFound("Coach");
  const items = (
    row.items as Array<{ id: string; rating: number; comment: string | null; created_at: string; first_name: string | null }>
  ).map((item) => ({
    id: item.id,
    rating: Number(item.rating),
    comment: item.comment,
    author: { first_name: item.first_name },
    created_at: requireIso(item.created_at),
  }));
  return { items, total: Number(row.review_count), skip: pagination.skip, limit: pagination.limit };
}

// ---------------------------------------------------------------------------
// DELETE /admin/reviews/{id}
// ---------------------------------------------------------------------------

/**
 * Removes a review, recomputes its coach's rating (back to the imported rating when it was the
 * last one), writes the audit entry and bumps the coaches version: one statement.
 */
export async function deleteReviewAsAdmin(db: Executor, actorId: string, reviewId: string, now: Date): Promise<void> {
  const [row] = await runStatement(
    db,
    sql`
    with del as (delete from reviews where id = ${reviewId}::uuid returning *),
    coach as (
      update coach_profiles cp
         set review_count = cp.review_count - 1,
             rating_sum = cp.rating_sum - del.rating,
             rating = case when cp.review_count - 1 <= 0 then coalesce(cp.imported_rating, cp.rating)
                           else round((cp.rating_sum - del.rating)::numeric / (cp.review_count - 1), 2) end
        from del
       where cp.user_id = del.coach_id
      returning cp.rating, cp.review_count),
    audit as (
      insert into audit_log (actor_id, action, target_type, target_id, details, created_at)
      select ${actorId}::uuid, ${REVIEW_DELETE_ACTION}::varchar, 'review', del.id::text,
             jsonb_build_object('booking_id', del.booking_id, 'coach_id', del.coach_id, 'client_id', del.client_id,
                                'rating', del.rating, 'comment', del.comment,
                                'coach_rating_after', (select rating from coach),
                                'coach_review_count_after', (select review_count from coach)),
             ${now.toISOString()}::timestamptz
        from del
      returning id),
    version as (${bumpVersionWhen(sql`select 1 from coach`)})
    select (select count(*) from del) as deleted, (select count(*) from audit) as audited, (select count(*) from version) as bumped`,
  );
  if (Number(row?.deleted ?? 0) === 0) throw notFound("Review");
}

// ---------------------------------------------------------------------------
// PATCH /admin/coaches/{id}/verification
// ---------------------------------------------------------------------------

export interface VerificationInput {
  actorId: string;
  /** coach profile id or user id */
  coachRef: string;
  isVerified: boolean;
  note: string | null;
  now: Date;
}

/**
 * Sets a coach's verified flag: the locked profile row (by profile id first, then user id), the
 * update, the audit entry (for every accepted request: what was asked, what changed, the note)
 * and, when the flag changed, the coaches version: one statement. Any coach profile, active or
 * not: an admin may verify an account before reactivating it.
 */
export async function setCoachVerification(db: Executor, input: VerificationInput): Promise<CoachProfileBody> {
  const now = input.now.toISOString();
  const [row] = await runStatement(
    db,
    sql`
    with target as (
      select cp.id, cp.is_verified from coach_profiles cp
       where cp.id = ${input.coachRef}::uuid or cp.user_id = ${input.coachRef}::uuid
       order by cp.id = ${input.coachRef}::uuid desc
       limit 1
       for update),
    upd as (
      update coach_profiles cp
         set is_verified = ${input.isVerified}::boolean,
             updated_at = case when cp.is_verified = ${input.isVerified}::boolean then cp.updated_at else ${now}::timestamptz end
        from target
       where cp.id = target.id
      returning cp.*),
    audit as (
      insert into audit_log (actor_id, action, target_type, target_id, details, created_at)
      select ${input.actorId}::uuid, ${COACH_VERIFICATION_ACTION}::varchar, 'coach', upd.id::text,
             jsonb_build_object('user_id', upd.user_id, 'before', target.is_verified, 'after', upd.is_verified,
                                'changed', target.is_verified <> upd.is_verified, 'note', ${input.note}::text),
             ${now}::timestamptz
        from upd join target on target.id = upd.id
      returning id),
    version as (${bumpVersionWhen(sql`select 1 from upd join target on target.id = upd.id where target.is_verified <> upd.is_verified`)})
    select (select to_jsonb(upd) from upd) as profile, (select count(*) from audit) as audited, (select count(*) from version) as bumped`,
  );
  const profile = row?.profile as Record<string, unknown> | null | undefined;
  if (!profile) throw notFound("Coach");
  return serializeCoachProfile(rowFromJson(coachProfiles, profile));
}
