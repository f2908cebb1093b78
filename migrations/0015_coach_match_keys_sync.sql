-- Hand-written (issue 14): coach_match_keys (0013) as the POST /match pre-rank's covering index.
-- The primary key INCLUDEs every column the pre-rank reads, so that the coaches who know a
-- country are one contiguous run of index tuples (an index-only scan), not thousands of scattered
-- coach_profiles pages. drizzle cannot declare INCLUDE, hence here.
ALTER TABLE coach_match_keys ADD CONSTRAINT coach_match_keys_pkey PRIMARY KEY (country, coach_id)
  INCLUDE (languages, countries, expertise_topics, hourly_rate, rating, total_sessions);
--> statement-breakpoint
-- The pre-rank's scan is index-only only on pages the visibility map marks all-visible: vacuum the
-- table after 2 % of its rows changed (the default 20 % would leave many pages to heap fetches
-- between runs while reviews and completed sessions rewrite coaches' rows).
ALTER TABLE coach_match_keys SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02);
--> statement-breakpoint
-- Kept by triggers, so that every writer of coach_profiles (PUT /profile, admin import, reviews,
-- completed sessions, seeds, tests) keeps the keys right without knowing about them. AFTER: the
-- generated expertise_topics is computed by then. An update rewrites the coach's rows only when a
-- column they copy changed. One row per distinct country of at most 60 characters (no country
-- name is longer; with at most 20 countries, 20 languages and the topic ids every index tuple
-- stays far below btree's ~2.7 kB limit, so no profile write can fail here). Table names are
-- unqualified: a test's private copy of the tables (search_path) gets its own rows.
CREATE OR REPLACE FUNCTION coach_match_keys_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM coach_match_keys WHERE coach_id = OLD.id;
  END IF;
  INSERT INTO coach_match_keys (country, coach_id, languages, countries, expertise_topics, hourly_rate, rating, total_sessions)
  SELECT DISTINCT c.country, NEW.id, NEW.languages,
         ARRAY(SELECT x FROM unnest(NEW.countries) x WHERE length(x) <= 60), NEW.expertise_topics,
         NEW.hourly_rate, NEW.rating, NEW.total_sessions
    FROM unnest(NEW.countries) AS c(country)
   WHERE c.country IS NOT NULL AND length(c.country) <= 60;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER coach_match_keys_insert AFTER INSERT ON coach_profiles
  FOR EACH ROW EXECUTE FUNCTION coach_match_keys_sync();
--> statement-breakpoint
CREATE TRIGGER coach_match_keys_update AFTER UPDATE ON coach_profiles
  FOR EACH ROW WHEN (
    OLD.id IS DISTINCT FROM NEW.id OR OLD.countries IS DISTINCT FROM NEW.countries
    OR OLD.languages IS DISTINCT FROM NEW.languages OR OLD.expertise IS DISTINCT FROM NEW.expertise
    OR OLD.hourly_rate IS DISTINCT FROM NEW.hourly_rate OR OLD.rating IS DISTINCT FROM NEW.rating
    OR OLD.total_sessions IS DISTINCT FROM NEW.total_sessions)
  EXECUTE FUNCTION coach_match_keys_sync();
--> statement-breakpoint
-- Existing coaches (the same rows as the trigger writes).
INSERT INTO coach_match_keys (country, coach_id, languages, countries, expertise_topics, hourly_rate, rating, total_sessions)
SELECT DISTINCT c.country, cp.id, cp.languages,
       ARRAY(SELECT x FROM unnest(cp.countries) x WHERE length(x) <= 60), cp.expertise_topics,
       cp.hourly_rate, cp.rating, cp.total_sessions
  FROM coach_profiles cp CROSS JOIN LATERAL unnest(cp.countries) AS c(country)
 WHERE c.country IS NOT NULL AND length(c.country) <= 60;
