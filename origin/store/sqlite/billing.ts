import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../database.ts';
import { creditLedger, purchases, stripeEvents, stripeReversals, users } from '../schema/index.ts';
import type { BillingEvent, BillingOutcome, BillingStore, SessionFacts } from '../store.ts';
import type { LedgerWriter } from './ledger.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type PurchaseRow = typeof purchases.$inferSelect;

/** Why the session's facts may not be credited, or undefined when they match. */
function mismatch(tx: Tx, s: SessionFacts, known: PurchaseRow | undefined): string | undefined {
  if (known) {
    if (s.userId !== null && s.userId !== known.userId) return 'user differs from checkout';
    if (s.packId !== null && s.packId !== known.packId) return 'pack differs from checkout';
    if (s.amount !== known.amount || s.currency !== known.currency) {
      return `paid ${s.amount} ${s.currency}, checkout was ${known.amount} ${known.currency}`;
    }
    return undefined;
  }
  if (!s.pack) return `unknown pack ${s.packId}`;
  if (s.userId === null) return 'no user on the session';
  if (!tx.select({ id: users.id }).from(users).where(eq(users.id, s.userId)).get()) {
    return `unknown user ${s.userId}`;
  }
  if (s.amount !== s.pack.amount || s.currency !== s.pack.currency) {
    return `paid ${s.amount} ${s.currency}, pack costs ${s.pack.amount} ${s.pack.currency}`;
  }
  return undefined;
}

/** Takes back a paid purchase's credits for a reversal of its payment, once per payment. */
function reverse(
  tx: Tx,
  ledger: LedgerWriter,
  purchase: PurchaseRow,
  chargeId: string,
  at: number,
): boolean {
  if (purchase.status !== 'paid' || purchase.userId === null || !purchase.paymentIntent) {
    return false;
  }
  const charges = tx
    .select({ id: stripeReversals.chargeId })
    .from(stripeReversals)
    .where(eq(stripeReversals.paymentIntent, purchase.paymentIntent))
    .all()
    .map((r) => r.id);
  const done = tx
    .select({ id: creditLedger.id })
    .from(creditLedger)
    .where(and(eq(creditLedger.reason, 'chargeback'), inArray(creditLedger.reference, charges)))
    .get();
  if (done) return false;
  return ledger({
    userId: purchase.userId,
    delta: -purchase.credits,
    reason: 'chargeback',
    reference: chargeId,
    at,
  });
}

function upsertPurchase(
  tx: Tx,
  s: SessionFacts,
  known: PurchaseRow | undefined,
  change: Pick<PurchaseRow, 'status' | 'flag'>,
  at: number,
): PurchaseRow {
  if (known) {
    return (
      tx
        .update(purchases)
        .set({ ...change, paymentIntent: s.paymentIntent ?? known.paymentIntent, updatedAt: at })
        .where(eq(purchases.id, known.id))
        .returning()
        .get() ?? known
    );
  }
  return tx
    .insert(purchases)
    .values({
      id: s.sessionId,
      userId: s.userId !== null && change.status !== 'flagged' ? s.userId : null,
      packId: s.packId ?? 'unknown',
      credits: s.pack?.credits ?? 0,
      amount: s.amount ?? 0,
      currency: s.currency ?? '',
      paymentIntent: s.paymentIntent,
      createdAt: at,
      updatedAt: at,
      ...change,
    })
    .returning()
    .get();
}

function applySession(
  tx: Tx,
  ledger: LedgerWriter,
  effect: BillingEvent & { session: SessionFacts },
  at: number,
) {
  const s = effect.session;
  const known = tx.select().from(purchases).where(eq(purchases.id, s.sessionId)).get();
  if (effect.kind !== 'session_paid') {
    // A late "pending" or "failed" never undoes a payment already credited.
    if (known?.status === 'paid' || known?.status === 'flagged') return 'recorded' as const;
    // A session this origin never recorded is checked now: a later payment is checked
    // against this row, and its user must exist.
    const problem = known ? undefined : mismatch(tx, s, undefined);
    const status = effect.kind === 'session_unpaid' ? 'pending' : 'failed';
    upsertPurchase(
      tx,
      s,
      known,
      problem ? { status: 'flagged', flag: problem } : { status, flag: null },
      at,
    );
    return problem ? ('flagged' as const) : ('recorded' as const);
  }
  if (known?.status === 'flagged') return 'flagged' as const;
  const problem = mismatch(tx, s, known);
  if (problem) {
    upsertPurchase(tx, s, known, { status: 'flagged', flag: problem }, at);
    return 'flagged' as const;
  }
  const paid = upsertPurchase(tx, s, known, { status: 'paid', flag: null }, at);
  if (paid.userId === null) return 'flagged' as const;
  const credited = ledger({
    userId: paid.userId,
    delta: paid.credits,
    reason: 'purchase',
    reference: paid.id,
    at,
  });
  // A refund or dispute that arrived before this payment applies now.
  const early = paid.paymentIntent
    ? tx
        .select()
        .from(stripeReversals)
        .where(eq(stripeReversals.paymentIntent, paid.paymentIntent))
        .get()
    : undefined;
  if (early) reverse(tx, ledger, paid, early.chargeId, at);
  return credited ? ('credited' as const) : ('recorded' as const);
}

function applyReversal(
  tx: Tx,
  ledger: LedgerWriter,
  effect: Extract<BillingEvent, { kind: 'reversal' }>,
  at: number,
): BillingOutcome {
  if (effect.paymentIntent === null) return 'ignored';
  tx.insert(stripeReversals)
    .values({
      chargeId: effect.chargeId,
      paymentIntent: effect.paymentIntent,
      kind: effect.reason,
      createdAt: at,
    })
    .onConflictDoNothing()
    .run();
  const purchase = tx
    .select()
    .from(purchases)
    .where(eq(purchases.paymentIntent, effect.paymentIntent))
    .get();
  return purchase && reverse(tx, ledger, purchase, effect.chargeId, at) ? 'reversed' : 'recorded';
}

/** Purchases and Stripe events in SQLite. */
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
          let outcome: BillingOutcome;
          switch (effect.kind) {
            case 'session_paid':
            case 'session_unpaid':
            case 'session_failed':
              outcome = applySession(tx, ledger, effect, at);
              break;
            case 'reversal':
              outcome = applyReversal(tx, ledger, effect, at);
              break;
            case 'ignored':
              outcome = 'ignored';
              break;
          }
          tx.insert(stripeEvents).values({ id, type, outcome, receivedAt: at }).run();
          return outcome;
        },
        { behavior: 'immediate' },
      );
    },

    async purchase(sessionId) {
      return db.select().from(purchases).where(eq(purchases.id, sessionId)).get();
    },
  };
}
