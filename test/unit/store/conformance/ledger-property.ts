/**
 * Seeded property: whatever order Stripe's events arrive in, however often each is
 * delivered, and however jobs are spent, failed and canceled in between, a user's final
 * balance is the sum of the effects of the distinct events, computed here without the
 * store: grant + paid purchases − reversed purchases − cost of the jobs that succeeded.
 */
import { describe, expect, it } from 'vitest';
import type {
  BillingEvent,
  SessionFacts,
} from '../../../../origin/billing/stripe-reconciliation.ts';
import type { JobEnding, Store } from '../../../../origin/store/store.ts';
import { jobDriver, makeUser, newJob, prng } from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

const packs = [
  { id: 'starter', credits: 50, amount: 500, currency: 'usd' },
  { id: 'studio', credits: 250, amount: 2000, currency: 'usd' },
  { id: 'taster', credits: 3, amount: 50, currency: 'usd' },
] as const;

const endings: JobEnding[] = [
  {
    status: 'succeeded',
    output: { file: 'f.txt', contentType: 'text/plain', bytes: 1, etag: 'e', runMs: 1 },
  },
  { status: 'failed', error: { code: 'model_error', message: 'boom' } },
  { status: 'canceled' },
];

type Rand = ReturnType<typeof prng>;

interface Purchase {
  userId: string;
  credits: number;
  /** Whether the events carry facts the configuration accepts (else flagged). */
  valid: boolean;
  /** Whether some event says it was paid. */
  paid: boolean;
  /** Whether some refund or dispute of its payment is among the events. */
  reversed: boolean;
}

interface Delivery {
  id: string;
  type: string;
  effect: BillingEvent;
}

/** One purchase's distinct events, and what they add up to. */
function purchaseEvents(rand: Rand, seed: number, n: number, userId: string) {
  const pack = rand.pick(packs);
  const valid = rand.int(5) !== 0;
  const session: SessionFacts = {
    sessionId: `cs_${seed}_${n}`,
    userId,
    packId: pack.id,
    amount: valid ? pack.amount : pack.amount + 1 + rand.int(100),
    currency: pack.currency,
    paymentIntent: `pi_${seed}_${n}`,
    pack: { credits: pack.credits, amount: pack.amount, currency: pack.currency },
  };
  const events: Delivery[] = [];
  const add = (type: string, effect: BillingEvent) =>
    events.push({ id: `evt_${seed}_${n}_${events.length}`, type, effect });
  const flow = rand.pick(['paid', 'async', 'async_failed', 'paid_twice'] as const);
  if (flow === 'paid' || flow === 'paid_twice') {
    add('checkout.session.completed', { kind: 'session_paid', session });
  } else {
    add('checkout.session.completed', { kind: 'session_unpaid', session });
  }
  if (flow === 'async' || flow === 'paid_twice') {
    add('checkout.session.async_payment_succeeded', { kind: 'session_paid', session });
  }
  if (flow === 'async_failed') {
    add('checkout.session.async_payment_failed', { kind: 'session_failed', session });
  }
  // Refunds and disputes, of one or two charges of the payment.
  const reversals = rand.int(3) === 0 ? 1 + rand.int(3) : 0;
  for (let r = 0; r < reversals; r++) {
    const chargeId = `ch_${seed}_${n}_${rand.int(2)}`;
    const reason = rand.pick(['refund', 'dispute'] as const);
    add(reason === 'refund' ? 'charge.refunded' : 'charge.dispute.created', {
      kind: 'reversal',
      reason,
      chargeId,
      paymentIntent: session.paymentIntent,
    });
  }
  if (rand.int(4) === 0) add('customer.created', { kind: 'ignored' });
  const purchase: Purchase = {
    userId,
    credits: pack.credits,
    valid,
    paid: flow !== 'async_failed',
    reversed: reversals > 0,
  };
  return { session, purchase, events };
}

/** Fisher–Yates with the seeded generator. */
function shuffle<T>(rand: Rand, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rand.int(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

async function expectCachedEqualsLedger(store: Store, userIds: string[]): Promise<void> {
  for (const id of userIds) {
    expect(await store.ledger.balance(id)).toBe(await store.ledger.sum(id));
  }
}

async function runSeed(store: Store, seed: number): Promise<{ effects: number; jobs: number }> {
  // In memory: the same SQLite and transactions, without an fsync per commit (50 seeds).
  const rand = prng(seed);
  const grants = new Map<string, number>();
  for (let u = 0; u < 3; u++) {
    const grant = rand.int(4);
    grants.set((await makeUser(store, grant)).id, grant);
  }
  const users = [...grants.keys()];

  const purchases: Purchase[] = [];
  const deliveries: Delivery[] = [];
  for (let n = 0; n < 3 + rand.int(5); n++) {
    const { session, purchase, events } = purchaseEvents(rand, seed, n, rand.pick(users));
    purchases.push(purchase);
    // Most sessions were created through this origin's checkout; some were not.
    if (rand.int(3) !== 0 && session.userId && session.packId) {
      const pack = packs.find((p) => p.id === session.packId);
      if (!pack) throw new Error('the generator picks configured packs');
      await store.billing.recordCheckout({
        sessionId: session.sessionId,
        userId: session.userId,
        packId: pack.id,
        credits: pack.credits,
        amount: pack.amount,
        currency: pack.currency,
      });
    }
    for (const event of events) {
      for (let copies = 1 + rand.int(5); copies > 0; copies--) deliveries.push(event);
    }
  }
  shuffle(rand, deliveries);

  const jobs = new Map<string, { userId: string; cost: number; ending?: string }>();
  const open = () => [...jobs].filter(([, j]) => j.ending === undefined).map(([id]) => id);
  const driver = jobDriver(store);
  const finish = async (jobId: string, ending: JobEnding) => {
    const event = await driver.end(jobId, ending);
    const job = jobs.get(jobId);
    if (event && job) job.ending = event.kind;
  };

  // Stripe's deliveries, with job traffic between them.
  while (deliveries.length > 0) {
    const op = rand.int(6);
    if (op < 3) {
      const delivery = deliveries.shift() as Delivery;
      await store.billing.applyEvent(delivery, Date.now());
    } else if (op === 3) {
      const userId = rand.pick(users);
      const cost = 1 + rand.int(3);
      const before = await store.ledger.balance(userId);
      const result = await store.jobs.create(newJob(userId, { cost }));
      if (result.kind === 'created') {
        // Only a chargeback may take a balance below zero, never a job.
        expect(before).toBeGreaterThanOrEqual(cost);
        jobs.set(result.job.id, { userId, cost });
      } else {
        expect(result.kind).toBe('insufficient_credits');
        expect(before).toBeLessThan(cost);
      }
    } else if (op === 4) {
      await driver.claim();
    } else if (open().length > 0) {
      await finish(rand.pick(open()), rand.pick(endings));
    }
    await expectCachedEqualsLedger(store, users);
  }
  // Whatever is still open ends now; a queued job can only be canceled.
  for (const jobId of open()) {
    await finish(jobId, rand.pick(endings));
    if (jobs.get(jobId)?.ending === undefined) await finish(jobId, { status: 'canceled' });
  }

  for (const userId of users) {
    let expected = grants.get(userId) ?? 0;
    for (const p of purchases.filter((x) => x.userId === userId && x.valid && x.paid)) {
      expected += p.reversed ? 0 : p.credits;
    }
    for (const job of jobs.values()) {
      if (job.userId === userId && job.ending === 'succeeded') expected -= job.cost;
    }
    expect(await store.ledger.balance(userId), `seed ${seed}, user ${userId}`).toBe(expected);
    expect(await store.ledger.sum(userId)).toBe(expected);
  }
  return { effects: purchases.length, jobs: jobs.size };
}

/** The conformance suite's part for this concern; every store implementation runs it. */
export function ledgerPropertySuite(factory: StoreFactory): void {
  describe('ledger property: distinct effects, whatever the deliveries', () => {
    it('ends at grant + purchases − reversals − succeeded jobs for 50 seeds', async () => {
      // One database for every seed: each seed's users and sessions are its own.
      const store = await factory.open();
      let effects = 0;
      let jobs = 0;
      for (let seed = 1; seed <= 50; seed++) {
        const run = await runSeed(store, seed);
        effects += run.effects;
        jobs += run.jobs;
      }
      // The runs exercised purchases and spending, not only refusals.
      expect(effects).toBeGreaterThan(150);
      expect(jobs).toBeGreaterThan(100);
      // Thousands of transactions: about 10 s on PostgreSQL, several times that on a loaded machine.
    }, 120_000);
  });
}
