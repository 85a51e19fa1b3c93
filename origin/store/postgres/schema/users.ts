import { boolean, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { epochMs, idText } from './columns.ts';

export const users = pgTable('users', {
  id: idText('id').primaryKey(),
  /** Normalised: trimmed, lower case. */
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  /** Cached sum of this user's ledger rows, updated in the same transaction as each row. */
  balance: integer('balance').notNull().default(0),
  /** Signs this user's outbound webhooks (Standard Webhooks, `whsec_…`). */
  webhookSecret: text('webhook_secret').notNull(),
  createdAt: epochMs('created_at').notNull(),
  /** Raised to end every session of the user at once (a password change); tokens carry it. */
  sessionVersion: integer('session_version').notNull().default(0),
  /** Granted by an operator (`npm run admin -- grant <email>`), never by registering. */
  isAdmin: boolean('is_admin').notNull().default(false),
  /** When a job of this user last started (epoch ms): the fair order's tie-break. */
  lastStartedAt: epochMs('last_started_at'),
});
