-- Hand-written: PATCH /admin/users/{id} as ONE parameterised statement (one round trip, its
-- own implicit transaction) instead of BEGIN / peek / lock admins / lock user / update /
-- bump / audit / read / COMMIT (issue 14). Same rules and lock order as the TypeScript it
-- replaces (services/admin/users.ts updateUser):
--
--  * Only a change that takes an active admin away (role other than admin, or is_active
--    false) locks the active admin rows, in id order and BEFORE the target row (which is
--    one of them), so that two admins demoting each other queue up on the same first row
--    instead of deadlocking. Changes to other users lock only their own row.
--  * In READ COMMITTED each statement of a VOLATILE PL/pgSQL function takes a new snapshot,
--    so after waiting for a lock the next statements see what the holder committed: the
--    last-active-admin check is decided on the locked, current rows (race-free).
--  * A coach's role or active flag changing bumps coaches_version (match caches).
--  * The audit entry is written for every accepted call, a no-op included: before/after
--    hold the requested fields, `changed` what was actually altered.
--
-- NULL parameters mean "not requested". Returns jsonb {outcome: 'not_found' |
-- 'last_active_admin' | 'updated', user, first_name, last_name, before, after, changed}.
CREATE OR REPLACE FUNCTION admin_update_user(
  p_actor uuid, p_user uuid, p_role user_role, p_is_active boolean, p_email_verified boolean, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_peek users;
  v_target users;
  v_removes boolean := (p_role IS NOT NULL AND p_role <> 'admin') OR p_is_active = false;
  v_others integer;
  v_before jsonb;
  v_after jsonb;
  v_changed jsonb;
  v_requested text[];
  v_first text;
  v_last text;
BEGIN
  SELECT * INTO v_peek FROM users WHERE id = p_user;
  IF NOT FOUND THEN RETURN jsonb_build_object('outcome', 'not_found'); END IF;
  IF v_removes AND v_peek.role = 'admin' AND v_peek.is_active THEN
    PERFORM 1 FROM users WHERE role = 'admin' AND is_active ORDER BY id FOR UPDATE;
  END IF;
  SELECT * INTO v_target FROM users WHERE id = p_user FOR UPDATE;
  IF NOT FOUND THEN RETURN jsonb_build_object('outcome', 'not_found'); END IF;
  -- Decided on the locked row (it may have become an admin since the peek).
  IF v_removes AND v_target.role = 'admin' AND v_target.is_active THEN
    SELECT count(*) FILTER (WHERE s.id <> p_user)::int INTO v_others
      FROM (SELECT id FROM users WHERE role = 'admin' AND is_active ORDER BY id FOR UPDATE) AS s;
    IF v_others = 0 THEN RETURN jsonb_build_object('outcome', 'last_active_admin'); END IF;
  END IF;

  v_before := jsonb_build_object('role', v_target.role, 'is_active', v_target.is_active,
                                 'email_verified', v_target.email_verified);
  v_after := jsonb_build_object('role', coalesce(p_role, v_target.role),
                                'is_active', coalesce(p_is_active, v_target.is_active),
                                'email_verified', coalesce(p_email_verified, v_target.email_verified));
  -- In the order role, is_active, email_verified (as the TypeScript listed them).
  SELECT coalesce(jsonb_agg(k ORDER BY o), '[]'::jsonb) INTO v_changed
    FROM unnest(ARRAY['role', 'is_active', 'email_verified']) WITH ORDINALITY AS f(k, o)
   WHERE v_before -> k IS DISTINCT FROM v_after -> k;
  v_requested := array_remove(ARRAY[
    CASE WHEN p_role IS NOT NULL THEN 'role' END,
    CASE WHEN p_is_active IS NOT NULL THEN 'is_active' END,
    CASE WHEN p_email_verified IS NOT NULL THEN 'email_verified' END], NULL);

  IF jsonb_array_length(v_changed) > 0 THEN
    UPDATE users SET role = coalesce(p_role, role), is_active = coalesce(p_is_active, is_active),
                     email_verified = coalesce(p_email_verified, email_verified), updated_at = p_now
     WHERE id = p_user RETURNING * INTO v_target;
    -- Discovery and matching list active coaches only: a coach's role or active flag
    -- changing invalidates every cached match.
    IF (v_before ->> 'role' = 'coach' OR v_after ->> 'role' = 'coach')
       AND (v_changed ? 'role' OR v_changed ? 'is_active') THEN
      INSERT INTO app_counters (name, value) VALUES ('coaches_version', 1)
        ON CONFLICT (name) DO UPDATE SET value = app_counters.value + 1;
    END IF;
  END IF;

  INSERT INTO audit_log (actor_id, action, target_type, target_id, details)
  VALUES (p_actor, 'user.update', 'user', p_user::text, jsonb_build_object(
    'before', (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(v_before) WHERE key = ANY(v_requested)),
    'after', (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(v_after) WHERE key = ANY(v_requested)),
    'changed', v_changed));

  -- Names from one profile, never mixed: the coach profile when there is one, else the client's.
  SELECT p.first_name, p.last_name INTO v_first, v_last FROM coach_profiles p WHERE p.user_id = p_user;
  IF NOT FOUND THEN
    SELECT p.first_name, p.last_name INTO v_first, v_last FROM client_profiles p WHERE p.user_id = p_user;
  END IF;
  RETURN jsonb_build_object('outcome', 'updated', 'user', to_jsonb(v_target) - 'password_hash',
                            'first_name', v_first, 'last_name', v_last,
                            'before', v_before, 'after', v_after, 'changed', v_changed);
END;
$$;
