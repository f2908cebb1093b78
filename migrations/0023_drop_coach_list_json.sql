-- Hand-written (issue 14): the contract step of 0021's expand/contract. coach_list_json (0019)
-- has not been called since 0021 (pure filters read coach_list_page / coach_list_page_rows, the
-- others coachListSql's own statement); 0021 kept it for the Worker version that was live while
-- that migration ran. That version is gone (0021 and its Worker shipped together in stop 23),
-- so the function goes.
DROP FUNCTION IF EXISTS coach_list_json(text, text, varchar, integer, integer, integer);
