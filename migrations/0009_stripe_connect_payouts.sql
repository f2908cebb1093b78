ALTER TABLE "payments" ALTER COLUMN "received_amount" SET DATA TYPE numeric(12, 3);--> statement-breakpoint
ALTER TABLE "coach_profiles" ADD COLUMN "stripe_account_id" varchar(255);--> statement-breakpoint
ALTER TABLE "coach_profiles" ADD COLUMN "stripe_charges_enabled" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "coach_profiles" ADD COLUMN "stripe_payouts_enabled" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "coach_profiles" ADD COLUMN "stripe_details_submitted" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "coach_profiles" ADD COLUMN "stripe_account_synced_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "platform_fee" numeric(12, 3);--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "coach_amount" numeric(12, 3);--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "destination_account" varchar(255);--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "refund_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "coach_profiles" ADD CONSTRAINT "coach_profiles_stripe_account_id_key" UNIQUE("stripe_account_id");--> statement-breakpoint
-- Optimistic writes of the payment paths (webhook, checkout): a statement whose
-- guard found the row changed since it was read calls this to abort itself
-- (everything it wrote is rolled back) with SQLSTATE 40001, which the service
-- answers by reading again and re-deciding. Used from a SELECT list, so it returns a value.
CREATE OR REPLACE FUNCTION cb_write_conflict(message text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = message;
END;
$$;
--> statement-breakpoint
-- Payments made before the split existed: the default fee (15 %), the rest owed to the coach.
UPDATE payments
   SET platform_fee = round(amount * 0.15, 2),
       coach_amount = amount - round(amount * 0.15, 2)
 WHERE platform_fee IS NULL;

--> statement-breakpoint
-- Cancellation, redefined for payouts (the database part; refunds are made through Stripe after this commits).
-- From the status and the succeeded payments the caller read (else 'changed'): the booking
-- is cancelled (SEQUENCE + 1), open checkouts are failed (their Stripe sessions are expired
-- after commit), and when a refund is due the paid payments get refund_requested_at (the
-- intent: the refund call after the response, the cron job's retry with the same idempotency
-- key, or charge.refunded completes it; a paid payment without a payment intent is flagged).
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
  v_unrefundable int := 0;
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
    UPDATE payments SET flag_reason = 'refund due but no payment intent id', updated_at = p_now
     WHERE booking_id = p_booking AND status = 'succeeded' AND stripe_payment_intent_id IS NULL;
    GET DIAGNOSTICS v_unrefundable = ROW_COUNT;
    WITH requested AS (
      UPDATE payments SET refund_requested_at = p_now, updated_at = p_now
       WHERE booking_id = p_booking AND status = 'succeeded' AND stripe_payment_intent_id IS NOT NULL
      RETURNING id, stripe_payment_intent_id, destination_account)
    SELECT coalesce(jsonb_agg(jsonb_build_object('payment_id', id, 'payment_intent_id', stripe_payment_intent_id,
                                                 'destination_account', destination_account)), '[]'::jsonb)
      INTO v_refunds FROM requested;
  END IF;
  RETURN jsonb_build_object('outcome', 'cancelled', 'booking', to_jsonb(v_new), 'expire_sessions', v_expire,
                            'refunds', v_refunds, 'unrefundable', v_unrefundable, 'email_ids', booking_record_emails(p_emails));
END;
$$;

