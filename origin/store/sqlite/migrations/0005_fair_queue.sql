ALTER TABLE `jobs` ADD `deadline_at` integer;--> statement-breakpoint
CREATE INDEX `jobs_holding` ON `jobs` (`user_id`) WHERE "jobs"."claim_token" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `last_started_at` integer;