ALTER TABLE "oidc_clients" ADD COLUMN "service_organization_id" uuid;--> statement-breakpoint
ALTER TABLE "oidc_clients" ADD COLUMN "service_functions" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "oidc_clients" ADD COLUMN "served_resources" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "oidc_clients" ADD CONSTRAINT "oidc_clients_service_organization_id_organizations_id_fk" FOREIGN KEY ("service_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;