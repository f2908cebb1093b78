CREATE TABLE "coach_list_totals" (
	"language" text NOT NULL,
	"country" text NOT NULL,
	"coaches" integer NOT NULL,
	CONSTRAINT "coach_list_totals_language_country_pk" PRIMARY KEY("language","country")
);
