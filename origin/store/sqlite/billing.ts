import { and, eq, inArray } from 'drizzle-orm';
import {
  chargesToCheck,
  reconcile,
  reversalIntent,
  type StripeDecision,
  type StripeFacts,
  stripeReadPlan,
} from '../../billing/stripe-reconciliation.ts';
import type { BillingStore } from '../store.ts';
import type { Db } from './database.ts';
import type { LedgerWriter } from './ledger.ts';
import { creditLedger, purchases, stripeEvents, stripeReversals, users } from './schema/index.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Effect = Parameters<typeof reconcile>[0];

/** The facts `reconcile` needs, read in the order the billing rules give. */
function readFacts(tx: Tx, effect: Effect): StripeFacts {
  const plan = stripeReadPlan(effect);
  const where = plan.purchase;
  const purchase = where
    ? tx
        .select()
        .from(purchases)
        .where(
          'sessionId' in where
            ? eq(purchases.id, where.sessionId)
            : eq(purchases.paymentIntent, where.paymentIntent),
        )
        .get()
    : undefined;
  const userExists =
    plan.userId !== null &&
    tx.select({ id: users.id }).from(users).where(eq(users.id, plan.userId)).get() !== undefined;
  const credited =
    plan.creditReference !== null &&
    tx
      .select({ id: creditLedger.id })
      .from(creditLedger)
      .where(
        and(eq(creditLedger.reason, 'purchase'), eq(creditLedger.reference, plan.creditReference)),
      )
      .get() !== undefined;
  const intent = reversalIntent(effect, purchase);
  const reversals =
    intent === null
      ? []
      : tx.select().from(stripeReversals).where(eq(stripeReversals.paymentIntent, intent)).all();
  const charges = chargesToCheck(effect, reversals);
  const chargedBack =
    charges.length === 0
      ? []
      : tx
          .select({ reference: creditLedger.reference })
          .from(creditLedger)
          .where(
            and(eq(creditLedger.reason, 'chargeback'), inArray(creditLedger.reference, charges)),
          )
          .all()
          .map((r) => r.reference);
  return { purchase, userExists, credited, reversals, chargedBack };
}

/** Writes what `reconcile` decided. */
function writeDecision(tx: Tx, ledger: LedgerWriter, decision: StripeDecision): void {
  if (decision.reversal) {
    tx.insert(stripeReversals).values(decision.reversal).onConflictDoNothing().run();
  }
  if (decision.purchase) {
    const { record, isNew } = decision.purchase;
    if (isNew) tx.insert(purchases).values(record).run();
    else tx.update(purchases).set(record).where(eq(purchases.id, record.id)).run();
  }
  for (const entry of decision.ledger) ledger(entry);
}

/** Purchases and Stripe events in SQLite: reads, the billing rules, writes. */
export function sqliteBilling(db: Db, ledger: LedgerWriter): BillingStore {
  return {
    async recordCheckout(input) {
      const at = Date.now();
      db.insert(purchases)
        .values({
          id: input.sessionId,
          userId: input.userId,
          packId: input.packId,
          credits: input.credits,
          amount: input.amount,
          currency: input.currency,
          status: 'open',
          createdAt: at,
          updatedAt: at,
        })
        .onConflictDoNothing()
        .run();
    },

    async applyEvent({ id, type, effect }, at) {
      return db.transaction(
        (tx) => {
          const seen = tx
            .select({ id: stripeEvents.id })
            .from(stripeEvents)
            .where(eq(stripeEvents.id, id))
            .get();
          if (seen) return 'duplicate' as const;
          const decision = reconcile(effect, readFacts(tx, effect), at);
          writeDecision(tx, ledger, decision);
          tx.insert(stripeEvents)
            .values({ id, type, outcome: decision.outcome, receivedAt: at })
            .run();
          return decision.outcome;
        },
        { behavior: 'immediate' },
      );
    },

    async purchase(sessionId) {
      return db.select().from(purchases).where(eq(purchases.id, sessionId)).get();
    },
  };
}
