ALTER TABLE "signing_keys" ADD COLUMN "sign_from" timestamp with time zone;--> statement-breakpoint
UPDATE "signing_keys" SET "sign_from" = "created_at";--> statement-breakpoint
ALTER TABLE "signing_keys" ALTER COLUMN "sign_from" SET NOT NULL;
