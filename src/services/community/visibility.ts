/**
 * Who may see a post: the one place where the private-post rule is written.
 *
 * Public posts are visible to every signed-in user. A private post is visible
 * to its author, to admins, and to users who share a confirmed or completed
 * booking with the author, in either direction (the author's coaches and the
 * author's clients). Everyone else must not learn that it exists: the list
 * leaves it out and every route that addresses it by id answers 404.
 *
 * The rule is a SQL predicate over the `posts` table (unaliased) so that the
 * list, the detail and every mutation filter with the same expression inside
 * their own statement: no check-then-act gap, no second round trip.
 */
import { type SQL, sql } from "drizzle-orm";
import { bookings, posts } from "../../../drizzle/schema.ts";

export interface Viewer {
  id: string;
  role: "client" | "coach" | "admin";
}

/** Bookings that make two people "know each other" for private posts. */
const RELATIONSHIP_STATUSES = sql`('confirmed', 'completed')`;

export function postVisibleTo(viewer: Viewer): SQL {
  if (viewer.role === "admin") return sql`true`;
  return sql`(${posts.isPrivate} = false or ${privateAuthorVisibleTo(viewer)})`;
}

/**
 * The private half of the rule: the post's author is the viewer or one of
 * the viewer's booking partners (always true for admins). Used on its own by
 * counts that take public and private posts separately (index-only counts).
 */
export function privateAuthorVisibleTo(viewer: Viewer): SQL {
  if (viewer.role === "admin") return sql`true`;
  // The viewer's booking partners as an uncorrelated subquery: Postgres runs it
  // once per statement and probes a hash of it per post, where a correlated
  // EXISTS would look up bookings again for every private post (the list's total counts them all).
  return sql`(
    ${posts.authorId} = ${viewer.id}
    or ${posts.authorId} in (
      select ${bookings.coachId} from ${bookings}
      where ${bookings.clientId} = ${viewer.id} and ${bookings.status} in ${RELATIONSHIP_STATUSES}
      union all
      select ${bookings.clientId} from ${bookings}
      where ${bookings.coachId} = ${viewer.id} and ${bookings.status} in ${RELATIONSHIP_STATUSES}
    )
  )`;
}
