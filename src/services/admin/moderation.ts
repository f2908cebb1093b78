/**
 * Moderation: an admin deletes any post (its comments and votes cascade),
 * recorded in the audit log. One statement: the delete and its audit entry
 * are CTEs of one atomic statement (no BEGIN/.../COMMIT round trips).
 */
import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import { notFound } from "../../lib/errors.ts";

export async function deletePostAsAdmin(db: Executor, actorId: string, postId: string): Promise<void> {
  // The post is gone: the audit entry keeps enough of it to know what was removed and whose it was.
  const result = await db.execute<{ id: string }>(sql`
    with deleted as (
      delete from posts where posts.id = ${postId}::uuid
      returning posts.id, posts.author_id, posts.title, posts.post_type, posts.is_private, posts.upvotes, posts.created_at),
    audit as (
      insert into audit_log (actor_id, action, target_type, target_id, details)
      select ${actorId}::uuid, 'post.delete', 'post', deleted.id::text,
             jsonb_build_object(
               'before', jsonb_build_object(
                 'author_id', deleted.author_id, 'title', deleted.title, 'post_type', deleted.post_type,
                 'is_private', deleted.is_private, 'upvotes', deleted.upvotes,
                 'created_at', to_char(deleted.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
               'after', null)
        from deleted)
    select deleted.id from deleted`);
  if (!result.rows[0]) throw notFound("Post");
}
