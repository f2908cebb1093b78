import { afterAll, describe, expect, it } from "vitest";
import { del, get, post } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

describe("admin moderation through the community routes", () => {
  it("an admin deleting someone else's post writes a post.delete audit entry in the same change", async () => {
    const author = await createUser("client");
    const admin = await createUser("admin");
    const created = await post(
      "/community/posts",
      { title: "Off-topic", content: "spam", post_type: "discussion" },
      { token: author.token },
    );
    expect(created.status).toBe(201);

    expect((await del(`/community/posts/${created.body.id}`, { token: admin.token })).status).toBe(204);

    expect((await get(`/community/posts/${created.body.id}`, { token: admin.token })).status).toBe(404);
    const audit = await query<{ action: string; actor_id: string; details: { before: { author_id: string } } }>(
      `SELECT action, actor_id, details FROM audit_log WHERE target_id = $1`,
      [created.body.id],
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "post.delete", actor_id: admin.id });
    expect(audit[0]?.details.before.author_id).toBe(author.id);
  });

  it("an author deleting their own post is not an admin mutation and writes no audit entry", async () => {
    const author = await createUser("client");
    const created = await post(
      "/community/posts",
      { title: "Mine", content: "text", post_type: "question" },
      { token: author.token },
    );
    expect((await del(`/community/posts/${created.body.id}`, { token: author.token })).status).toBe(204);
    expect(await query(`SELECT 1 FROM audit_log WHERE target_id = $1`, [created.body.id])).toHaveLength(0);
  });
});
