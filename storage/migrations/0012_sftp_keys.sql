CREATE TABLE "sftp_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"algorithm" text NOT NULL,
	"bits" integer NOT NULL,
	"fingerprint" text NOT NULL,
	"public_key" text NOT NULL,
	"comment" text DEFAULT '' NOT NULL,
	"added_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"last_used_ip" text,
	"disabled_at" timestamp with time zone,
	"removed_at" timestamp with time zone,
	"added_by_request_id" uuid,
	"removed_by_request_id" uuid
);
--> statement-breakpoint
CREATE TABLE "sftp_source_ranges" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"cidr" text NOT NULL,
	"comment" text DEFAULT '' NOT NULL,
	"added_at" timestamp with time zone NOT NULL,
	"removed_at" timestamp with time zone,
	"added_by_request_id" uuid,
	"removed_by_request_id" uuid
);
--> statement-breakpoint
ALTER TABLE "change_requests" DROP CONSTRAINT "change_requests_type_check";--> statement-breakpoint
ALTER TABLE "sftp_keys" ADD CONSTRAINT "sftp_keys_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sftp_source_ranges" ADD CONSTRAINT "sftp_source_ranges_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sftp_keys_account_id_idx" ON "sftp_keys" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "sftp_keys_fingerprint_idx" ON "sftp_keys" USING btree ("fingerprint");--> statement-breakpoint
CREATE UNIQUE INDEX "sftp_keys_account_fingerprint_key" ON "sftp_keys" USING btree ("account_id","fingerprint") WHERE "sftp_keys"."removed_at" is null and "sftp_keys"."disabled_at" is null;--> statement-breakpoint
CREATE INDEX "sftp_source_ranges_account_id_idx" ON "sftp_source_ranges" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sftp_source_ranges_account_cidr_key" ON "sftp_source_ranges" USING btree ("account_id","cidr") WHERE "sftp_source_ranges"."removed_at" is null;--> statement-breakpoint
ALTER TABLE "change_requests" ADD CONSTRAINT "change_requests_type_check" CHECK ("change_requests"."type" in ('create_account', 'change_functions', 'suspend_account', 'reactivate_account', 'unlock_account', 'reset_second_factor', 'close_account', 'appoint_delegated_administrator', 'remove_delegated_administrator', 'register_sftp_key', 'remove_sftp_key', 'add_sftp_source_range', 'remove_sftp_source_range'));