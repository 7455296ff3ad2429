ALTER TABLE "oidc_clients" ALTER COLUMN "client_secret" DROP NOT NULL;--> statement-breakpoint
-- Public (none) and private_key_jwt clients never use a secret: drop the random one they were given.
UPDATE "oidc_clients" SET "client_secret" = NULL WHERE "token_endpoint_auth_method" IN ('none', 'private_key_jwt');
