ALTER TABLE "jobs" ADD COLUMN "deadline_at" bigint;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "last_started_at" bigint;--> statement-breakpoint
CREATE INDEX "jobs_holding" ON "jobs" USING btree ("user_id") WHERE "jobs"."claim_token" IS NOT NULL;