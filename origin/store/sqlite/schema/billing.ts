import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { purchaseStatuses, reversalKinds } from '../../records.ts';
import { users } from './users.ts';

/**
 * One Stripe Checkout Session: written when the session is created, then moved by the
 * verified events about it. Credits are granted as `purchase:<session id>`, once.
 */
export const purchases = sqliteTable(
  'purchases',
  {
    /** The Checkout Session id (`cs_…`). */
    id: text('id').primaryKey(),
    userId: text('user_id').references(() => users.id),
    packId: text('pack_id').notNull(),
    credits: integer('credits').notNull(),
    /** In the currency's smallest unit, as Stripe counts it. */
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    paymentIntent: text('payment_intent'),
    status: text('status', { enum: purchaseStatuses }).notNull(),
    /** Why an event about this session was not credited (mismatch with the configuration). */
    flag: text('flag'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('purchases_payment_intent').on(t.paymentIntent),
    index('purchases_user').on(t.userId),
  ],
);

/** Every Stripe event id seen, recorded in the transaction of its effect: a replay is a no-op. */
export const stripeEvents = sqliteTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  /** What the event did: credited, reversed, recorded, flagged, ignored. */
  outcome: text('outcome').notNull(),
  detail: text('detail'),
  receivedAt: integer('received_at').notNull(),
});

/**
 * A refund or dispute of a charge. Kept even when the purchase it reverses is not known
 * yet (events may arrive out of order), and applied as soon as both are.
 */
export const stripeReversals = sqliteTable(
  'stripe_reversals',
  {
    chargeId: text('charge_id').primaryKey(),
    paymentIntent: text('payment_intent').notNull(),
    kind: text('kind', { enum: reversalKinds }).notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('stripe_reversals_payment_intent').on(t.paymentIntent)],
);
