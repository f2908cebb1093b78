-- Community: posts.upvotes is kept equal to the number of post_votes rows by the
-- database itself, so that every path that adds or removes a vote agrees:
-- the upvote routes, and the cascades of account deletion (votes of a deleted
-- user disappear through the post_votes.user_id FK and must be subtracted from
-- the posts they were cast on). Row-level: each change locks only its post row.
CREATE OR REPLACE FUNCTION post_votes_sync_upvotes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE posts SET upvotes = upvotes + 1 WHERE id = NEW.post_id;
    RETURN NEW;
  END IF;
  -- A post deleted in the same statement (post -> post_votes cascade) is no longer visible: 0 rows, nothing to do.
  UPDATE posts SET upvotes = upvotes - 1 WHERE id = OLD.post_id;
  RETURN OLD;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER post_votes_sync_upvotes
AFTER INSERT OR DELETE ON post_votes
FOR EACH ROW EXECUTE FUNCTION post_votes_sync_upvotes();
--> statement-breakpoint
-- Start from the truth: counts written before this migration (imports, demo data) follow the votes.
UPDATE posts SET upvotes = counted.votes
FROM (
  SELECT p.id, count(v.user_id)::int AS votes
  FROM posts p LEFT JOIN post_votes v ON v.post_id = p.id
  GROUP BY p.id
) AS counted
WHERE posts.id = counted.id AND posts.upvotes <> counted.votes;
