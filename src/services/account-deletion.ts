/**
 * Account deletion (contract: Profiles, "Account deletion"), behind
 * DELETE /profile and DELETE /admin/users/{id}.
 *
 *  1. The user's future pending/confirmed bookings are cancelled first, under
 *     the refund policy, the other party notified (booking-cancellation.ts).
 *     If a due refund cannot be made (Stripe down) this throws and nothing
 *     else is deleted, so the call can simply be repeated.
 *  2. One statement, the Postgres function account_delete() (migration 0011,
 *     its own transaction): profile, posts (their comments and votes cascade),
 *     comments, bookmarks, votes (the post_votes trigger keeps the voted
 *     posts' counts right), refresh and email tokens, calendar feed, match
 *     cache, and the mail kept for the user's address in email_outbox (names,
 *     links: personal data that would otherwise outlive the account, and that
 *     /dev/emails would show to the next account with that address). Then the user row: if any booking names the user (as client or
 *     coach) -- and so possibly a payment -- the row stays as an anonymised
 *     tombstone (email `deleted-<id>@invalid`, no password, inactive,
 *     unverified), so that the other party's history and the revenue figures
 *     stay whole; otherwise the row is deleted. Either way the email is free.
 *     The last-active-admin rule is decided there on locked rows.
 *  3. After the commit: the photo objects leave R2, and every access token the
 *     user holds is revoked (the next request with one is a 401).
 */
import { sql } from "drizzle-orm";
import { users } from "../../drizzle/schema.ts";
import type { Database } from "../db/client.ts";
import type { ServiceEnv } from "../env.ts";
import { conflict, notFound } from "../lib/errors.ts";
import { requireIso } from "../lib/time.ts";
import { revokeUserTokens } from "../platform/rate-limiter.ts";
import { cancelFutureBookingsOfUser, futureBookingsOf } from "./booking-cancellation.ts";
import { deletePhotoObject } from "./photos.ts";

export interface DeleteAccountInput {
  userId: string;
  /** An admin deletes the account: cancellations refund in full. */
  byAdmin: boolean;
  now: Date;
  /**
   * DELETE /admin/users: the admin whose audit entry `user.delete` the deletion
   * writes in its own transaction (so the deletion and its record commit
   * together). It records the role and state the account had, not the email:
   * the erased person's address must not outlive the account in the trail.
   */
  auditActorId?: string;
}

export function tombstoneEmail(userId: string): string {
  return `deleted-${userId}@invalid`;
}

const lastActiveAdmin = () => conflict("The last active admin cannot be deleted", { reason: "last_active_admin" });

type DeletionRead = {
  role: string;
  isActive: boolean;
  emailVerified: boolean;
  /** a Date from node-postgres, text from drivers that do not parse timestamps */
  createdAt: string | Date;
  otherActiveAdmins: number;
  future: Array<{ id: string; coachId: string }>;
};

/**
 * Round trips: 2 when the user has no future booking (this read; the
 * account_delete() call), plus 2 per future booking cancelled (the
 * cancellation path, which keeps one refund policy implementation).
 */
export async function deleteAccount(db: Database, env: ServiceEnv, input: DeleteAccountInput): Promise<void> {
  const { userId, byAdmin, now } = input;
  const read = await db.execute<DeletionRead>(sql`
    select u.role, u.is_active as "isActive", u.email_verified as "emailVerified", u.created_at as "createdAt",
           (select count(*) from ${users} a where a.role = 'admin' and a.is_active and a.id <> u.id)::int as "otherActiveAdmins",
           ${futureBookingsOf(sql`u.id`, now)} as future
      from ${users} u
     where u.id = ${userId}`);
  const existing = read.rows[0];
  if (!existing) throw notFound("User");
  // Decided again under lock by account_delete(); checked here so that nothing is cancelled first.
  if (existing.role === "admin" && existing.isActive && Number(existing.otherActiveAdmins) === 0) throw lastActiveAdmin();

  await cancelFutureBookingsOfUser(db, env, { userId, byAdmin, now, candidates: existing.future });

  const details = input.auditActorId
    ? {
        before: {
          role: existing.role,
          is_active: existing.isActive,
          email_verified: existing.emailVerified,
          created_at: requireIso(new Date(existing.createdAt)),
        },
        after: null,
      }
    : null;
  const result = await db.execute<{ result: { outcome: string; photo_urls?: string[] } }>(
    sql`select account_delete(${userId}, ${now.toISOString()}, ${input.auditActorId ?? null}, ${
      details ? JSON.stringify(details) : null
    }::jsonb) as result`,
  );
  const outcome = result.rows[0]?.result;
  if (!outcome || outcome.outcome === "not_found") throw notFound("User");
  if (outcome.outcome === "last_active_admin") throw lastActiveAdmin();

  await Promise.all((outcome.photo_urls ?? []).map((url) => deletePhotoObject(env.platform.uploads, url)));
  try {
    await revokeUserTokens(env.platform, userId, now);
  } catch (error) {
    // The account is gone either way (login and refresh read the database);
    // a live access token then fails on the missing or inactive user row.
    console.error(
      JSON.stringify({
        level: "error",
        msg: "token revocation failed after account deletion",
        user_id: userId,
        error: String(error),
      }),
    );
  }
}
