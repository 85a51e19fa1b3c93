import { and, eq, inArray, sql } from 'drizzle-orm';
import {
  chargesToCheck,
  reconcile,
  reversalIntent,
  type StripeDecision,
  type StripeFacts,
  stripeReadPlan,
} from '../../billing/stripe-reconciliation.ts';
import type { BillingStore } from '../store.ts';
import type { Db, Tx } from './database.ts';
import { writeLedger } from './ledger.ts';
import { creditLedger, purchases, stripeEvents, stripeReversals, users } from './schema/index.ts';

type Effect = Parameters<typeof reconcile>[0];

/**
 * Stripe events are applied one at a time across every origin (a transaction-level advisory
 * lock): the facts of one event (a purchase, the reversals of its payment) may be written by
 * another event delivered to another origin at the same moment, and Stripe's rate is low.
 */
const stripeLock = 7_061_914;

/** The facts `reconcile` needs, read in the order the billing rules give. */
async function readFacts(tx: Tx, effect: Effect): Promise<StripeFacts> {
  const plan = stripeReadPlan(effect);
  const where = plan.purchase;
  const [purchase] = where
    ? await tx
        .select()
        .from(purchases)
        .where(
          'sessionId' in where
            ? eq(purchases.id, where.sessionId)
            : eq(purchases.paymentIntent, where.paymentIntent),
        )
        .limit(1)
    : [];
  const userExists =
    plan.userId !== null &&
    (await tx.select({ id: users.id }).from(users).where(eq(users.id, plan.userId))).length > 0;
  const credited =
    plan.creditReference !== null &&
    (
      await tx
        .select({ id: creditLedger.id })
        .from(creditLedger)
        .where(
          and(
            eq(creditLedger.reason, 'purchase'),
            eq(creditLedger.reference, plan.creditReference),
          ),
        )
    ).length > 0;
  const intent = reversalIntent(effect, purchase);
  const reversals =
    intent === null
      ? []
      : await tx.select().from(stripeReversals).where(eq(stripeReversals.paymentIntent, intent));
  const charges = chargesToCheck(effect, reversals);
  const chargedBack =
    charges.length === 0
      ? []
      : (
          await tx
            .select({ reference: creditLedger.reference })
            .from(creditLedger)
            .where(
              and(eq(creditLedger.reason, 'chargeback'), inArray(creditLedger.reference, charges)),
            )
        ).map((r) => r.reference);
  return { purchase, userExists, credited, reversals, chargedBack };
}

async function writeDecision(tx: Tx, decision: StripeDecision): Promise<void> {
  if (decision.reversal) {
    await tx.insert(stripeReversals).values(decision.reversal).onConflictDoNothing();
  }
  if (decision.purchase) {
    const { record, isNew } = decision.purchase;
    if (isNew) await tx.insert(purchases).values(record);
    else await tx.update(purchases).set(record).where(eq(purchases.id, record.id));
  }
  for (const entry of decision.ledger) await writeLedger(tx, entry);
}

/** Purchases and Stripe events in PostgreSQL: reads, the billing rules, writes. */
export function postgresBilling(db: Db): BillingStore {
  return {
    async recordCheckout(input) {
      const at = Date.now();
      await db
        .insert(purchases)
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
        .onConflictDoNothing();
    },

    async applyEvent({ id, type, effect }, at) {
      return db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${stripeLock})`);
        const seen = await tx
          .select({ id: stripeEvents.id })
          .from(stripeEvents)
          .where(eq(stripeEvents.id, id));
        if (seen.length > 0) return 'duplicate' as const;
        const decision = reconcile(effect, await readFacts(tx, effect), at);
        await writeDecision(tx, decision);
        await tx
          .insert(stripeEvents)
          .values({ id, type, outcome: decision.outcome, receivedAt: at });
        return decision.outcome;
      });
    },

    async purchase(sessionId) {
      const [row] = await db.select().from(purchases).where(eq(purchases.id, sessionId));
      return row;
    },
  };
}
