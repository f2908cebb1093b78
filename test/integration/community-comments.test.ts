/**
 * PUT / DELETE /community/comments/{id} (contract v2): author or admin; an
 * admin's action on another's comment is audited; a comment on a private post
 * the caller may not see is 404 like an unknown one. Also issue 19: creating
 * a post is one statement (no insert-then-select window).
 */
import { afterAll, describe, expect, it } from "vitest";
import { CommentSchema, PostDetailSchema, PostSchema } from "../../src/contract/community.ts";
import { del, expectEnvelope, get, type Json, post, put } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

async function createPost(author: TestUser, overrides: Record<string, unknown> = {}): Promise<Json> {
  const result = await post(
    "/community/posts",
    { title: `Post ${crypto.randomUUID().slice(0, 8)}`, content: "Hello", post_type: "discussion", ...overrides },
    { token: author.token },
  );
  expect(result.status, result.text).toBe(201);
  return result.body;
}

async function comment(author: TestUser, postId: string, content = "A comment"): Promise<Json> {
  const result = await post(`/community/posts/${postId}/comment`, { content }, { token: author.token });
  expect(result.status, result.text).toBe(201);
  return CommentSchema.parse(result.body);
}

async function auditFor(commentId: string): Promise<Json[]> {
  return query("SELECT actor_id, action, target_type, details FROM audit_log WHERE target_id = $1 ORDER BY created_at", [
    commentId,
  ]);
}

describe("PUT /community/comments/{id}", () => {
  it("happy: the author edits; the answer and the post detail show the new text verbatim; no audit entry", async () => {
    const author = await createClient({ firstName: "Ana" });
    const postBody = await createPost(author);
    const created = await comment(author, postBody.id);
    const text = "  <b>edited</b> text \u00e9 ";
    const result = await put(`/community/comments/${created.id}`, { content: text }, { token: author.token });
    expect(result.status, result.text).toBe(200);
    const edited = CommentSchema.parse(result.body);
    expect(edited).toMatchObject({ id: created.id, content: text, created_at: created.created_at });
    expect(edited.author).toMatchObject({ id: author.id, first_name: "Ana" });
    const detail = PostDetailSchema.parse((await get(`/community/posts/${postBody.id}`, { token: author.token })).body);
    expect(detail.comments.find((item) => item.id === created.id)?.content).toBe(text);
    expect(await auditFor(created.id)).toEqual([]);
  });

  it("happy: an admin edits another's comment, audited with before and after", async () => {
    const author = await createClient();
    const admin = await createUser("admin");
    const postBody = await createPost(author);
    const created = await comment(author, postBody.id, "rude words");
    const result = await put(`/community/comments/${created.id}`, { content: "[removed by moderator]" }, { token: admin.token });
    expect(result.status, result.text).toBe(200);
    expect(result.body.author.id).toBe(author.id);
    const [entry] = await auditFor(created.id);
    expect(entry).toMatchObject({ actor_id: admin.id, action: "comment.update", target_type: "comment" });
    expect(entry.details).toMatchObject({
      post_id: postBody.id,
      author_id: author.id,
      before: { content: "rude words" },
      after: { content: "[removed by moderator]" },
    });
  });

  it("error: blank, missing or too long content is 400; malformed id 400; unknown id 404", async () => {
    const author = await createClient();
    const created = await comment(author, (await createPost(author)).id);
    for (const body of [{ content: "   " }, {}, { content: "x".repeat(5001) }, { content: 42 }]) {
      expectEnvelope(await put(`/community/comments/${created.id}`, body, { token: author.token }), 400, "VALIDATION_ERROR");
    }
    expectEnvelope(
      await put("/community/comments/not-a-uuid", { content: "x" }, { token: author.token }),
      400,
      "VALIDATION_ERROR",
    );
    expectEnvelope(await put(`/community/comments/${UNKNOWN_ID}`, { content: "x" }, { token: author.token }), 404, "NOT_FOUND");
  });

  it("security: another user is 403 and changes nothing; anonymous 401", async () => {
    const author = await createClient();
    const other = await createCoach();
    const created = await comment(author, (await createPost(author)).id, "mine");
    expectEnvelope(
      await put(`/community/comments/${created.id}`, { content: "hijacked" }, { token: other.token }),
      403,
      "FORBIDDEN",
    );
    expectEnvelope(await put(`/community/comments/${created.id}`, { content: "hijacked" }), 401, "UNAUTHORIZED");
    const [row] = await query<{ content: string }>("SELECT content FROM comments WHERE id = $1", [created.id]);
    expect(row?.content).toBe("mine");
  });

  it("security: a comment on a private post the caller may not see is 404, even for its own former author's stranger", async () => {
    const author = await createClient();
    const stranger = await createClient();
    const privatePost = await createPost(author, { is_private: true });
    const created = await comment(author, privatePost.id);
    expectEnvelope(await put(`/community/comments/${created.id}`, { content: "x" }, { token: stranger.token }), 404, "NOT_FOUND");
    expectEnvelope(await del(`/community/comments/${created.id}`, { token: stranger.token }), 404, "NOT_FOUND");
  });
});

describe("DELETE /community/comments/{id}", () => {
  it("happy: the author deletes (204); the post's comment_count drops; a second delete is 404", async () => {
    const author = await createClient();
    const postBody = await createPost(author);
    const created = await comment(author, postBody.id);
    await comment(author, postBody.id, "stays");
    expect((await del(`/community/comments/${created.id}`, { token: author.token })).status).toBe(204);
    const detail = PostDetailSchema.parse((await get(`/community/posts/${postBody.id}`, { token: author.token })).body);
    expect(detail.comment_count).toBe(1);
    expect(detail.comments.map((item) => item.content)).toEqual(["stays"]);
    expectEnvelope(await del(`/community/comments/${created.id}`, { token: author.token }), 404, "NOT_FOUND");
    expect(await auditFor(created.id)).toEqual([]);
  });

  it("happy: an admin deletes another's comment, audited; deleting their own is not", async () => {
    const author = await createCoach();
    const admin = await createUser("admin");
    const postBody = await createPost(author);
    const theirs = await comment(author, postBody.id, "spam link");
    const own = await comment(admin, postBody.id, "admin note");
    expect((await del(`/community/comments/${theirs.id}`, { token: admin.token })).status).toBe(204);
    expect((await del(`/community/comments/${own.id}`, { token: admin.token })).status).toBe(204);
    const [entry] = await auditFor(theirs.id);
    expect(entry).toMatchObject({ actor_id: admin.id, action: "comment.delete", target_type: "comment" });
    expect(entry.details).toMatchObject({
      post_id: postBody.id,
      author_id: author.id,
      before: { content: "spam link" },
      after: null,
    });
    expect(await auditFor(own.id)).toEqual([]);
    const listed = await get(`/admin/audit-log?action=comment.delete&actor_id=${admin.id}`, { token: admin.token });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((item: Json) => item.target_id)).toContain(theirs.id);
  });

  it("security: the post's author cannot delete someone else's comment on their post (403); anonymous 401", async () => {
    const postAuthor = await createClient();
    const commenter = await createCoach();
    const postBody = await createPost(postAuthor);
    const created = await comment(commenter, postBody.id);
    expectEnvelope(await del(`/community/comments/${created.id}`, { token: postAuthor.token }), 403, "FORBIDDEN");
    expectEnvelope(await del(`/community/comments/${created.id}`), 401, "UNAUTHORIZED");
    expect(await query("SELECT id FROM comments WHERE id = $1", [created.id])).toHaveLength(1);
  });
});

describe("issue 19: posts and comments are written in one statement", () => {
  it("POST /community/posts is one round trip and answers the full post (names, zero comments)", async () => {
    const author = await createCoach({ firstName: "Olu" });
    const result = await post(
      "/community/posts",
      { title: "One statement", content: "Body", post_type: "question", is_private: true },
      { token: author.token },
    );
    expect(result.status).toBe(201);
    expect(result.headers.get("x-db-queries")).toBe("1");
    const created = PostSchema.parse(result.body);
    expect(created).toMatchObject({
      title: "One statement",
      post_type: "question",
      is_private: true,
      upvotes: 0,
      comment_count: 0,
      author: { id: author.id, first_name: "Olu", last_name: "Coach" },
    });
  });

  it("community writes take at most 2 round trips (edit, delete, comment, comment edit/delete: 1)", async () => {
    const author = await createClient();
    const postBody = await createPost(author);
    const edited = await put(`/community/posts/${postBody.id}`, { title: "New" }, { token: author.token });
    expect(edited.status).toBe(200);
    expect(edited.body.title).toBe("New");
    const added = await post(`/community/posts/${postBody.id}/comment`, { content: "c" }, { token: author.token });
    const changed = await put(`/community/comments/${added.body.id}`, { content: "d" }, { token: author.token });
    const removed = await del(`/community/comments/${added.body.id}`, { token: author.token });
    const gone = await del(`/community/posts/${postBody.id}`, { token: author.token });
    for (const result of [edited, added, changed, removed, gone]) {
      expect(Number(result.headers.get("x-db-queries"))).toBeLessThanOrEqual(2);
    }
    expect([added.status, changed.status, removed.status, gone.status]).toEqual([201, 200, 204, 204]);
  });

  it("an admin editing another's post is audited (post.update)", async () => {
    const author = await createClient();
    const admin = await createUser("admin");
    const postBody = await createPost(author);
    expect((await put(`/community/posts/${postBody.id}`, { is_private: true }, { token: admin.token })).status).toBe(200);
    const [entry] = await query<Json>("SELECT action, actor_id, details FROM audit_log WHERE target_id = $1", [postBody.id]);
    expect(entry).toMatchObject({ action: "post.update", actor_id: admin.id });
    expect(entry.details).toMatchObject({ before: { is_private: false }, after: { is_private: true } });
  });
});
