-- Hand-written (issue 14, GET /coaches at scale): coach_list_keys (0017) kept exact by triggers,
-- as coach_match_keys is (0015), so that every writer of coach_profiles or users (PUT /profile,
-- admin import and user PATCH, reviews, completed sessions, account deletion, seeds, tests)
-- keeps the list's keys right without knowing about them.
--
-- A coach has rows only while visible in discovery: an active user of role coach with an hourly
-- rate (the list's own conditions). Rows: every (language, country) of the coach, each side also
-- '' ("any"), distinct, values of 1..100 characters only (the API accepts filter values of at
-- most 100 characters, so a longer value can never be asked for; '' is never a filter value).
-- Table names are unqualified: a test's private copy of the tables (search_path) gets its own rows.
CREATE OR REPLACE FUNCTION coach_list_keys_write(p_coach uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM coach_list_keys WHERE coach_id = p_coach;
  INSERT INTO coach_list_keys (language, country, rating, total_sessions, coach_id)
  SELECT l.language, c.country, cp.rating, cp.total_sessions, cp.id
    FROM coach_profiles cp
    JOIN users u ON u.id = cp.user_id AND u.is_active AND u.role = 'coach'
   CROSS JOIN LATERAL (SELECT '' UNION SELECT x FROM unnest(cp.languages) x WHERE length(x) BETWEEN 1 AND 100) AS l(language)
   CROSS JOIN LATERAL (SELECT '' UNION SELECT x FROM unnest(cp.countries) x WHERE length(x) BETWEEN 1 AND 100) AS c(country)
   WHERE cp.id = p_coach AND cp.hourly_rate IS NOT NULL;
END;
$$;
--> statement-breakpoint
-- AFTER: the row as written is what the function reads. An update rewrites the coach's rows only
-- when something they depend on changed (not for a bio, a photo, availability, Stripe flags ...).
CREATE OR REPLACE FUNCTION coach_list_keys_profile_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.id IS DISTINCT FROM NEW.id THEN
    DELETE FROM coach_list_keys WHERE coach_id = OLD.id;
  END IF;
  PERFORM coach_list_keys_write(NEW.id);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER coach_list_keys_insert AFTER INSERT ON coach_profiles
  FOR EACH ROW EXECUTE FUNCTION coach_list_keys_profile_sync();
--> statement-breakpoint
CREATE TRIGGER coach_list_keys_update AFTER UPDATE ON coach_profiles
  FOR EACH ROW WHEN (
    OLD.id IS DISTINCT FROM NEW.id OR OLD.user_id IS DISTINCT FROM NEW.user_id
    OR OLD.languages IS DISTINCT FROM NEW.languages OR OLD.countries IS DISTINCT FROM NEW.countries
    OR (OLD.hourly_rate IS NULL) <> (NEW.hourly_rate IS NULL)
    OR OLD.rating IS DISTINCT FROM NEW.rating OR OLD.total_sessions IS DISTINCT FROM NEW.total_sessions)
  EXECUTE FUNCTION coach_list_keys_profile_sync();
--> statement-breakpoint
-- A delete of the profile (or of its user, by cascade) removes the rows by the foreign key's cascade.
-- A user who becomes (in)active or changes role shows or hides their coach profile.
CREATE OR REPLACE FUNCTION coach_list_keys_user_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  profile uuid;
BEGIN
  FOR profile IN SELECT id FROM coach_profiles WHERE user_id = NEW.id LOOP
    PERFORM coach_list_keys_write(profile);
  END LOOP;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER coach_list_keys_user_update AFTER UPDATE ON users
  FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.role IS DISTINCT FROM NEW.role)
  EXECUTE FUNCTION coach_list_keys_user_sync();
--> statement-breakpoint
-- Existing coaches (the same rows as the function writes).
INSERT INTO coach_list_keys (language, country, rating, total_sessions, coach_id)
SELECT l.language, c.country, cp.rating, cp.total_sessions, cp.id
  FROM coach_profiles cp
  JOIN users u ON u.id = cp.user_id AND u.is_active AND u.role = 'coach'
 CROSS JOIN LATERAL (SELECT '' UNION SELECT x FROM unnest(cp.languages) x WHERE length(x) BETWEEN 1 AND 100) AS l(language)
 CROSS JOIN LATERAL (SELECT '' UNION SELECT x FROM unnest(cp.countries) x WHERE length(x) BETWEEN 1 AND 100) AS c(country)
 WHERE cp.hourly_rate IS NOT NULL;
--> statement-breakpoint
-- Index-only scans need all-visible pages: vacuum after 2 % of the rows changed (reviews and
-- completed sessions rewrite a coach's rows), as for coach_match_keys.
ALTER TABLE coach_list_keys SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02);
