/**
 * Forum posts, their comments and their votes.
 *
 * Every statement that reads or changes a post filters with `postVisibleTo`
 * (visibility.ts), so a private post that the caller may not see behaves
 * exactly like a post that does not exist: absent from lists, NOT_FOUND by id.
 *
 * Round trips are budgeted: the list is one statement (page, total, author
 * names and comment counts together), the detail too (comments as JSON).
 */
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { comments, posts, postVotes } from "../../../drizzle/schema.ts";
import type { Database, Executor } from "../../db/client.ts";
import { forbidden, notFound } from "../../lib/errors.ts";
import type { Pagination } from "../../lib/pagination.ts";
import { deletePostAsAdmin } from "../admin/moderation.ts";
import { rethrowMissingParent } from "./errors.ts";
import { type Person, personClient, personCoach, personFirstName, personJoins, personLastName } from "./people.ts";
import { postVisibleTo, privateAuthorVisibleTo, type Viewer } from "./visibility.ts";

export type PostType = (typeof posts.postType.enumValues)[number];

export interface PostRecord {
  id: string;
  author: Person;
  title: string;
  content: string;
  postType: PostType;
  isPrivate: boolean;
  upvotes: number;
  commentCount: number;
  createdAt: Date;
}

export interface CommentRecord {
  id: string;
  postId: string;
  author: Person;
  content: string;
  createdAt: Date;
}

export interface PostWithComments extends PostRecord {
  comments: CommentRecord[];
}

export interface PostFilters {
  postType?: PostType | undefined;
  isPrivate?: boolean | undefined;
}

export interface NewPost {
  title: string;
  content: string;
  postType: PostType;
  isPrivate: boolean;
}

export type PostChanges = Partial<NewPost>;

const postAuthor = personJoins(posts.authorId);

/** The columns of a post as the API shows it, names and comment count included. */
function postColumns() {
  return {
    id: posts.id,
    authorId: posts.authorId,
    title: posts.title,
    content: posts.content,
    postType: posts.postType,
    isPrivate: posts.isPrivate,
    upvotes: posts.upvotes,
    createdAt: posts.createdAt,
    authorFirstName: personFirstName().as("author_first_name"),
    authorLastName: personLastName().as("author_last_name"),
    // Correlated count: evaluated only for the rows of the page, served by ix_comments_post_id.
    commentCount: sql<number>`(select count(*)::int from ${comments} where ${comments.postId} = ${posts.id})`.as("comment_count"),
  };
}

type PostColumnsRow = {
  id: string;
  authorId: string;
  title: string;
  content: string;
  postType: PostType;
  isPrivate: boolean;
  upvotes: number;
  createdAt: Date;
  authorFirstName: string | null;
  authorLastName: string | null;
  commentCount: number;
};

function toPostRecord(row: PostColumnsRow): PostRecord {
  return {
    id: row.id,
    author: { id: row.authorId, firstName: row.authorFirstName, lastName: row.authorLastName },
    title: row.title,
    content: row.content,
    postType: row.postType,
    isPrivate: row.isPrivate,
    upvotes: row.upvotes,
    commentCount: Number(row.commentCount),
    createdAt: row.createdAt,
  };
}

function selectPosts(db: Executor) {
  return selectPostsWith(db, {});
}

/** selectPosts with extra columns. */
function selectPostsWith<Extra extends Record<string, SQL.Aliased>>(db: Executor, extra: Extra) {
  return db
    .select({ ...postColumns(), ...extra })
    .from(posts)
    .leftJoin(personCoach, postAuthor.coach)
    .leftJoin(personClient, postAuthor.client);
}

const commentAuthor = personJoins(comments.authorId);

function selectComments(db: Executor) {
  return db
    .select({
      id: comments.id,
      postId: comments.postId,
      authorId: comments.authorId,
      content: comments.content,
      createdAt: comments.createdAt,
      authorFirstName: personFirstName(),
      authorLastName: personLastName(),
    })
    .from(comments)
    .leftJoin(personCoach, commentAuthor.coach)
    .leftJoin(personClient, commentAuthor.client);
}

function toCommentRecord(row: {
  id: string;
  postId: string;
  authorId: string;
  content: string;
  createdAt: Date;
  authorFirstName: string | null;
  authorLastName: string | null;
}): CommentRecord {
  return {
    id: row.id,
    postId: row.postId,
    author: { id: row.authorId, firstName: row.authorFirstName, lastName: row.authorLastName },
    content: row.content,
    createdAt: row.createdAt,
  };
}

/** Newest first. One round trip: the page is LEFT JOINed onto the one-row total, so an empty page still reports the total. */
export async function listPosts(
  db: Executor,
  viewer: Viewer,
  filters: PostFilters,
  pagination: Pagination,
): Promise<{ items: PostRecord[]; total: number }> {
  const conditions: SQL[] = [postVisibleTo(viewer)];
  if (filters.postType !== undefined) conditions.push(eq(posts.postType, filters.postType));
  if (filters.isPrivate !== undefined) conditions.push(eq(posts.isPrivate, filters.isPrivate));
  const where = and(...conditions);

  const pageRows = selectPosts(db)
    .where(where)
    .orderBy(desc(posts.createdAt), desc(posts.id))
    .limit(pagination.limit)
    .offset(pagination.skip)
    .as("page_rows");
  // The total as two counts that ix_posts_visibility (is_private, post_type, author_id) serves
  // index-only: every public post (no heap visit, whatever the forum's size), and the private
  // posts whose author the viewer may see. Same rows as `where`, without reading the posts.
  const typeFilter = filters.postType !== undefined ? sql` and ${posts.postType} = ${filters.postType}` : sql``;
  const publicCount =
    filters.isPrivate === true ? sql`0` : sql`(select count(*) from ${posts} where ${posts.isPrivate} = false${typeFilter})`;
  const privateCount =
    filters.isPrivate === false
      ? sql`0`
      : sql`(select count(*) from ${posts} where ${posts.isPrivate} = true${typeFilter} and ${privateAuthorVisibleTo(viewer)})`;
  const totals = db
    .select({ total: sql<number>`(${publicCount} + ${privateCount})::int`.as("total") })
    .from(sql`(select 1) as one`)
    .as("totals");

  const rows = await db
    .select({
      total: totals.total,
      id: pageRows.id,
      authorId: pageRows.authorId,
      title: pageRows.title,
      content: pageRows.content,
      postType: pageRows.postType,
      isPrivate: pageRows.isPrivate,
      upvotes: pageRows.upvotes,
      createdAt: pageRows.createdAt,
      authorFirstName: pageRows.authorFirstName,
      authorLastName: pageRows.authorLastName,
      commentCount: pageRows.commentCount,
    })
    .from(totals)
    .leftJoin(pageRows, sql`true`)
    .orderBy(desc(pageRows.createdAt), desc(pageRows.id));

  const total = Number(rows[0]?.total ?? 0);
  const items: PostRecord[] = [];
  for (const row of rows) {
    // The one row of an empty page carries only the total.
    if (row.id === null) continue;
    items.push(toPostRecord(row as PostColumnsRow));
  }
  return { items, total };
}

/** The post if the viewer may see it (one round trip). */
export async function findVisiblePost(db: Executor, viewer: Viewer, postId: string): Promise<PostRecord | undefined> {
  const [row] = await selectPosts(db).where(and(eq(posts.id, postId), postVisibleTo(viewer)));
  return row ? toPostRecord(row) : undefined;
}

interface CommentJson {
  id: string;
  post_id: string;
  author_id: string;
  content: string;
  /** epoch milliseconds (JSON has no timestamp type) */
  created_at_ms: number;
  first_name: string | null;
  last_name: string | null;
}

/**
 * The post with its comments, oldest first: one round trip. The comments ride
 * along as one JSON array (a correlated json_agg over ix_comments_post_id),
 * so the post's columns are not repeated per comment; names are picked as
 * people.ts does (the coach profile when there is one).
 */
export async function getPostWithComments(db: Executor, viewer: Viewer, postId: string): Promise<PostWithComments> {
  const [row] = await selectPostsWith(db, {
    comments: sql<CommentJson[]>`(
      select coalesce(json_agg(json_build_object(
               'id', c.id, 'post_id', c.post_id, 'author_id', c.author_id, 'content', c.content,
               'created_at_ms', floor(extract(epoch from c.created_at) * 1000),
               'first_name', case when kp.id is not null then kp.first_name else cp.first_name end,
               'last_name', case when kp.id is not null then kp.last_name else cp.last_name end)
             order by c.created_at, c.id), '[]'::json)
        from comments c
        left join coach_profiles kp on kp.user_id = c.author_id
        left join client_profiles cp on cp.user_id = c.author_id
       where c.post_id = "posts"."id")`.as("comments"),
  }).where(and(eq(posts.id, postId), postVisibleTo(viewer)));
  if (!row) throw notFound("Post");
  return {
    ...toPostRecord(row),
    comments: row.comments.map((comment) =>
      toCommentRecord({
        id: comment.id,
        postId: comment.post_id,
        authorId: comment.author_id,
        content: comment.content,
        createdAt: new Date(Number(comment.created_at_ms)),
        authorFirstName: comment.first_name,
        authorLastName: comment.last_name,
      }),
    ),
  };
}

export async function createPost(db: Executor, viewer: Viewer, input: NewPost, now: Date): Promise<PostRecord> {
  if (input.postType === "announcement" && viewer.role !== "admin") throw forbidden("Only admins can post announcements");
  const [created] = await db
    .insert(posts)
    .values({
      authorId: viewer.id,
      title: input.title,
      content: input.content,
      postType: input.postType,
      isPrivate: input.isPrivate,
      createdAt: now,
      updatedAt: now,
    })
    .returning({ id: posts.id });
  const post = created && (await findVisiblePost(db, viewer, created.id));
  // Just written by the viewer, so visible to them; absent only if deleted in between.
  if (!post) throw notFound("Post");
  return post;
}

/**
 * Who may change a post once they can see it: its author and admins. A post
 * the viewer cannot see is NOT_FOUND (its existence stays secret), one they
 * can see but do not own is FORBIDDEN.
 */
async function requireEditablePost(db: Executor, viewer: Viewer, postId: string): Promise<string> {
  const [row] = await db
    .select({ authorId: posts.authorId })
    .from(posts)
    .where(and(eq(posts.id, postId), postVisibleTo(viewer)));
  if (!row) throw notFound("Post");
  if (row.authorId !== viewer.id && viewer.role !== "admin") throw forbidden("Only the author or an admin can change this post");
  return row.authorId;
}

export async function updatePost(
  db: Executor,
  viewer: Viewer,
  postId: string,
  changes: PostChanges,
  now: Date,
): Promise<PostRecord> {
  await requireEditablePost(db, viewer, postId);
  if (changes.postType === "announcement" && viewer.role !== "admin") throw forbidden("Only admins can post announcements");
  const updated = await db
    .update(posts)
    .set({
      ...(changes.title !== undefined ? { title: changes.title } : {}),
      ...(changes.content !== undefined ? { content: changes.content } : {}),
      ...(changes.postType !== undefined ? { postType: changes.postType } : {}),
      ...(changes.isPrivate !== undefined ? { isPrivate: changes.isPrivate } : {}),
      updatedAt: now,
    })
    .where(eq(posts.id, postId))
    .returning({ id: posts.id });
  if (updated.length === 0) throw notFound("Post");
  const post = await findVisiblePost(db, viewer, postId);
  if (!post) throw notFound("Post");
  return post;
}

/** Deletes the post; comments and votes go with it (FK cascades). */
export async function deletePost(db: Database, viewer: Viewer, postId: string): Promise<void> {
  const authorId = await requireEditablePost(db, viewer, postId);
  // An admin removing someone else's post is moderation: the same audited
  // path as DELETE /admin/posts/{id} ("every admin mutation writes one").
  if (viewer.role === "admin" && authorId !== viewer.id) {
    await deletePostAsAdmin(db, viewer.id, postId);
    return;
  }
  await db.delete(posts).where(eq(posts.id, postId));
}

/** Adds a comment to a post the viewer may see; visibility and insert are one statement. */
export async function addComment(
  db: Executor,
  viewer: Viewer,
  postId: string,
  content: string,
  now: Date,
): Promise<CommentRecord> {
  const inserted = await db
    .insert(comments)
    .select(
      db
        .select({
          id: sql<string>`gen_random_uuid()`.as("id"),
          postId: posts.id,
          authorId: sql<string>`${viewer.id}::uuid`.as("author_id"),
          content: sql<string>`${content}::text`.as("content"),
          createdAt: sql<Date>`${now.toISOString()}::timestamptz`.as("created_at"),
        })
        .from(posts)
        .where(and(eq(posts.id, postId), postVisibleTo(viewer))),
    )
    .returning({ id: comments.id })
    .catch(rethrowMissingParent("Post"));
  const comment = inserted[0];
  if (!comment) throw notFound("Post");
  const [withAuthor] = await selectComments(db).where(eq(comments.id, comment.id));
  if (!withAuthor) throw notFound("Post");
  return toCommentRecord(withAuthor);
}

/**
 * Casts the viewer's vote (idempotent) and returns the post's vote count.
 *
 * One statement: the post row is locked (FOR UPDATE) before the vote is
 * inserted, so the count read with the lock is the latest and cannot move
 * until this statement commits; the post_votes trigger then adds the new
 * vote to posts.upvotes (migration 0002). A repeated vote hits the primary
 * key (post_id, user_id) and inserts nothing. NOT_FOUND when the post is not visible.
 */
export async function castVote(db: Executor, viewer: Viewer, postId: string, now: Date): Promise<number> {
  const result = await db
    .execute<{ upvotes: number }>(
      sql`with target as (
            select ${posts.id} as id, ${posts.upvotes} as upvotes from ${posts}
            where ${posts.id} = ${postId} and ${postVisibleTo(viewer)}
            for update of ${posts}
          ), cast_vote as (
            insert into ${postVotes} (post_id, user_id, created_at)
            select target.id, ${viewer.id}, ${now.toISOString()}::timestamptz from target
            on conflict do nothing
            returning 1
          )
          select (target.upvotes + (select count(*) from cast_vote))::int as upvotes from target`,
    )
    .catch(rethrowMissingParent("Post"));
  const row = result.rows[0];
  if (!row) throw notFound("Post");
  return Number(row.upvotes);
}

/** Removes the viewer's vote if there is one and returns the post's vote count; same locking as castVote. */
export async function withdrawVote(db: Executor, viewer: Viewer, postId: string): Promise<number> {
  const result = await db.execute<{ upvotes: number }>(
    sql`with target as (
          select ${posts.id} as id, ${posts.upvotes} as upvotes from ${posts}
          where ${posts.id} = ${postId} and ${postVisibleTo(viewer)}
          for update of ${posts}
        ), removed as (
          delete from ${postVotes}
          where post_id in (select id from target) and user_id = ${viewer.id}
          returning 1
        )
        select (target.upvotes - (select count(*) from removed))::int as upvotes from target`,
  );
  const row = result.rows[0];
  if (!row) throw notFound("Post");
  return Number(row.upvotes);
}
