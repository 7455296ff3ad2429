CREATE TABLE "phishing_resistant_rules" (
	"scope" text PRIMARY KEY NOT NULL,
	"organization_id" uuid,
	"required" boolean NOT NULL,
	"grace_period_seconds" integer NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"updated_by" text NOT NULL,
	CONSTRAINT "phishing_resistant_rules_scope_check" CHECK (("phishing_resistant_rules"."organization_id" is null and "phishing_resistant_rules"."scope" = 'every_organization') or "phishing_resistant_rules"."scope" = "phishing_resistant_rules"."organization_id"::text),
	CONSTRAINT "phishing_resistant_rules_grace_check" CHECK ("phishing_resistant_rules"."grace_period_seconds" >= 0)
);
--> statement-breakpoint
ALTER TABLE "phishing_resistant_rules" ADD CONSTRAINT "phishing_resistant_rules_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;