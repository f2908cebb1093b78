-- Hand-written: POST /booking in ONE statement when the Worker already knows the coach (issue 14).
--
-- booking_create() (0008) is the second of two round trips: the Worker first reads the bookable
-- coach (active, role coach, profile with an hourly rate, its availability and payout flags) and
-- judges the session against the availability on the coach's wall clock (one implementation, in
-- TypeScript, shared with the free-slot listing). The Worker keeps what it read of a coach for a
-- short while (services/bookable-coach-memo.ts); with that it runs its checks and calls this
-- function directly. The function re-reads the same facts inside the transaction and answers
-- 'coach_changed' unless they are exactly what the Worker judged by (availability compared as
-- jsonb, i.e. by value), in which case the Worker forgets the coach and takes the two-round-trip
-- path. A stale memo therefore costs one extra round trip, never a wrong booking.
--
-- Returns booking_create()'s outcomes, or {outcome: 'coach_changed'}.
CREATE OR REPLACE FUNCTION booking_create_known_coach(
  p_client uuid, p_coach uuid, p_availability jsonb, p_require_payouts boolean,
  p_start timestamptz, p_minutes integer, p_notes text, p_now timestamptz,
  p_max_unpaid integer, p_max_unpaid_unverified integer)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1
     FROM users u
     JOIN coach_profiles cp ON cp.user_id = u.id
    WHERE u.id = p_coach
      AND u.role = 'coach'
      AND u.is_active
      AND cp.hourly_rate IS NOT NULL
      AND cp.availability = p_availability
      AND (NOT p_require_payouts OR (cp.stripe_charges_enabled AND cp.stripe_payouts_enabled));
  IF NOT FOUND THEN
    RETURN jsonb_build_object('outcome', 'coach_changed');
  END IF;
  RETURN booking_create(p_client, p_coach, p_start, p_minutes, p_notes, p_now, p_max_unpaid, p_max_unpaid_unverified);
END;
$$;
