/** Service records -> the contract's wire shapes (parsed, so a field added in a service cannot leak). */
import { CommentSchema, PostSchema, ResourceSchema } from "../../contract/community.ts";
import { requireIso } from "../../lib/time.ts";
import type { CommentRecord } from "../../services/community/comments.ts";
import type { PostRecord } from "../../services/community/posts.ts";
import type { ResourceRecord } from "../../services/community/resources.ts";

export function postJson(post: PostRecord) {
  return PostSchema.parse({
    id: post.id,
    author: { id: post.author.id, first_name: post.author.firstName, last_name: post.author.lastName },
    title: post.title,
    content: post.content,
    post_type: post.postType,
    is_private: post.isPrivate,
    upvotes: post.upvotes,
    comment_count: post.commentCount,
    created_at: requireIso(post.createdAt),
  });
}

export function commentJson(comment: CommentRecord) {
  return CommentSchema.parse({
    id: comment.id,
    author: { id: comment.author.id, first_name: comment.author.firstName, last_name: comment.author.lastName },
    content: comment.content,
    created_at: requireIso(comment.createdAt),
  });
}

export function resourceJson(resource: ResourceRecord) {
  return ResourceSchema.parse({
    id: resource.id,
    title: resource.title,
    description: resource.description,
    resource_type: resource.resourceType,
    url: resource.url,
    tags: resource.tags,
    created_by: resource.createdBy ? { id: resource.createdBy.id, first_name: resource.createdBy.firstName } : null,
    created_at: requireIso(resource.createdAt),
  });
}
