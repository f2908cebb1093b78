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
ALTER TABLE "coach_profiles" ADD CONSTRAINT "coach_profiles_stripe_account_id_key" UNIQUE("stripe_account_id");