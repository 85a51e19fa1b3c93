CREATE INDEX `credit_ledger_user_created` ON `credit_ledger` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `credit_ledger_created` ON `credit_ledger` (`created_at`);