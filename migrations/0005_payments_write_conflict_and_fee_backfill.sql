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
