-- Hand-written: drizzle cannot declare exclusion constraints.
-- No two pending/confirmed bookings of the same coach, nor of the same client,
-- may overlap in time. Enforced by the database so that it holds under
-- concurrency; a violation is SQLSTATE 23P01, answered as 409 CONFLICT.
CREATE EXTENSION IF NOT EXISTS btree_gist;
--> statement-breakpoint
-- Adding minutes to a timestamptz does not depend on the session time zone
-- (only day/month arithmetic does), so the function is truly IMMUTABLE and
-- may be used in an index expression.
CREATE OR REPLACE FUNCTION booking_period(start_at timestamptz, minutes integer)
RETURNS tstzrange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT tstzrange(start_at, start_at + make_interval(mins => minutes), '[)') $$;
--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_coach_no_overlap"
  EXCLUDE USING gist ("coach_id" WITH =, booking_period("session_datetime", "duration_minutes") WITH &&)
  WHERE ("status" IN ('pending', 'confirmed'));
--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_client_no_overlap"
  EXCLUDE USING gist ("client_id" WITH =, booking_period("session_datetime", "duration_minutes") WITH &&)
  WHERE ("status" IN ('pending', 'confirmed'));
--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_duration_check" CHECK ("duration_minutes" IN (30, 60, 90));
--> statement-breakpoint
ALTER TABLE "coach_profiles" ADD CONSTRAINT "coach_profiles_rate_check" CHECK ("hourly_rate" IS NULL OR "hourly_rate" BETWEEN 25 AND 500);
--> statement-breakpoint
ALTER TABLE "coach_profiles" ADD CONSTRAINT "coach_profiles_rating_check" CHECK ("rating" BETWEEN 0 AND 5);
--> statement-breakpoint
ALTER TABLE "posts" ADD CONSTRAINT "posts_upvotes_check" CHECK ("upvotes" >= 0);
