CREATE SEQUENCE "public"."change_request_reference_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "change_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"reference" text,
	"organization_id" uuid NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"title" text NOT NULL,
	"status" text NOT NULL,
	"maker_id" uuid NOT NULL,
	"checker_id" uuid,
	"account_id" uuid,
	"cloned_from_id" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"steps" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"submitted_at" timestamp with time zone,
	"claimed_at" timestamp with time zone,
	"decided_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	CONSTRAINT "change_requests_status_check" CHECK ("change_requests"."status" in ('draft', 'ready_for_checker', 'claimed', 'sent_to_operator', 'completed', 'rejected', 'discarded')),
	CONSTRAINT "change_requests_type_check" CHECK ("change_requests"."type" in ('create_account', 'change_functions', 'suspend_account', 'reactivate_account', 'unlock_account', 'reset_second_factor', 'close_account', 'appoint_delegated_administrator', 'remove_delegated_administrator')),
	CONSTRAINT "change_requests_version_check" CHECK ("change_requests"."version" >= 1)
);
--> statement-breakpoint
ALTER TABLE "change_requests" ADD CONSTRAINT "change_requests_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_requests" ADD CONSTRAINT "change_requests_maker_id_accounts_id_fk" FOREIGN KEY ("maker_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_requests" ADD CONSTRAINT "change_requests_checker_id_accounts_id_fk" FOREIGN KEY ("checker_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "change_requests_reference_key" ON "change_requests" USING btree ("reference");--> statement-breakpoint
CREATE INDEX "change_requests_organization_idx" ON "change_requests" USING btree ("organization_id","updated_at");--> statement-breakpoint
CREATE INDEX "change_requests_maker_idx" ON "change_requests" USING btree ("maker_id","updated_at");--> statement-breakpoint
CREATE INDEX "change_requests_status_idx" ON "change_requests" USING btree ("status","updated_at");