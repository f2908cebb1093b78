/** /community/posts: list, create, read, edit, delete, comment, vote (services/community/posts.ts). */

import { createRoute } from "@hono/zod-openapi";
import { IdParam } from "../../contract/common.ts";
import {
  CommentSchema,
  CreateCommentBody,
  CreatePostBody,
  PostDetailSchema,
  PostListQuery,
  PostSchema,
  UpdatePostBody,
  UpvotesSchema,
} from "../../contract/community.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../../lib/openapi.ts";
import { page, pageSchema } from "../../lib/pagination.ts";
import { createRouter } from "../../lib/router.ts";
import { requireUser } from "../../middleware/auth.ts";
import { addComment } from "../../services/community/comments.ts";
import {
  castVote,
  createPost,
  deletePost,
  getPostWithComments,
  listPosts,
  updatePost,
  withdrawVote,
} from "../../services/community/posts.ts";
import { commentJson, postJson } from "./shape.ts";

const TAGS = ["Community"];

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
  request: { params: IdParam() },
  responses: { 200: jsonContent(PostDetailSchema, "The post"), ...errorResponses(401, 403, 404) },
});

const updatePostRoute = createRoute({
  method: "put",
  path: "/community/posts/{id}",
  tags: TAGS,
  summary: "Edit a post (author or admin; an admin's edit of another's post is audited); absent fields stay unchanged",
  security: bearerSecurity,
  request: { params: IdParam(), body: { required: true, content: { "application/json": { schema: UpdatePostBody } } } },
  responses: { 200: jsonContent(PostSchema, "The edited post"), ...errorResponses(401, 403, 404) },
});

const deletePostRoute = createRoute({
  method: "delete",
  path: "/community/posts/{id}",
  tags: TAGS,
  summary: "Delete a post with its comments and votes (author or admin; an admin's deletion of another's post is audited)",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) },
});

const commentRoute = createRoute({
  method: "post",
  path: "/community/posts/{id}/comment",
  tags: TAGS,
  summary: "Comment on a post the caller may see",
  security: bearerSecurity,
  request: { params: IdParam(), body: { required: true, content: { "application/json": { schema: CreateCommentBody } } } },
  responses: { 201: jsonContent(CommentSchema, "The new comment"), ...errorResponses(401, 403, 404) },
});

const upvoteRoute = createRoute({
  method: "post",
  path: "/community/posts/{id}/upvote",
  tags: TAGS,
  summary: "Upvote a post; one vote per user, a repeat changes nothing",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 200: jsonContent(UpvotesSchema, "The post's vote count"), ...errorResponses(401, 403, 404) },
});

const removeUpvoteRoute = createRoute({
  method: "delete",
  path: "/community/posts/{id}/upvote",
  tags: TAGS,
  summary: "Withdraw the caller's vote (no vote: nothing changes)",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 200: jsonContent(UpvotesSchema, "The post's vote count"), ...errorResponses(401, 403, 404) },
});

export const postRoutes = createRouter()
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
    return c.json(PostDetailSchema.parse({ ...postJson(post), comments: post.comments.map(commentJson) }), 200);
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
  });
