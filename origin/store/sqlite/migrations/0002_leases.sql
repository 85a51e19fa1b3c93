ALTER TABLE `jobs` ADD `claimed_by` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `claim_token` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `lease_until` integer;--> statement-breakpoint
CREATE INDEX `jobs_status_lease` ON `jobs` (`status`,`lease_until`);--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `claim_token` text;