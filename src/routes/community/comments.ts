/** /community/comments/{id}: edit and delete (contract v2; services/community/comments.ts). */

import { createRoute } from "@hono/zod-openapi";
import { IdParam } from "../../contract/common.ts";
import { CommentSchema, UpdateCommentBody } from "../../contract/community.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../../lib/openapi.ts";
import { createRouter } from "../../lib/router.ts";
import { requireUser } from "../../middleware/auth.ts";
import { deleteComment, updateComment } from "../../services/community/comments.ts";
import { commentJson } from "./shape.ts";

const TAGS = ["Community"];

const updateCommentRoute = createRoute({
  method: "put",
  path: "/community/comments/{id}",
  tags: TAGS,
  summary: "Edit a comment (author or admin; an admin's edit of another's comment is audited)",
  description:
    "404 when the comment does not exist or its post is private and not visible to the caller; 403 when not its author.",
  security: bearerSecurity,
  request: { params: IdParam(), body: { required: true, content: { "application/json": { schema: UpdateCommentBody } } } },
  responses: { 200: jsonContent(CommentSchema, "The edited comment"), ...errorResponses(401, 403, 404) },
});

const deleteCommentRoute = createRoute({
  method: "delete",
  path: "/community/comments/{id}",
  tags: TAGS,
  summary: "Delete a comment (author or admin; an admin's deletion of another's comment is audited)",
  description:
    "404 when the comment does not exist or its post is private and not visible to the caller; 403 when not its author.",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) },
});

export const commentRoutes = createRouter()
  .openapi(updateCommentRoute, async (c) => {
    const viewer = requireUser(c);
    const comment = await updateComment(c.var.db, viewer, c.req.valid("param").id, c.req.valid("json").content);
    return c.json(commentJson(comment), 200);
  })
  .openapi(deleteCommentRoute, async (c) => {
    const viewer = requireUser(c);
    await deleteComment(c.var.db, viewer, c.req.valid("param").id);
    return c.body(null, 204);
  });
