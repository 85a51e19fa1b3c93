import { bigserial, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { ledgerReasons } from '../../records.ts';
import { epochMs, idText } from './columns.ts';
import { users } from './users.ts';

/**
 * Every change of a balance. The unique (reason, reference) key is what makes a replayed
 * Stripe event, a retried request or a second refund change nothing.
 */
export const creditLedger = pgTable(
  'credit_ledger',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: idText('user_id')
      .notNull()
      .references(() => users.id),
    delta: integer('delta').notNull(),
    reason: text('reason', { enum: ledgerReasons }).notNull(),
    reference: text('reference').notNull(),
    createdAt: epochMs('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('credit_ledger_reason_reference').on(t.reason, t.reference),
    index('credit_ledger_user').on(t.userId, t.id),
    // Stats and usage windows, by creation time: one user's, and every user's.
    index('credit_ledger_user_created').on(t.userId, t.createdAt),
    index('credit_ledger_created').on(t.createdAt),
  ],
);
