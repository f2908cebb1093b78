/** Moderation: an admin deletes any post (its comments and votes cascade), recorded in the audit log. */
import { eq } from "drizzle-orm";
import { posts } from "../../../drizzle/schema.ts";
import type { Database } from "../../db/client.ts";
import { notFound } from "../../lib/errors.ts";
import { requireIso } from "../../lib/time.ts";
import { writeAudit } from "./audit.ts";

export async function deletePostAsAdmin(db: Database, actorId: string, postId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [deleted] = await tx.delete(posts).where(eq(posts.id, postId)).returning();
    if (!deleted) throw notFound("Post");
    // The post is gone: the audit entry keeps enough of it to know what was removed and whose it was.
    await writeAudit(tx, {
      actorId,
      action: "post.delete",
      targetType: "post",
      targetId: postId,
      details: {
        before: {
          author_id: deleted.authorId,
          title: deleted.title,
          post_type: deleted.postType,
          is_private: deleted.isPrivate,
          upvotes: deleted.upvotes,
          created_at: requireIso(deleted.createdAt),
        },
        after: null,
      },
    });
  });
}
