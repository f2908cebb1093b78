CREATE TABLE "coach_match_keys" (
	"country" text NOT NULL,
	"coach_id" uuid NOT NULL,
	"languages" text[] NOT NULL,
	"countries" text[] NOT NULL,
	"expertise_topics" text[] NOT NULL,
	"hourly_rate" numeric(10, 2),
	"rating" numeric(3, 2) NOT NULL,
	"total_sessions" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "coach_match_keys" ADD CONSTRAINT "coach_match_keys_coach_id_coach_profiles_id_fk" FOREIGN KEY ("coach_id") REFERENCES "public"."coach_profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ix_coach_match_keys_coach" ON "coach_match_keys" USING btree ("coach_id");