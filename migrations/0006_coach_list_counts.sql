CREATE TABLE "coach_list_counts" (
	"filter_key" varchar(64) PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL,
	"total" integer NOT NULL
);
