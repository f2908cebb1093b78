-- Hand-written: the booking writes as Postgres functions, so that each write is ONE
-- parameterised statement (one round trip, its own implicit transaction) instead of
-- BEGIN / SELECT ... FOR UPDATE / ... / COMMIT with a round trip per statement
-- (issue 14). The rules that need the coach's wall clock (availability, in the
-- coach's time zone) stay in TypeScript and run before the call; everything that
-- must hold under concurrency is decided here, under the locks:
--
--  * booking_lock_parties: per-coach, then per-client transaction advisory locks,
--    always in that order (no lock cycle). Creating and rescheduling a booking of
--    one coach are serialised, so a race is decided by the overlap pre-check with
--    its reason instead of by deadlocks between exclusion-constraint checks.
--    The exclusion constraints (0001) stay the final word.
--  * In READ COMMITTED each statement of a PL/pgSQL function takes a new snapshot,
--    so the statements after the lock see what the previous lock holder committed.
--
-- Outcomes are returned as jsonb {outcome: ...}; the caller turns them into the
-- contract's answers (409 with a reason, 400, 404).

CREATE OR REPLACE FUNCTION booking_lock_parties(p_coach uuid, p_client uuid) RETURNS void
LANGUAGE sql VOLATILE AS $$
  SELECT pg_advisory_xact_lock(1001, hashtext(p_coach::text)), pg_advisory_xact_lock(1002, hashtext(p_client::text));
$$;
--> statement-breakpoint
-- Outbox rows for emails composed by the caller ([{to, subject, text}]); returns their ids for dispatch.
CREATE OR REPLACE FUNCTION booking_record_emails(p_emails jsonb) RETURNS jsonb
LANGUAGE sql VOLATILE AS $$
  WITH inserted AS (
    INSERT INTO email_outbox (to_address, subject, body)
    SELECT lower(e->>'to'), e->>'subject', e->>'text' FROM jsonb_array_elements(coalesce(p_emails, '[]'::jsonb)) AS e
    RETURNING id)
  SELECT coalesce(jsonb_agg(id), '[]'::jsonb) FROM inserted;
$$;
--> statement-breakpoint
-- The first pending/confirmed booking (other than p_except) that overlaps [p_start, p_end)
-- for the coach or the client: 'coach_slot_taken', 'client_overlap' or NULL.
CREATE OR REPLACE FUNCTION booking_clash(p_coach uuid, p_client uuid, p_start timestamptz, p_end timestamptz, p_except uuid)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN b.coach_id = p_coach THEN 'coach_slot_taken' ELSE 'client_overlap' END
    FROM bookings b
   WHERE (b.coach_id = p_coach OR b.client_id = p_client)
     AND b.status IN ('pending', 'confirmed')
     AND (p_except IS NULL OR b.id <> p_except)
     AND booking_period(b.session_datetime, b.duration_minutes) && tstzrange(p_start, p_end, '[)')
   ORDER BY (b.coach_id = p_coach) DESC
   LIMIT 1;
$$;
--> statement-breakpoint
-- Unpaid bookings a client holds: pending or confirmed, no succeeded payment, not yet ended
-- (contract v2: unpaid confirmed bookings count toward the cap until paid or ended).
CREATE OR REPLACE FUNCTION booking_unpaid_holds(p_client uuid, p_now timestamptz) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT count(*)::int FROM bookings b
   WHERE b.client_id = p_client
     AND b.status IN ('pending', 'confirmed')
     AND b.session_datetime + make_interval(mins => b.duration_minutes) > p_now
     AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = b.id AND p.status = 'succeeded');
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION booking_create(
  p_client uuid, p_coach uuid, p_start timestamptz, p_minutes integer, p_notes text, p_now timestamptz,
  p_max_unpaid integer, p_max_unpaid_unverified integer)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_verified boolean;
  v_limit integer;
  v_unpaid integer;
  v_clash text;
  v_row bookings;
BEGIN
  PERFORM booking_lock_parties(p_coach, p_client);
  SELECT email_verified INTO v_verified FROM users WHERE id = p_client;
  v_verified := coalesce(v_verified, false);
  v_limit := CASE WHEN v_verified THEN p_max_unpaid ELSE p_max_unpaid_unverified END;
  v_unpaid := booking_unpaid_holds(p_client, p_now);
  IF v_unpaid >= v_limit THEN
    RETURN jsonb_build_object('outcome', 'too_many_unpaid', 'unpaid', v_unpaid, 'limit', v_limit, 'email_verified', v_verified);
  END IF;
  v_clash := booking_clash(p_coach, p_client, p_start, p_start + make_interval(mins => p_minutes), NULL);
  IF v_clash IS NOT NULL THEN
    RETURN jsonb_build_object('outcome', v_clash);
  END IF;
  INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes, notes, status, created_at, updated_at)
  VALUES (p_client, p_coach, p_start, p_minutes, p_notes, 'pending', p_now, p_now)
  RETURNING * INTO v_row;
  RETURN jsonb_build_object('outcome', 'created', 'booking', to_jsonb(v_row));
END;
$$;
--> statement-breakpoint
-- Moves a pending/confirmed booking (the same row: the old slot is freed by the same update).
-- p_expected_start is the start the caller read (and wrote its emails for): a booking moved
-- meanwhile is 'changed'. Clients must reschedule >= p_client_notice before the current start.
CREATE OR REPLACE FUNCTION booking_reschedule(
  p_booking uuid, p_expected_start timestamptz, p_start timestamptz, p_by uuid, p_by_role user_role,
  p_now timestamptz, p_client_notice interval, p_emails jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_old bookings;
  v_new bookings;
  v_clash text;
BEGIN
  SELECT * INTO v_old FROM bookings WHERE id = p_booking;
  IF NOT FOUND THEN RETURN jsonb_build_object('outcome', 'not_found'); END IF;
  PERFORM booking_lock_parties(v_old.coach_id, v_old.client_id);
  SELECT * INTO v_old FROM bookings WHERE id = p_booking FOR UPDATE;
  IF v_old.status NOT IN ('pending', 'confirmed') THEN
    RETURN jsonb_build_object('outcome', 'bad_status', 'status', v_old.status);
  END IF;
  IF v_old.session_datetime <> p_expected_start THEN
    RETURN jsonb_build_object('outcome', 'changed');
  END IF;
  IF p_by_role = 'client' AND v_old.session_datetime - p_now < p_client_notice THEN
    RETURN jsonb_build_object('outcome', 'too_late', 'session_datetime', v_old.session_datetime);
  END IF;
  v_clash := booking_clash(v_old.coach_id, v_old.client_id, p_start,
                           p_start + make_interval(mins => v_old.duration_minutes), p_booking);
  IF v_clash IS NOT NULL THEN
    RETURN jsonb_build_object('outcome', v_clash);
  END IF;
  UPDATE bookings SET session_datetime = p_start, sequence = sequence + 1, updated_at = p_now
   WHERE id = p_booking RETURNING * INTO v_new;
  INSERT INTO booking_reschedules (booking_id, old_session_datetime, new_session_datetime, rescheduled_by, rescheduled_by_role, created_at)
  VALUES (p_booking, v_old.session_datetime, p_start, p_by, p_by_role, p_now);
  RETURN jsonb_build_object('outcome', 'rescheduled', 'booking', to_jsonb(v_new), 'email_ids', booking_record_emails(p_emails));
END;
$$;
--> statement-breakpoint
-- Status changes other than cancellation, from the status the caller read (else 'changed'):
--   pending -> confirmed: the meeting link is the given one, else the existing one, else p_generated_link;
--   confirmed -> confirmed: only the meeting link changes (the coach replaces it);
--   confirmed -> completed: once ended; total_sessions + 1 only for a paid session (contract v2),
--   with the coaches version bumped (it keys the match cache).
CREATE OR REPLACE FUNCTION booking_set_status(
  p_booking uuid, p_expected_status booking_status, p_to booking_status, p_link text, p_generated_link text,
  p_now timestamptz, p_emails jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_old bookings;
  v_new bookings;
  v_paid boolean := false;
BEGIN
  SELECT * INTO v_old FROM bookings WHERE id = p_booking FOR UPDATE;
  IF NOT FOUND THEN RETURN jsonb_build_object('outcome', 'not_found'); END IF;
  IF v_old.status <> p_expected_status THEN RETURN jsonb_build_object('outcome', 'changed'); END IF;
  IF p_to = 'confirmed' AND v_old.status = 'pending' THEN
    UPDATE bookings SET status = 'confirmed', meeting_link = coalesce(p_link, meeting_link, p_generated_link),
           sequence = sequence + 1, updated_at = p_now
     WHERE id = p_booking RETURNING * INTO v_new;
  ELSIF p_to = 'confirmed' AND v_old.status = 'confirmed' AND p_link IS NOT NULL THEN
    UPDATE bookings SET meeting_link = p_link, sequence = sequence + 1, updated_at = p_now
     WHERE id = p_booking RETURNING * INTO v_new;
  ELSIF p_to = 'completed' AND v_old.status = 'confirmed'
        AND v_old.session_datetime + make_interval(mins => v_old.duration_minutes) <= p_now THEN
    UPDATE bookings SET status = 'completed', sequence = sequence + 1, updated_at = p_now
     WHERE id = p_booking RETURNING * INTO v_new;
    v_paid := EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = p_booking AND p.status = 'succeeded');
    IF v_paid THEN
      UPDATE coach_profiles SET total_sessions = total_sessions + 1, updated_at = p_now WHERE user_id = v_old.coach_id;
      INSERT INTO app_counters (name, value) VALUES ('coaches_version', 1)
        ON CONFLICT (name) DO UPDATE SET value = app_counters.value + 1;
    END IF;
  ELSE
    RETURN jsonb_build_object('outcome', 'invalid', 'status', v_old.status);
  END IF;
  RETURN jsonb_build_object('outcome', 'updated', 'booking', to_jsonb(v_new), 'counted_session', v_paid,
                            'email_ids', booking_record_emails(p_emails));
END;
$$;
--> statement-breakpoint
-- Cancellation (the database part; refunds are made through Stripe after this commits).
-- From the status and the succeeded payments the caller read (else 'changed'): the booking
-- is cancelled (SEQUENCE + 1), open checkouts are failed (their Stripe sessions are expired
-- after commit), and when a refund is due the paid payments are marked 'refund requested'
-- (the intent: the refund call after commit, its retry, or charge.refunded completes it).
CREATE OR REPLACE FUNCTION booking_cancel(
  p_booking uuid, p_expected_status booking_status, p_expected_paid uuid[], p_refund_due boolean,
  p_now timestamptz, p_emails jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_old bookings;
  v_new bookings;
  v_paid uuid[];
  v_expire jsonb;
  v_refunds jsonb := '[]'::jsonb;
BEGIN
  SELECT * INTO v_old FROM bookings WHERE id = p_booking FOR UPDATE;
  IF NOT FOUND THEN RETURN jsonb_build_object('outcome', 'not_found'); END IF;
  IF v_old.status NOT IN ('pending', 'confirmed') THEN
    RETURN jsonb_build_object('outcome', 'bad_status', 'status', v_old.status);
  END IF;
  SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO v_paid
    FROM (SELECT id FROM payments WHERE booking_id = p_booking AND status = 'succeeded' FOR UPDATE) AS paid;
  IF v_old.status <> p_expected_status
     OR v_paid <> coalesce((SELECT array_agg(x ORDER BY x) FROM unnest(p_expected_paid) AS x), '{}') THEN
    RETURN jsonb_build_object('outcome', 'changed');
  END IF;
  UPDATE bookings SET status = 'cancelled', sequence = sequence + 1, updated_at = p_now
   WHERE id = p_booking RETURNING * INTO v_new;
  WITH failed AS (
    UPDATE payments SET status = 'failed', flag_reason = 'booking cancelled before payment', updated_at = p_now
     WHERE booking_id = p_booking AND status = 'pending'
    RETURNING stripe_session_id, expires_at)
  SELECT coalesce(jsonb_agg(stripe_session_id), '[]'::jsonb) INTO v_expire
    FROM failed WHERE stripe_session_id IS NOT NULL AND (expires_at IS NULL OR expires_at > p_now);
  IF p_refund_due THEN
    WITH requested AS (
      UPDATE payments SET flag_reason = 'refund requested', updated_at = p_now
       WHERE booking_id = p_booking AND status = 'succeeded'
      RETURNING id, stripe_payment_intent_id)
    SELECT coalesce(jsonb_agg(jsonb_build_object('payment_id', id, 'payment_intent_id', stripe_payment_intent_id)), '[]'::jsonb)
      INTO v_refunds FROM requested;
  END IF;
  RETURN jsonb_build_object('outcome', 'cancelled', 'booking', to_jsonb(v_new), 'expire_sessions', v_expire,
                            'refunds', v_refunds, 'email_ids', booking_record_emails(p_emails));
END;
$$;
