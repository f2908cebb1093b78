/** Wire shapes of the contract's Community section. */
import { z } from "@hono/zod-openapi";
import { posts, resources } from "../../drizzle/schema.ts";
import { httpUrlField } from "../lib/fields.ts";
import { paginationQuery } from "../lib/pagination.ts";

export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 50;

export const PostTypeField = z
  .enum(posts.postType.enumValues)
  .openapi({ description: "`announcement` is for admins only (403 otherwise)" });
export const ResourceTypeField = z.enum(resources.resourceType.enumValues);

/** Free text kept exactly as given (no trimming, no escaping), but never blank. */
function verbatimText(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .refine((value) => value.trim().length > 0, "Must not be blank");
}

export const PersonSchema = z
  .object({ id: z.string().guid(), first_name: z.string().nullable(), last_name: z.string().nullable() })
  .openapi("CommunityPerson", {
    description: "Names come from the person's client or coach profile; null when there is none (admins)",
  });

export const PostSchema = z
  .object({
    id: z.string().guid(),
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

export const CommentSchema = z
  .object({ id: z.string().guid(), author: PersonSchema, content: z.string(), created_at: z.string() })
  .openapi("Comment");

export const PostDetailSchema = PostSchema.extend({ comments: z.array(CommentSchema) }).openapi("PostDetail");

export const UpvotesSchema = z.object({ upvotes: z.number().int() }).openapi("Upvotes");

export const ResourceSchema = z
  .object({
    id: z.string().guid(),
    title: z.string(),
    description: z.string().nullable(),
    resource_type: ResourceTypeField,
    url: z.string().nullable(),
    tags: z.array(z.string()),
    created_by: z
      .object({ id: z.string().guid(), first_name: z.string().nullable() })
      .nullable()
      .openapi({ description: "null when the creator's account no longer exists" }),
    created_at: z.string(),
  })
  .openapi("Resource");

export const BookmarkCreatedSchema = z.object({ message: z.string() }).openapi("BookmarkCreated");

export const CreatePostBody = z
  .object({
    title: verbatimText(200),
    content: verbatimText(20_000),
    post_type: PostTypeField,
    is_private: z.boolean().default(false),
  })
  .openapi("CreatePostRequest");

export const UpdatePostBody = z
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

export const CreateCommentBody = z.object({ content: verbatimText(5_000) }).openapi("CreateCommentRequest");
export const UpdateCommentBody = z.object({ content: verbatimText(5_000) }).openapi("UpdateCommentRequest");

const TagField = z.string().trim().min(1).max(MAX_TAG_LENGTH);

export const CreateResourceBody = z
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

export const PostListQuery = paginationQuery.extend({
  post_type: PostTypeField.optional(),
  is_private: z.enum(["true", "false"]).optional(),
});

export const ResourceListQuery = paginationQuery.extend({
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

export type PostBody = z.infer<typeof PostSchema>;
export type CommentBody = z.infer<typeof CommentSchema>;
export type ResourceBody = z.infer<typeof ResourceSchema>;
