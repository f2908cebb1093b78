-- Hand-written (issue 14): new coach profiles get their coach_list_keys rows in one statement per
-- INSERT, not one per profile.
--
-- Why: since 0021 every statement that adds coach_list_keys rows also updates the totals of their
-- (language, country) ranges, and every coach has a row in the ('', '') range and in its
-- language's ('', country) ranges. The row-level insert trigger of 0018 wrote each new profile's
-- keys with a statement of its own, so a multi-row INSERT of N coaches (the admin CSV import's
-- batches, the seeds, the benchmark market) updated the same few totals rows N times inside one
-- transaction. Each update leaves a row version that no one can prune before the commit, and
-- the next update walks all of them: O(N^2). Seeding 100,000 coaches went from ~10 s to more
-- than 15 minutes of CPU. A statement-level trigger with a transition table adds all the keys of
-- the statement at once, so the totals are updated once per range per INSERT.
--
-- Updates stay row by row (0018's trigger, filtered by WHEN to the columns the keys depend on):
-- the application changes one coach per statement, and a rating or session change updates keys
-- in place without touching the totals (0021). A hand-written UPDATE moving many coaches between
-- ranges in one transaction (languages, countries, or users.is_active for many coaches) still
-- pays the per-row cost: 300 coaches deactivated by one UPDATE write the totals 1,200 times. A
-- DELETE of many coaches is fine: the foreign key's cascade fires the totals' statement trigger
-- once (300 coaches deleted by one statement: 4 writes).

-- The rows coaches should have (0018's definition, unchanged), for many coaches at once.
CREATE OR REPLACE FUNCTION coach_list_keys_wanted_for(p_coaches uuid[])
RETURNS TABLE (coach_id uuid, language text, country text, rating numeric, total_sessions integer)
LANGUAGE sql STABLE AS $$
  SELECT cp.id, l.language, c.country, cp.rating, cp.total_sessions
    FROM coach_profiles cp
    JOIN users u ON u.id = cp.user_id AND u.is_active AND u.role = 'coach'
   CROSS JOIN LATERAL (SELECT '' UNION SELECT x FROM unnest(cp.languages) x WHERE length(x) BETWEEN 1 AND 100) AS l(language)
   CROSS JOIN LATERAL (SELECT '' UNION SELECT x FROM unnest(cp.countries) x WHERE length(x) BETWEEN 1 AND 100) AS c(country)
   WHERE cp.id = ANY (p_coaches) AND cp.hourly_rate IS NOT NULL
$$;
--> statement-breakpoint
-- One coach's rows: the same definition (kept in one place), as 0021's callers read it.
CREATE OR REPLACE FUNCTION coach_list_keys_wanted(p_coach uuid)
RETURNS TABLE (language text, country text, rating numeric, total_sessions integer)
LANGUAGE sql STABLE AS $$
  SELECT w.language, w.country, w.rating, w.total_sessions FROM coach_list_keys_wanted_for(ARRAY[p_coach]) w
$$;
--> statement-breakpoint
-- AFTER INSERT, once per statement: the inserted profiles are new, so they have no rows yet (a
-- profile's rows go with it by the foreign key's cascade) and every wanted row is inserted.
CREATE OR REPLACE FUNCTION coach_list_keys_profiles_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO coach_list_keys (language, country, rating, total_sessions, coach_id)
  SELECT w.language, w.country, w.rating, w.total_sessions, w.coach_id
    FROM coach_list_keys_wanted_for(ARRAY(SELECT id FROM added_profiles)) w;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DROP TRIGGER coach_list_keys_insert ON coach_profiles;
--> statement-breakpoint
CREATE TRIGGER coach_list_keys_insert AFTER INSERT ON coach_profiles
  REFERENCING NEW TABLE AS added_profiles FOR EACH STATEMENT EXECUTE FUNCTION coach_list_keys_profiles_added();
