/**
 * Account deletion (contract: Profiles, "Account deletion"), behind
 * DELETE /profile and DELETE /admin/users/{id}.
 *
 *  1. The user's future pending/confirmed bookings are cancelled first, under
 *     the refund policy, the other party notified (booking-cancellation.ts).
 *     If a due refund cannot be made (Stripe down) this throws and nothing
 *     else is deleted, so the call can simply be repeated.
 *  2. One transaction: profile, posts (their comments and votes cascade),
 *     comments, bookmarks, votes (the post_votes trigger keeps the voted
 *     posts' counts right), refresh and email tokens, calendar feed, match
 *     cache, and the mail kept for the user's address in email_outbox (names,
 *     links: personal data that would otherwise outlive the account, and that
 *     /dev/emails would show to the next account with that address). Then the user row: if any booking names the user (as client or
 *     coach) -- and so possibly a payment -- the row stays as an anonymised
 *     tombstone (email `deleted-<id>@invalid`, no password, inactive,
 *     unverified), so that the other party's history and the revenue figures
 *     stay whole; otherwise the row is deleted. Either way the email is free.
 *  3. After the commit: the photo objects leave R2, and every access token the
 *     user holds is revoked (the next request with one is a 401).
 */
import { and, eq, or, sql } from "drizzle-orm";
import {
  bookings,
  bookmarks,
  calendarFeeds,
  clientProfiles,
  coachProfiles,
  comments,
  emailOutbox,
  emailTokens,
  matchCache,
  posts,
  postVotes,
  refreshTokens,
  users,
} from "../../drizzle/schema.ts";
import type { Database, Transaction } from "../db/client.ts";
import type { ServiceEnv } from "../env.ts";
import { conflict, notFound } from "../lib/errors.ts";
import { revokeUserTokens } from "../platform/rate-limiter.ts";
import { cancelFutureBookingsOfUser } from "./booking-cancellation.ts";
import { bumpCoachesVersion } from "./coaches-version.ts";
import { deletePhotoObject } from "./photos.ts";

export interface DeleteAccountInput {
  userId: string;
  /** An admin deletes the account: cancellations refund in full. */
  byAdmin: boolean;
  now: Date;
  /**
   * Runs inside the deletion's transaction, after the user row is deleted or
   * anonymised (`outcome`): DELETE /admin/users writes its audit entry here,
   * so that the deletion and its record commit together.
   */
  inTransaction?: (tx: Transaction, outcome: "deleted" | "anonymised") => Promise<void>;
}

export function tombstoneEmail(userId: string): string {
  return `deleted-${userId}@invalid`;
}

/**
 * 409 when the account is the last active admin: deleting it would leave the
 * platform without one (the same rule PATCH /admin/users applies). Active
 * admin rows are locked in id order so two admins deleting each other
 * concurrently cannot both pass.
 */
async function assertNotLastActiveAdmin(tx: Transaction, userId: string): Promise<void> {
  const admins = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, "admin"), eq(users.isActive, true)))
    .orderBy(users.id)
    .for("update");
  if (admins.some((admin) => admin.id === userId) && admins.length === 1) {
    throw conflict("The last active admin cannot be deleted", { reason: "last_active_admin" });
  }
}

export async function deleteAccount(db: Database, env: ServiceEnv, input: DeleteAccountInput): Promise<void> {
  const { userId, byAdmin, now } = input;
  const [existing] = await db
    .select({ id: users.id, role: users.role, isActive: users.isActive })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (!existing) throw notFound("User");
  // Checked before anything is cancelled; checked again under lock below.
  if (existing.role === "admin" && existing.isActive) await db.transaction((tx) => assertNotLastActiveAdmin(tx, userId));

  await cancelFutureBookingsOfUser(db, env, { userId, byAdmin, now });

  const photoUrls = await db.transaction(async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId)).for("update");
    if (!user) throw notFound("User");
    if (user.role === "admin" && user.isActive) await assertNotLastActiveAdmin(tx, userId);

    const removedClient = await tx
      .delete(clientProfiles)
      .where(eq(clientProfiles.userId, userId))
      .returning({ photoUrl: clientProfiles.photoUrl });
    const removedCoach = await tx
      .delete(coachProfiles)
      .where(eq(coachProfiles.userId, userId))
      .returning({ photoUrl: coachProfiles.photoUrl });
    await tx.delete(postVotes).where(eq(postVotes.userId, userId));
    await tx.delete(comments).where(eq(comments.authorId, userId));
    await tx.delete(posts).where(eq(posts.authorId, userId));
    await tx.delete(bookmarks).where(eq(bookmarks.userId, userId));
    await tx.delete(refreshTokens).where(eq(refreshTokens.userId, userId));
    await tx.delete(emailTokens).where(eq(emailTokens.userId, userId));
    await tx.delete(calendarFeeds).where(eq(calendarFeeds.userId, userId));
    await tx.delete(matchCache).where(eq(matchCache.clientId, userId));
    // Outbox addresses are stored lower-cased (services write lower(email)).
    await tx.delete(emailOutbox).where(eq(emailOutbox.toAddress, user.email.toLowerCase()));

    const [financial] = await tx
      .select({ found: sql<number>`1` })
      .from(bookings)
      .where(or(eq(bookings.clientId, userId), eq(bookings.coachId, userId)))
      .limit(1);
    if (financial) {
      await tx
        .update(users)
        .set({
          email: tombstoneEmail(userId),
          passwordHash: null,
          isActive: false,
          emailVerified: false,
          lastSeenAt: null,
          updatedAt: now,
        })
        .where(eq(users.id, userId));
    } else {
      await tx.delete(users).where(eq(users.id, userId));
    }
    // A coach leaves the discovery list and every cached match.
    if (user.role === "coach" || removedCoach.length > 0) await bumpCoachesVersion(tx);
    await input.inTransaction?.(tx, financial ? "anonymised" : "deleted");
    return [...removedClient, ...removedCoach].map((row) => row.photoUrl);
  });

  await Promise.all(photoUrls.map((url) => deletePhotoObject(env.platform.uploads, url)));
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
