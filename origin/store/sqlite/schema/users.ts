import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  /** Normalised: trimmed, lower case. */
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  /** Cached sum of this user's ledger rows, updated in the same transaction as each row. */
  balance: integer('balance').notNull().default(0),
  /** Signs this user's outbound webhooks (Standard Webhooks, `whsec_…`). */
  webhookSecret: text('webhook_secret').notNull(),
  createdAt: integer('created_at').notNull(),
  /** Raised to end every session of the user at once (a password change); tokens carry it. */
  sessionVersion: integer('session_version').notNull().default(0),
  /** Granted by an operator (`npm run admin -- grant <email>`), never by registering. */
  isAdmin: integer('is_admin', { mode: 'boolean' }).notNull().default(false),
  /** When a job of this user last started (epoch ms): the fair order's tie-break. */
  lastStartedAt: integer('last_started_at'),
});
