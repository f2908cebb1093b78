CREATE TABLE "coach_list_keys" (
	"language" text NOT NULL,
	"country" text NOT NULL,
	"rating" numeric(3, 2) NOT NULL,
	"total_sessions" integer NOT NULL,
	"coach_id" uuid NOT NULL
);
--> statement-breakpoint
ALTER TABLE "coach_list_keys" ADD CONSTRAINT "coach_list_keys_coach_id_coach_profiles_id_fk" FOREIGN KEY ("coach_id") REFERENCES "public"."coach_profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ix_coach_list_keys_rank" ON "coach_list_keys" USING btree ("language","country","rating" DESC NULLS LAST,"total_sessions" DESC NULLS LAST,"coach_id");--> statement-breakpoint
CREATE INDEX "ix_coach_list_keys_coach" ON "coach_list_keys" USING btree ("coach_id","language","country");