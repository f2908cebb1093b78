/**
 * Forum posts, their comments (read side; writes in comments.ts) and their votes.
 *
 * Every statement that reads or changes a post filters with `postVisibleTo`
 * (visibility.ts), so a private post that the caller may not see behaves
 * exactly like a post that does not exist: absent from lists, NOT_FOUND by id.
 *
 * Round trips are budgeted: the list is one statement (page, total, author
 * names and comment counts together), the detail too (comments as JSON), and
 * every write is one statement: the insert/update/delete, the visibility and
 * ownership decision, an admin's audit entry and the answer's author names
 * are CTEs of one atomic statement (a create is never "insert, then a
 * separate select": a connection lost in between must not leave a post the
 * client was told failed, whose retry would duplicate it).
 */
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { comments, posts, postVotes } from "../../../drizzle/schema.ts";
import type { Executor } from "../../db/client.ts";
import { forbidden, notFound } from "../../lib/errors.ts";
import type { Pagination } from "../../lib/pagination.ts";
import type { CommentRecord } from "./comments.ts";
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

interface PostRow extends Record<string, unknown> {
  target_author?: string | null;
  id: string | null;
  author_id: string;
  title: string;
  content: string;
  post_type: PostType;
  is_private: boolean;
  upvotes: number;
  created_at: string | Date;
  first_name: string | null;
  last_name: string | null;
  comment_count: number | string;
}

function fromPostRow(row: PostRow): PostRecord {
  return {
    id: row.id as string,
    author: { id: row.author_id, firstName: row.first_name, lastName: row.last_name },
    title: row.title,
    content: row.content,
    postType: row.post_type,
    isPrivate: row.is_private,
    upvotes: Number(row.upvotes),
    commentCount: Number(row.comment_count),
    createdAt: new Date(row.created_at),
  };
}

/** The author's names from one profile (coach first), as people.ts picks them; `alias` is the post CTE. */
function withNames(alias: string) {
  return sql.raw(`
    case when kp.id is not null then kp.first_name else cp.first_name end as first_name,
    case when kp.id is not null then kp.last_name else cp.last_name end as last_name
    from ${alias}
    left join coach_profiles kp on kp.user_id = ${alias}.author_id
    left join client_profiles cp on cp.user_id = ${alias}.author_id`);
}

const POST_RETURNING = sql.raw(
  "returning posts.id, posts.author_id, posts.title, posts.content, posts.post_type, posts.is_private, posts.upvotes, posts.created_at",
);

/** One statement: the insert and the answer (author names; no comments yet). */
export async function createPost(db: Executor, viewer: Viewer, input: NewPost, now: Date): Promise<PostRecord> {
  if (input.postType === "announcement" && viewer.role !== "admin") throw forbidden("Only admins can post announcements");
  const result = await db.execute<PostRow>(sql`
    with created as (
      insert into posts (author_id, title, content, post_type, is_private, created_at, updated_at)
      values (${viewer.id}::uuid, ${input.title}, ${input.content}, ${input.postType}::post_type, ${input.isPrivate},
              ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz)
      ${POST_RETURNING})
    select created.*, 0 as comment_count, ${withNames("created")}`);
  const row = result.rows[0];
  if (!row) throw new Error("post insert returned no row");
  return fromPostRow(row);
}

/**
 * The post the viewer may see (locked) and whether they may change it: its
 * author and admins. A post the viewer cannot see is NOT_FOUND (its existence
 * stays secret), one they can see but do not own is FORBIDDEN.
 */
function editable(viewer: Viewer, postId: string) {
  return sql`
    target as (
      select posts.id, posts.author_id, posts.title, posts.content, posts.post_type, posts.is_private, posts.upvotes, posts.created_at
        from posts where posts.id = ${postId}::uuid and ${postVisibleTo(viewer)}
       for update of posts),
    allowed as (
      select * from target where target.author_id = ${viewer.id}::uuid or ${viewer.role === "admin"}::boolean)`;
}

/** An admin acting on someone else's post is moderation: audited ("every admin mutation writes one"). */
const byAdminOnOthers = (viewer: Viewer) => sql`${viewer.role === "admin"}::boolean and allowed.author_id <> ${viewer.id}::uuid`;

function requireChanged(row: { target_author?: string | null; id: string | null } | undefined, action: string): void {
  if (!row?.target_author) throw notFound("Post");
  if (!row.id) throw forbidden(`Only the author or an admin can ${action} this post`);
}

/** Absent fields stay unchanged. One statement (see the module comment). */
export async function updatePost(
  db: Executor,
  viewer: Viewer,
  postId: string,
  changes: PostChanges,
  now: Date,
): Promise<PostRecord> {
  if (changes.postType === "announcement" && viewer.role !== "admin") throw forbidden("Only admins can post announcements");
  const result = await db.execute<PostRow>(sql`
    with ${editable(viewer, postId)},
    updated as (
      update posts set
        title = coalesce(${changes.title ?? null}::varchar, posts.title),
        content = coalesce(${changes.content ?? null}::text, posts.content),
        post_type = coalesce(${changes.postType ?? null}::post_type, posts.post_type),
        is_private = coalesce(${changes.isPrivate ?? null}::boolean, posts.is_private),
        updated_at = ${now.toISOString()}::timestamptz
       where posts.id in (select id from allowed)
      ${POST_RETURNING}),
    audit as (
      insert into audit_log (actor_id, action, target_type, target_id, details)
      select ${viewer.id}::uuid, 'post.update', 'post', updated.id::text,
             jsonb_build_object(
               'author_id', allowed.author_id,
               'before', jsonb_build_object('title', allowed.title, 'content', allowed.content,
                                            'post_type', allowed.post_type, 'is_private', allowed.is_private),
               'after', jsonb_build_object('title', updated.title, 'content', updated.content,
                                           'post_type', updated.post_type, 'is_private', updated.is_private))
        from updated join allowed on allowed.id = updated.id
       where ${byAdminOnOthers(viewer)}),
    answer as (
      select updated.*, target.author_id as target_author,
             (select count(*)::int from comments where comments.post_id = updated.id) as comment_count
        from target left join updated on true)
    select answer.*, ${withNames("answer")}`);
  const row = result.rows[0];
  requireChanged(row, "change");
  return fromPostRow(row as PostRow);
}

/** Deletes the post; comments and votes go with it (FK cascades). One statement, audited when an admin removes another's. */
export async function deletePost(db: Executor, viewer: Viewer, postId: string): Promise<void> {
  const result = await db.execute<{ target_author: string | null; id: string | null }>(sql`
    with ${editable(viewer, postId)},
    deleted as (
      delete from posts where posts.id in (select id from allowed) returning posts.id),
    audit as (
      insert into audit_log (actor_id, action, target_type, target_id, details)
      select ${viewer.id}::uuid, 'post.delete', 'post', deleted.id::text,
             jsonb_build_object(
               'before', jsonb_build_object(
                 'author_id', allowed.author_id, 'title', allowed.title, 'post_type', allowed.post_type,
                 'is_private', allowed.is_private, 'upvotes', allowed.upvotes,
                 'created_at', to_char(allowed.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
               'after', null)
        from deleted join allowed on allowed.id = deleted.id
       where ${byAdminOnOthers(viewer)})
    select target.author_id as target_author, deleted.id from target left join deleted on true`);
  requireChanged(result.rows[0], "delete");
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
