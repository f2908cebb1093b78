-- Hand-written (issue 14, GET /coaches at scale): the list statement of a pure language and/or
-- country filter (src/services/coaches.ts, coachListSql's `pure` branch), as a function so that a
-- warm backend (a pooler's, Hyperdrive's) plans it once per session instead of parsing and
-- planning ~2 kB of SQL with five CTEs on every request, and returning the answer's JSON text
-- (contract CoachPage, byte for byte what JSON.stringify of the page gives: row_to_json is compact
-- and escapes as JSON.stringify does; numerics leave as float8, whose shortest output is
-- JavaScript's number text for these scales), so that the Worker neither parses 15 columns of
-- 15-25 rows nor serialises them again. test/integration/coach-list-keys.test.ts compares the
-- bytes with JSON.stringify of the rows, and the totals and order with the plain query.
--
-- Same steps as coachListSql (ver, hit, counted, pruned, saved, the page): the total is exact,
-- stored per coaches version in coach_list_counts above p_threshold matches. Generic plans: the
-- plan is the same for every key (an index range of ix_coach_list_keys_rank, then the page's
-- profiles by primary key), and custom plans would plan again on every call.
CREATE OR REPLACE FUNCTION coach_list_json(
  p_language text, p_country text, p_filter_key varchar, p_threshold integer, p_limit integer, p_skip integer
) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  v_total bigint;
  v_items text;
BEGIN
  WITH ver AS (SELECT coalesce((SELECT value FROM app_counters WHERE name = 'coaches_version'), 0) AS v),
  hit AS (SELECT total FROM coach_list_counts WHERE filter_key = p_filter_key AND version = (SELECT v FROM ver)),
  counted AS (
    SELECT count(*) AS n FROM coach_list_keys k
     WHERE k.language = p_language AND k.country = p_country AND NOT EXISTS (SELECT 1 FROM hit)),
  pruned AS (
    DELETE FROM coach_list_counts
     WHERE version < (SELECT v FROM ver) AND filter_key <> p_filter_key AND (SELECT n FROM counted) > p_threshold
    RETURNING 1),
  saved AS (
    INSERT INTO coach_list_counts (filter_key, version, total)
    SELECT p_filter_key, (SELECT v FROM ver), (SELECT n FROM counted)::int WHERE (SELECT n FROM counted) > p_threshold
    ON CONFLICT (filter_key) DO UPDATE SET version = excluded.version, total = excluded.total
      WHERE coach_list_counts.version < excluded.version
    RETURNING 1),
  page_rows AS (
    SELECT cp.id, cp.user_id, cp.first_name, cp.last_name, cp.photo_url, cp.bio,
           coalesce(cp.expertise, '{}') AS expertise, coalesce(cp.languages, '{}') AS languages,
           coalesce(cp.countries, '{}') AS countries, cp.hourly_rate::float8 AS hourly_rate, cp.currency,
           cp.rating::float8 AS rating, cp.total_sessions, cp.is_verified, cp.review_count
      FROM (SELECT k.coach_id FROM coach_list_keys k
             WHERE k.language = p_language AND k.country = p_country
             ORDER BY k.rating DESC NULLS LAST, k.total_sessions DESC NULLS LAST, k.coach_id
             LIMIT p_limit OFFSET p_skip) k
      JOIN coach_profiles cp ON cp.id = k.coach_id)
  SELECT coalesce((SELECT total FROM hit), (SELECT n FROM counted)),
         (SELECT string_agg(row_to_json(p)::text, ',' ORDER BY p.rating DESC, p.total_sessions DESC, p.id) FROM page_rows p)
    INTO v_total, v_items;
  RETURN '{"items":[' || coalesce(v_items, '') || '],"total":' || v_total || ',"skip":' || p_skip || ',"limit":' || p_limit || '}';
END;
$$;
