/**
 * Comments: add (any viewer of the post), edit and delete (the author or an
 * admin; contract v2). A comment is as visible as its post: on a post the
 * viewer may not see, every comment route is 404, like a comment that does
 * not exist; one the viewer sees but does not own is 403.
 *
 * Each operation is ONE statement: the visibility check, the ownership
 * decision, the change, the admin's audit entry (when an admin acts on
 * another's comment -- "every admin mutation writes one") and the answer's
 * author names are data-modifying CTEs of a single atomic statement.
 */
import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import { forbidden, notFound } from "../../lib/errors.ts";
import { rethrowMissingParent } from "./errors.ts";
import type { Person } from "./people.ts";
import { postVisibleTo, type Viewer } from "./visibility.ts";

export interface CommentRecord {
  id: string;
  postId: string;
  author: Person;
  content: string;
  createdAt: Date;
}

interface CommentRow extends Record<string, unknown> {
  id: string | null;
  post_id: string | null;
  author_id: string | null;
  content: string | null;
  created_at: string | Date | null;
  first_name: string | null;
  last_name: string | null;
}

function toRecord(row: CommentRow): CommentRecord {
  return {
    id: row.id as string,
    postId: row.post_id as string,
    author: { id: row.author_id as string, firstName: row.first_name, lastName: row.last_name },
    content: row.content as string,
    createdAt: new Date(row.created_at as string | Date),
  };
}

/** The author's names, picked from one profile as people.ts does (coach profile first). */
const authorNames = sql`
  case when kp.id is not null then kp.first_name else cp.first_name end as first_name,
  case when kp.id is not null then kp.last_name else cp.last_name end as last_name`;

/** Adds a comment to a post the viewer may see: visibility, insert and names in one statement. */
export async function addComment(
  db: Executor,
  viewer: Viewer,
  postId: string,
  content: string,
  now: Date,
): Promise<CommentRecord> {
  const result = await db
    .execute<CommentRow>(sql`
      with inserted as (
        insert into comments (id, post_id, author_id, content, created_at)
        select gen_random_uuid(), posts.id, ${viewer.id}::uuid, ${content}::text, ${now.toISOString()}::timestamptz
          from posts where posts.id = ${postId}::uuid and ${postVisibleTo(viewer)}
        returning id, post_id, author_id, content, created_at)
      select inserted.*, ${authorNames}
        from inserted
        left join coach_profiles kp on kp.user_id = inserted.author_id
        left join client_profiles cp on cp.user_id = inserted.author_id`)
    .catch(rethrowMissingParent("Post"));
  const row = result.rows[0];
  if (!row?.id) throw notFound("Post");
  return toRecord(row);
}

interface ChangeRow extends CommentRow {
  target_author: string | null;
}

/** Visible target comment (locked), whether the viewer may change it, and the audit decision. */
function target(viewer: Viewer, commentId: string) {
  return sql`
    target as (
      select comments.id, comments.post_id, comments.author_id, comments.content, comments.created_at
        from comments join posts on posts.id = comments.post_id
       where comments.id = ${commentId}::uuid and ${postVisibleTo(viewer)}
       for update of comments),
    allowed as (
      select * from target where target.author_id = ${viewer.id}::uuid or ${viewer.role === "admin"})`;
}

/** An admin acting on someone else's comment is moderation: audited. */
function audited(viewer: Viewer): boolean {
  return viewer.role === "admin";
}

function outcome(row: ChangeRow | undefined): void {
  if (!row?.target_author) throw notFound("Comment");
  if (!row.id) throw forbidden("Only the author or an admin can change this comment");
}

export async function updateComment(db: Executor, viewer: Viewer, commentId: string, content: string): Promise<CommentRecord> {
  const result = await db.execute<ChangeRow>(sql`
    with ${target(viewer, commentId)},
    updated as (
      update comments set content = ${content}::text
       where comments.id in (select id from allowed)
      returning comments.id, comments.post_id, comments.author_id, comments.content, comments.created_at),
    audit as (
      insert into audit_log (actor_id, action, target_type, target_id, details)
      select ${viewer.id}::uuid, 'comment.update', 'comment', updated.id::text,
             jsonb_build_object(
               'post_id', allowed.post_id, 'author_id', allowed.author_id,
               'before', jsonb_build_object('content', allowed.content),
               'after', jsonb_build_object('content', updated.content))
        from updated join allowed on allowed.id = updated.id
       where ${audited(viewer)} and allowed.author_id <> ${viewer.id}::uuid)
    select target.author_id as target_author, updated.*, ${authorNames}
      from target
      left join updated on true
      left join coach_profiles kp on kp.user_id = updated.author_id
      left join client_profiles cp on cp.user_id = updated.author_id`);
  const row = result.rows[0];
  outcome(row);
  return toRecord(row as ChangeRow);
}

export async function deleteComment(db: Executor, viewer: Viewer, commentId: string): Promise<void> {
  const result = await db.execute<ChangeRow>(sql`
    with ${target(viewer, commentId)},
    deleted as (
      delete from comments where comments.id in (select id from allowed)
      returning comments.id),
    audit as (
      insert into audit_log (actor_id, action, target_type, target_id, details)
      select ${viewer.id}::uuid, 'comment.delete', 'comment', deleted.id::text,
             jsonb_build_object(
               'post_id', allowed.post_id, 'author_id', allowed.author_id,
               'before', jsonb_build_object('content', allowed.content,
                                            'created_at', to_char(allowed.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
               'after', null)
        from deleted join allowed on allowed.id = deleted.id
       where ${audited(viewer)} and allowed.author_id <> ${viewer.id}::uuid)
    select target.author_id as target_author, deleted.id
      from target left join deleted on true`);
  outcome(result.rows[0]);
}
