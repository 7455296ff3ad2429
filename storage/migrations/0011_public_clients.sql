ALTER TABLE "oidc_clients" ADD COLUMN "token_endpoint_auth_method" text DEFAULT 'client_secret_basic' NOT NULL;--> statement-breakpoint
ALTER TABLE "oidc_clients" ADD COLUMN "jwks" jsonb;--> statement-breakpoint
ALTER TABLE "oidc_clients" ADD COLUMN "jwks_uri" text;--> statement-breakpoint
ALTER TABLE "oidc_clients" ADD COLUMN "allow_refresh" boolean DEFAULT false NOT NULL;