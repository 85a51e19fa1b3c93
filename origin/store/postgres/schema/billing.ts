import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { purchaseStatuses, reversalKinds } from '../../records.ts';
import { epochMs, idText } from './columns.ts';
import { users } from './users.ts';

/**
 * One Stripe Checkout Session: written when the session is created, then moved by the
 * verified events about it. Credits are granted as `purchase:<session id>`, once.
 */
export const purchases = pgTable(
  'purchases',
  {
    id: text('id').primaryKey(),
    userId: idText('user_id').references(() => users.id),
    packId: text('pack_id').notNull(),
    credits: integer('credits').notNull(),
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    paymentIntent: text('payment_intent'),
    status: text('status', { enum: purchaseStatuses }).notNull(),
    flag: text('flag'),
    createdAt: epochMs('created_at').notNull(),
    updatedAt: epochMs('updated_at').notNull(),
  },
  (t) => [
    index('purchases_payment_intent').on(t.paymentIntent),
    index('purchases_user').on(t.userId),
  ],
);

/** Every Stripe event id seen, recorded in the transaction of its effect: a replay is a no-op. */
export const stripeEvents = pgTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  outcome: text('outcome').notNull(),
  detail: text('detail'),
  receivedAt: epochMs('received_at').notNull(),
});

/** A refund or dispute of a charge, kept even before the purchase it reverses is known. */
export const stripeReversals = pgTable(
  'stripe_reversals',
  {
    chargeId: text('charge_id').primaryKey(),
    paymentIntent: text('payment_intent').notNull(),
    kind: text('kind', { enum: reversalKinds }).notNull(),
    createdAt: epochMs('created_at').notNull(),
  },
  (t) => [index('stripe_reversals_payment_intent').on(t.paymentIntent)],
);
