-- Hand-written (issue 14, GET /coaches at scale): coach_list_totals (0020) kept exact, and the
-- page of a pure language/country filter read without counting and without writing.
--
-- Before, the total of a broad filter was counted once per coaches version and stored in
-- coach_list_counts by the read itself (data-modifying CTEs in every GET). Now every
-- (language, country) range of coach_list_keys has its size in coach_list_totals, kept by
-- statement triggers on coach_list_keys (so every writer, the foreign key's cascades included,
-- keeps it), and a page is one range of ix_coach_list_keys_rank plus the page's profiles.
--
-- What it saves: a backend that serves one request only (no pooler: the Neon serverless driver
-- without Hyperdrive opens a new connection per request) paid the plpgsql library, the
-- function's compilation, and the planning of the count, prune and save CTEs before its first
-- row (pgbench -C at 100,000 coaches: 61.6 ms per connection with the old call, 37.3 for
-- `select 1`); a warm backend re-planned nothing but still ran the count bookkeeping.
--
-- Table names are unqualified: a test's private copy of the tables (search_path) gets its own.
-- The statement triggers only apply deltas, in (language, country) order, so two transactions
-- adding coaches lock the totals rows they share in the same order.
LOCK TABLE coach_list_keys IN SHARE ROW EXCLUSIVE MODE;
--> statement-breakpoint
INSERT INTO coach_list_totals (language, country, coaches)
SELECT language, country, count(*)::int FROM coach_list_keys GROUP BY language, country;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION coach_list_totals_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO coach_list_totals (language, country, coaches)
  SELECT language, country, count(*)::int FROM added_keys GROUP BY language, country ORDER BY language, country
  ON CONFLICT (language, country) DO UPDATE SET coaches = coach_list_totals.coaches + excluded.coaches;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION coach_list_totals_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO coach_list_totals (language, country, coaches)
  SELECT language, country, -count(*)::int FROM removed_keys GROUP BY language, country ORDER BY language, country
  ON CONFLICT (language, country) DO UPDATE SET coaches = coach_list_totals.coaches + excluded.coaches;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- An UPDATE moves a row between totals only if it changes the row's language or country (the
-- write function below never does; a hand-written UPDATE might). Rating and session updates
-- give no difference and write nothing.
CREATE OR REPLACE FUNCTION coach_list_totals_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO coach_list_totals (language, country, coaches)
  SELECT language, country, sum(delta)::int
    FROM (SELECT language, country, 1 AS delta FROM moved_to UNION ALL SELECT language, country, -1 FROM moved_from) d
   GROUP BY language, country HAVING sum(delta) <> 0 ORDER BY language, country
  ON CONFLICT (language, country) DO UPDATE SET coaches = coach_list_totals.coaches + excluded.coaches;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER coach_list_totals_insert AFTER INSERT ON coach_list_keys
  REFERENCING NEW TABLE AS added_keys FOR EACH STATEMENT EXECUTE FUNCTION coach_list_totals_added();
--> statement-breakpoint
CREATE TRIGGER coach_list_totals_delete AFTER DELETE ON coach_list_keys
  REFERENCING OLD TABLE AS removed_keys FOR EACH STATEMENT EXECUTE FUNCTION coach_list_totals_removed();
--> statement-breakpoint
CREATE TRIGGER coach_list_totals_update AFTER UPDATE ON coach_list_keys
  REFERENCING OLD TABLE AS moved_from NEW TABLE AS moved_to FOR EACH STATEMENT EXECUTE FUNCTION coach_list_totals_moved();
--> statement-breakpoint
-- The rows a coach should have (0018's definition, unchanged), as an inlinable SQL function.
CREATE OR REPLACE FUNCTION coach_list_keys_wanted(p_coach uuid)
RETURNS TABLE (language text, country text, rating numeric, total_sessions integer)
LANGUAGE sql STABLE AS $$
  SELECT l.language, c.country, cp.rating, cp.total_sessions
    FROM coach_profiles cp
    JOIN users u ON u.id = cp.user_id AND u.is_active AND u.role = 'coach'
   CROSS JOIN LATERAL (SELECT '' UNION SELECT x FROM unnest(cp.languages) x WHERE length(x) BETWEEN 1 AND 100) AS l(language)
   CROSS JOIN LATERAL (SELECT '' UNION SELECT x FROM unnest(cp.countries) x WHERE length(x) BETWEEN 1 AND 100) AS c(country)
   WHERE cp.id = p_coach AND cp.hourly_rate IS NOT NULL
$$;
--> statement-breakpoint
-- Was: delete all of the coach's rows, insert them again. Now the difference only, so that a
-- review or a completed session (rating, total_sessions) updates rows in place and leaves the
-- totals alone, and only a change of languages, countries or visibility adds or removes rows.
CREATE OR REPLACE FUNCTION coach_list_keys_write(p_coach uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM coach_list_keys k
   WHERE k.coach_id = p_coach
     AND NOT EXISTS (SELECT 1 FROM coach_list_keys_wanted(p_coach) w WHERE w.language = k.language AND w.country = k.country);
  UPDATE coach_list_keys k SET rating = w.rating, total_sessions = w.total_sessions
    FROM coach_list_keys_wanted(p_coach) w
   WHERE k.coach_id = p_coach AND k.language = w.language AND k.country = w.country
     AND (k.rating IS DISTINCT FROM w.rating OR k.total_sessions IS DISTINCT FROM w.total_sessions);
  INSERT INTO coach_list_keys (language, country, rating, total_sessions, coach_id)
  SELECT w.language, w.country, w.rating, w.total_sessions, p_coach
    FROM coach_list_keys_wanted(p_coach) w
   WHERE NOT EXISTS (
     SELECT 1 FROM coach_list_keys k WHERE k.coach_id = p_coach AND k.language = w.language AND k.country = w.country);
END;
$$;
--> statement-breakpoint
-- One page of a pure language/country filter ('' = any) as rows: the total (every row, and one
-- row with a null item when the page is empty), and each coach's list item as JSON text (contract
-- CoachListItem, byte for byte JSON.stringify of it: see 0019) with the list's order keys.
-- LANGUAGE sql, STABLE, one SELECT: Postgres inlines it into the calling statement, so a new
-- backend plans plain SQL (no plpgsql library, no function compilation).
CREATE OR REPLACE FUNCTION coach_list_page_rows(p_language text, p_country text, p_limit integer, p_skip integer)
RETURNS TABLE (total integer, item text, rating float8, sessions integer, coach_id uuid)
LANGUAGE sql STABLE AS $$
  SELECT t.total, row_to_json(p)::text, p.rating, p.total_sessions, p.id
    FROM (SELECT coalesce((SELECT coaches FROM coach_list_totals WHERE language = p_language AND country = p_country), 0) AS total) t
    LEFT JOIN LATERAL (
      SELECT cp.id, cp.user_id, cp.first_name, cp.last_name, cp.photo_url, cp.bio,
             coalesce(cp.expertise, '{}') AS expertise, coalesce(cp.languages, '{}') AS languages,
             coalesce(cp.countries, '{}') AS countries, cp.hourly_rate::float8 AS hourly_rate, cp.currency,
             cp.rating::float8 AS rating, cp.total_sessions, cp.is_verified, cp.review_count
        FROM (SELECT k.coach_id FROM coach_list_keys k
               WHERE k.language = p_language AND k.country = p_country
               ORDER BY k.rating DESC NULLS LAST, k.total_sessions DESC NULLS LAST, k.coach_id
               LIMIT p_limit OFFSET p_skip) k
        JOIN coach_profiles cp ON cp.id = k.coach_id) p ON true
$$;
--> statement-breakpoint
-- The same page as the answer's JSON text, for warm backends (Hyperdrive's pooled connections):
-- a plpgsql function keeps its generic plan for the session, so a call plans nothing (the plain
-- statement costs ~1 ms of planning per call: pgbench at 100,000 coaches, 1,600 calls/s against
-- 8,000 for the function).
CREATE OR REPLACE FUNCTION coach_list_page(p_language text, p_country text, p_limit integer, p_skip integer)
RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  v_total integer;
  v_items text;
BEGIN
  SELECT max(r.total), string_agg(r.item, ',' ORDER BY r.rating DESC, r.sessions DESC, r.coach_id)
    INTO v_total, v_items
    FROM coach_list_page_rows(p_language, p_country, p_limit, p_skip) r;
  RETURN '{"items":[' || coalesce(v_items, '') || '],"total":' || v_total || ',"skip":' || p_skip || ',"limit":' || p_limit || '}';
END;
$$;
--> statement-breakpoint
-- coach_list_json (0019) is no longer called by this code; it stays for the Worker version that
-- is live while this migration runs (expand, then contract): drop it in a later migration.
COMMENT ON FUNCTION coach_list_json(text, text, varchar, integer, integer, integer) IS
  'unused since migration 0021 (coach_list_page); kept for the Worker deployed before it; drop later';
