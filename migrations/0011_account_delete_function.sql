-- Hand-written: the deletion step of account deletion (DELETE /profile, DELETE /admin/users/{id})
-- as ONE parameterised statement instead of BEGIN / lock / 14 deletes / tombstone / bump /
-- audit / COMMIT (16 round trips; issue 14). Same rules as the TypeScript it replaces
-- (services/account-deletion.ts), run in the statement's own implicit transaction:
--
--  * The last active admin cannot be deleted: an active admin target locks the active admin
--    rows in id order BEFORE its own row (as admin_update_user does), so two admins deleting
--    each other queue on the same first row; the rule is decided on the locked rows (each
--    statement of a VOLATILE PL/pgSQL function takes a new snapshot in READ COMMITTED).
--  * Profile, votes, comments, posts (their comments and votes cascade), bookmarks, refresh
--    and email tokens, calendar feed, match cache and the outbox mail for the address go.
--  * The user row: anonymised into a tombstone when any booking names the user (the other
--    party's history and the revenue stay whole), deleted otherwise.
--  * A coach leaves discovery and every cached match: coaches_version is bumped.
--  * p_actor (an admin) gets the audit entry `user.delete` with p_details + the outcome, in
--    the same transaction, so a refused or failed deletion leaves no entry.
--
-- Returns jsonb {outcome: 'not_found' | 'last_active_admin' | 'deleted' | 'anonymised',
-- photo_urls: [...]} (the R2 objects to remove after the commit).
CREATE OR REPLACE FUNCTION account_delete(p_user uuid, p_now timestamptz, p_actor uuid, p_details jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_peek users;
  v_user users;
  v_others integer;
  v_photos text[];
  v_was_coach boolean;
  v_outcome text;
BEGIN
  SELECT * INTO v_peek FROM users WHERE id = p_user;
  IF NOT FOUND THEN RETURN jsonb_build_object('outcome', 'not_found'); END IF;
  IF v_peek.role = 'admin' AND v_peek.is_active THEN
    PERFORM 1 FROM users WHERE role = 'admin' AND is_active ORDER BY id FOR UPDATE;
  END IF;
  SELECT * INTO v_user FROM users WHERE id = p_user FOR UPDATE;
  IF NOT FOUND THEN RETURN jsonb_build_object('outcome', 'not_found'); END IF;
  IF v_user.role = 'admin' AND v_user.is_active THEN
    SELECT count(*) FILTER (WHERE s.id <> p_user)::int INTO v_others
      FROM (SELECT id FROM users WHERE role = 'admin' AND is_active ORDER BY id FOR UPDATE) AS s;
    IF v_others = 0 THEN RETURN jsonb_build_object('outcome', 'last_active_admin'); END IF;
  END IF;

  WITH removed_client AS (DELETE FROM client_profiles WHERE user_id = p_user RETURNING photo_url),
       removed_coach AS (DELETE FROM coach_profiles WHERE user_id = p_user RETURNING photo_url)
  SELECT array_remove(ARRAY(SELECT photo_url FROM removed_client UNION ALL SELECT photo_url FROM removed_coach), NULL),
         EXISTS (SELECT 1 FROM removed_coach)
    INTO v_photos, v_was_coach;
  DELETE FROM post_votes WHERE user_id = p_user;
  DELETE FROM comments WHERE author_id = p_user;
  DELETE FROM posts WHERE author_id = p_user;
  DELETE FROM bookmarks WHERE user_id = p_user;
  DELETE FROM refresh_tokens WHERE user_id = p_user;
  DELETE FROM email_tokens WHERE user_id = p_user;
  DELETE FROM calendar_feeds WHERE user_id = p_user;
  DELETE FROM match_cache WHERE client_id = p_user;
  -- Outbox addresses are stored lower-cased (services write lower(email)).
  DELETE FROM email_outbox WHERE to_address = lower(v_user.email);

  IF EXISTS (SELECT 1 FROM bookings WHERE client_id = p_user OR coach_id = p_user) THEN
    UPDATE users SET email = 'deleted-' || p_user::text || '@invalid', password_hash = NULL, is_active = false,
                     email_verified = false, last_seen_at = NULL, updated_at = p_now
     WHERE id = p_user;
    v_outcome := 'anonymised';
  ELSE
    DELETE FROM users WHERE id = p_user;
    v_outcome := 'deleted';
  END IF;

  IF v_user.role = 'coach' OR v_was_coach THEN
    INSERT INTO app_counters (name, value) VALUES ('coaches_version', 1)
      ON CONFLICT (name) DO UPDATE SET value = app_counters.value + 1;
  END IF;
  IF p_actor IS NOT NULL THEN
    INSERT INTO audit_log (actor_id, action, target_type, target_id, details)
    VALUES (p_actor, 'user.delete', 'user', p_user::text, coalesce(p_details, '{}'::jsonb) || jsonb_build_object('outcome', v_outcome));
  END IF;
  RETURN jsonb_build_object('outcome', v_outcome, 'photo_urls', to_jsonb(v_photos));
END;
$$;
