-- GET /coaches `q` (contract v2): the words of a coach's name, bio and expertise as one tsvector.
-- An IMMUTABLE function so that it can be indexed (ix_coach_profiles_search, next migration):
-- array_to_string is only STABLE in general (element output functions may be), but for text[]
-- its result depends on the input alone. 'simple' configuration: no stemming, no stop words, so
-- names and words in any language match as written (prefix matching is done by the query).
CREATE OR REPLACE FUNCTION coach_search_vector(first_name text, last_name text, bio text, expertise text[])
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT to_tsvector('simple'::regconfig,
    coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(bio, '') || ' '
      || coalesce(array_to_string(expertise, ' '), ''))
$$;
