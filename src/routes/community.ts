/**
 * Community routes (contract: Community). Thin: validate -> src/services/community/* -> shape.
 *
 * Every route needs a signed-in user (any role). Private posts follow the
 * one visibility predicate of services/community/visibility.ts: a post the
 * caller may not see is 404 on every route, like a post that does not exist.
 * Text is stored and returned verbatim as JSON; nothing here renders HTML.
 * A malformed id in a path is 400 VALIDATION_ERROR (never a 500 from Postgres).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { posts, resources } from "../../drizzle/schema.ts";
import { badRequest } from "../lib/errors.ts";
import { httpUrlField } from "../lib/fields.ts";
import { bearerSecurity, errorResponses, jsonContent, UUID_PATTERN } from "../lib/openapi.ts";
import { page, pageSchema, paginationQuery } from "../lib/pagination.ts";
import { createRouter } from "../lib/router.ts";
import { requireIso } from "../lib/time.ts";
import { validationDetails } from "../lib/validation.ts";
import { requireRole, requireUser } from "../middleware/auth.ts";
import {
  addComment,
  type CommentRecord,
  castVote,
  createPost,
  deletePost,
  getPostWithComments,
  listPosts,
  type PostRecord,
  updatePost,
  withdrawVote,
} from "../services/community/posts.ts";
import {
  addBookmark,
  createResource,
  listBookmarkedResources,
  listResources,
  MAX_TAG_LENGTH,
  MAX_TAGS,
  normalizeTag,
  type ResourceRecord,
  removeBookmark,
  searchWords,
} from "../services/community/resources.ts";

const TAGS = ["Community"];

// ---------------------------------------------------------------------------
// schemas
// ---------------------------------------------------------------------------

const PostTypeField = z
  .enum(posts.postType.enumValues)
  .openapi({ description: "`announcement` is for admins only (403 otherwise)" });
const ResourceTypeField = z.enum(resources.resourceType.enumValues);

/** Free text kept exactly as given (no trimming, no escaping), but never blank. */
function verbatimText(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .refine((value) => value.trim().length > 0, "Must not be blank");
}

const IdParams = z.object({
  id: z
    .string()
    .regex(UUID_PATTERN, "Must be a UUID")
    .openapi({ param: { name: "id", in: "path" }, example: "0b9c3c3e-2f7e-4a59-9d43-2a4d7a1f2b11" }),
});

const PersonSchema = z
  .object({ id: z.string().uuid(), first_name: z.string().nullable(), last_name: z.string().nullable() })
  .openapi("CommunityPerson", {
    description: "Names come from the person's client or coach profile; null when there is none (admins)",
  });

const PostSchema = z
  .object({
    id: z.string().uuid(),
    author: PersonSchema,
    title: z.string(),
    content: z.string(),
    post_type: PostTypeField,
    is_private: z.boolean(),
    upvotes: z.number().int(),
    comment_count: z.number().int(),
    created_at: z.string(),
  })
  .openapi("Post");

const CommentSchema = z
  .object({ id: z.string().uuid(), author: PersonSchema, content: z.string(), created_at: z.string() })
  .openapi("Comment");

const PostDetailSchema = PostSchema.extend({ comments: z.array(CommentSchema) }).openapi("PostDetail");

const UpvotesSchema = z.object({ upvotes: z.number().int() }).openapi("Upvotes");

const ResourceSchema = z
  .object({
    id: z.string().uuid(),
    title: z.string(),
    description: z.string().nullable(),
    resource_type: ResourceTypeField,
    url: z.string().nullable(),
    tags: z.array(z.string()),
    created_by: z
      .object({ id: z.string().uuid(), first_name: z.string().nullable() })
      .nullable()
      .openapi({ description: "null when the creator's account no longer exists" }),
    created_at: z.string(),
  })
  .openapi("Resource");

const BookmarkCreatedSchema = z.object({ message: z.string() }).openapi("BookmarkCreated");

const CreatePostBody = z
  .object({
    title: verbatimText(200),
    content: verbatimText(20_000),
    post_type: PostTypeField,
    is_private: z.boolean().default(false),
  })
  .openapi("CreatePostRequest");

const UpdatePostBody = z
  .object({
    title: verbatimText(200).optional(),
    content: verbatimText(20_000).optional(),
    post_type: PostTypeField.optional(),
    is_private: z.boolean().optional(),
  })
  .refine(
    (body) => Object.values(body).some((value) => value !== undefined),
    "Give at least one of title, content, post_type, is_private",
  )
  .openapi("UpdatePostRequest");

const CreateCommentBody = z.object({ content: verbatimText(5_000) }).openapi("CreateCommentRequest");

const TagField = z.string().trim().min(1).max(MAX_TAG_LENGTH);

const CreateResourceBody = z
  .object({
    title: verbatimText(200),
    description: z.string().max(5_000).nullable().optional(),
    resource_type: ResourceTypeField,
    url: httpUrlField,
    tags: z
      .array(TagField)
      .max(MAX_TAGS)
      .default([])
      .openapi({
        description: `Up to ${MAX_TAGS} tags of 1-${MAX_TAG_LENGTH} characters; stored trimmed, lower-cased and de-duplicated`,
      }),
  })
  .openapi("CreateResourceRequest");

const PostListQuery = paginationQuery.extend({
  post_type: PostTypeField.optional(),
  is_private: z.enum(["true", "false"]).optional(),
});

const ResourceListQuery = paginationQuery.extend({
  resource_type: ResourceTypeField.optional(),
  tags: z
    .string()
    .max(MAX_TAGS * (MAX_TAG_LENGTH + 1))
    .optional()
    .openapi({
      description: "Comma-separated; a resource must carry all of them (case-insensitive)",
      example: "family,relocation",
    }),
  q: z.string().max(200).optional().openapi({
    description: "Searches title and description; every word must match, as a word prefix",
    example: "culture shock",
  }),
});

// ---------------------------------------------------------------------------
// shaping
// ---------------------------------------------------------------------------

function postJson(post: PostRecord) {
  return {
    id: post.id,
    author: { id: post.author.id, first_name: post.author.firstName, last_name: post.author.lastName },
    title: post.title,
    content: post.content,
    post_type: post.postType,
    is_private: post.isPrivate,
    upvotes: post.upvotes,
    comment_count: post.commentCount,
    created_at: requireIso(post.createdAt),
  };
}

function commentJson(comment: CommentRecord) {
  return {
    id: comment.id,
    author: { id: comment.author.id, first_name: comment.author.firstName, last_name: comment.author.lastName },
    content: comment.content,
    created_at: requireIso(comment.createdAt),
  };
}

function resourceJson(resource: ResourceRecord) {
  return {
    id: resource.id,
    title: resource.title,
    description: resource.description,
    resource_type: resource.resourceType,
    url: resource.url,
    tags: resource.tags,
    created_by: resource.createdBy ? { id: resource.createdBy.id, first_name: resource.createdBy.firstName } : null,
    created_at: requireIso(resource.createdAt),
  };
}

/** `tags=a,b` -> normalised tags; empty entries are ignored; too many or too long -> 400. */
function parseTagsFilter(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const tags = [
    ...new Set(
      raw
        .split(",")
        .map(normalizeTag)
        .filter((tag) => tag.length > 0),
    ),
  ];
  const problem =
    tags.length > MAX_TAGS
      ? `At most ${MAX_TAGS} tags`
      : tags.some((tag) => tag.length > MAX_TAG_LENGTH)
        ? `Tags have at most ${MAX_TAG_LENGTH} characters`
        : undefined;
  if (problem) throw badRequest("Request validation failed", validationDetails([{ path: ["tags"], message: problem }], "query"));
  return tags.length > 0 ? tags : undefined;
}

/** Blank `q` means no search; text without any letter or digit cannot match anything -> 400. */
function parseSearch(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim().length === 0) return undefined;
  if (searchWords(raw).length === 0) {
    throw badRequest(
      "Request validation failed",
      validationDetails([{ path: ["q"], message: "Must contain at least one letter or digit" }], "query"),
    );
  }
  return raw;
}

// ---------------------------------------------------------------------------
// routes
// ---------------------------------------------------------------------------

const listPostsRoute = createRoute({
  method: "get",
  path: "/community/posts",
  tags: TAGS,
  summary: "Posts the caller may see, newest first",
  security: bearerSecurity,
  request: { query: PostListQuery },
  responses: { 200: jsonContent(pageSchema(PostSchema, "PostPage"), "A page of posts"), ...errorResponses(401, 403) },
});

const createPostRoute = createRoute({
  method: "post",
  path: "/community/posts",
  tags: TAGS,
  summary: "Write a post (announcements: admins only)",
  security: bearerSecurity,
  request: { body: { required: true, content: { "application/json": { schema: CreatePostBody } } } },
  responses: { 201: jsonContent(PostSchema, "The new post"), ...errorResponses(401, 403) },
});

const getPostRoute = createRoute({
  method: "get",
  path: "/community/posts/{id}",
  tags: TAGS,
  summary: "A post with its comments, oldest first (404 for a private post the caller may not see)",
  security: bearerSecurity,
  request: { params: IdParams },
  responses: { 200: jsonContent(PostDetailSchema, "The post"), ...errorResponses(401, 403, 404) },
});

const updatePostRoute = createRoute({
  method: "put",
  path: "/community/posts/{id}",
  tags: TAGS,
  summary: "Edit a post (author or admin); absent fields stay unchanged",
  security: bearerSecurity,
  request: { params: IdParams, body: { required: true, content: { "application/json": { schema: UpdatePostBody } } } },
  responses: { 200: jsonContent(PostSchema, "The edited post"), ...errorResponses(401, 403, 404) },
});

const deletePostRoute = createRoute({
  method: "delete",
  path: "/community/posts/{id}",
  tags: TAGS,
  summary: "Delete a post with its comments and votes (author or admin)",
  security: bearerSecurity,
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) },
});

const commentRoute = createRoute({
  method: "post",
  path: "/community/posts/{id}/comment",
  tags: TAGS,
  summary: "Comment on a post the caller may see",
  security: bearerSecurity,
  request: { params: IdParams, body: { required: true, content: { "application/json": { schema: CreateCommentBody } } } },
  responses: { 201: jsonContent(CommentSchema, "The new comment"), ...errorResponses(401, 403, 404) },
});

const upvoteRoute = createRoute({
  method: "post",
  path: "/community/posts/{id}/upvote",
  tags: TAGS,
  summary: "Upvote a post; one vote per user, a repeat changes nothing",
  security: bearerSecurity,
  request: { params: IdParams },
  responses: { 200: jsonContent(UpvotesSchema, "The post's vote count"), ...errorResponses(401, 403, 404) },
});

const removeUpvoteRoute = createRoute({
  method: "delete",
  path: "/community/posts/{id}/upvote",
  tags: TAGS,
  summary: "Withdraw the caller's vote (no vote: nothing changes)",
  security: bearerSecurity,
  request: { params: IdParams },
  responses: { 200: jsonContent(UpvotesSchema, "The post's vote count"), ...errorResponses(401, 403, 404) },
});

const listBookmarksRoute = createRoute({
  method: "get",
  path: "/community/resources/bookmarks",
  tags: TAGS,
  summary: "Resources the caller bookmarked, most recently bookmarked first",
  security: bearerSecurity,
  request: { query: paginationQuery },
  responses: { 200: jsonContent(pageSchema(ResourceSchema, "ResourcePage"), "A page of resources"), ...errorResponses(401, 403) },
});

const listResourcesRoute = createRoute({
  method: "get",
  path: "/community/resources",
  tags: TAGS,
  summary: "The resource library, newest first; filter by type, tags (all must match) and text",
  security: bearerSecurity,
  request: { query: ResourceListQuery },
  responses: { 200: jsonContent(pageSchema(ResourceSchema, "ResourcePage"), "A page of resources"), ...errorResponses(401, 403) },
});

const createResourceRoute = createRoute({
  method: "post",
  path: "/community/resources",
  tags: TAGS,
  summary: "Add a resource to the library (admins and coaches)",
  security: bearerSecurity,
  request: { body: { required: true, content: { "application/json": { schema: CreateResourceBody } } } },
  responses: { 201: jsonContent(ResourceSchema, "The new resource"), ...errorResponses(401, 403) },
});

const bookmarkRoute = createRoute({
  method: "post",
  path: "/community/resources/{id}/bookmark",
  tags: TAGS,
  summary: "Bookmark a resource; a second bookmark of the same resource is 409",
  security: bearerSecurity,
  request: { params: IdParams },
  responses: { 201: jsonContent(BookmarkCreatedSchema, "Bookmarked"), ...errorResponses(401, 403, 404, 409) },
});

const removeBookmarkRoute = createRoute({
  method: "delete",
  path: "/community/resources/{id}/bookmark",
  tags: TAGS,
  summary: "Remove the caller's bookmark (404 when there is none)",
  security: bearerSecurity,
  request: { params: IdParams },
  responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) },
});

const router = createRouter();
// Authentication before validation: an anonymous caller learns nothing from 400s.
router.use("/community/*", requireRole());

export const communityRoutes = router
  .openapi(listPostsRoute, async (c) => {
    const viewer = requireUser(c);
    const query = c.req.valid("query");
    const isPrivate = query.is_private === undefined ? undefined : query.is_private === "true";
    const { items, total } = await listPosts(c.var.db, viewer, { postType: query.post_type, isPrivate }, query);
    return c.json(page(items.map(postJson), total, query), 200);
  })
  .openapi(createPostRoute, async (c) => {
    const viewer = requireUser(c);
    const body = c.req.valid("json");
    const post = await createPost(
      c.var.db,
      viewer,
      { title: body.title, content: body.content, postType: body.post_type, isPrivate: body.is_private },
      c.var.now,
    );
    return c.json(postJson(post), 201);
  })
  .openapi(getPostRoute, async (c) => {
    const viewer = requireUser(c);
    const post = await getPostWithComments(c.var.db, viewer, c.req.valid("param").id);
    return c.json({ ...postJson(post), comments: post.comments.map(commentJson) }, 200);
  })
  .openapi(updatePostRoute, async (c) => {
    const viewer = requireUser(c);
    const body = c.req.valid("json");
    const post = await updatePost(
      c.var.db,
      viewer,
      c.req.valid("param").id,
      { title: body.title, content: body.content, postType: body.post_type, isPrivate: body.is_private },
      c.var.now,
    );
    return c.json(postJson(post), 200);
  })
  .openapi(deletePostRoute, async (c) => {
    const viewer = requireUser(c);
    await deletePost(c.var.db, viewer, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(commentRoute, async (c) => {
    const viewer = requireUser(c);
    const comment = await addComment(c.var.db, viewer, c.req.valid("param").id, c.req.valid("json").content, c.var.now);
    return c.json(commentJson(comment), 201);
  })
  .openapi(upvoteRoute, async (c) => {
    const viewer = requireUser(c);
    const upvotes = await castVote(c.var.db, viewer, c.req.valid("param").id, c.var.now);
    return c.json({ upvotes }, 200);
  })
  .openapi(removeUpvoteRoute, async (c) => {
    const viewer = requireUser(c);
    const upvotes = await withdrawVote(c.var.db, viewer, c.req.valid("param").id);
    return c.json({ upvotes }, 200);
  })
  // The literal path first: /community/resources/bookmarks is never read as a resource id.
  .openapi(listBookmarksRoute, async (c) => {
    const viewer = requireUser(c);
    const query = c.req.valid("query");
    const { items, total } = await listBookmarkedResources(c.var.db, viewer.id, query);
    return c.json(page(items.map(resourceJson), total, query), 200);
  })
  .openapi(listResourcesRoute, async (c) => {
    requireUser(c);
    const query = c.req.valid("query");
    const filters = { resourceType: query.resource_type, tags: parseTagsFilter(query.tags), q: parseSearch(query.q) };
    const { items, total } = await listResources(c.var.db, filters, query);
    return c.json(page(items.map(resourceJson), total, query), 200);
  })
  .openapi(createResourceRoute, async (c) => {
    const viewer = requireUser(c, "admin", "coach");
    const body = c.req.valid("json");
    const resource = await createResource(
      c.var.db,
      viewer.id,
      {
        title: body.title,
        description: body.description ?? null,
        resourceType: body.resource_type,
        url: body.url,
        tags: body.tags,
      },
      c.var.now,
    );
    return c.json(resourceJson(resource), 201);
  })
  .openapi(bookmarkRoute, async (c) => {
    const viewer = requireUser(c);
    await addBookmark(c.var.db, viewer.id, c.req.valid("param").id, c.var.now);
    return c.json({ message: "Resource bookmarked" }, 201);
  })
  .openapi(removeBookmarkRoute, async (c) => {
    const viewer = requireUser(c);
    await removeBookmark(c.var.db, viewer.id, c.req.valid("param").id);
    return c.body(null, 204);
  });
