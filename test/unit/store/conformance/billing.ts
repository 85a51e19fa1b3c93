/**
 * The billing store on a real database: every kind of verified Stripe event, applied
 * once per event id, in any order, with mismatches flagged rather than credited. After
 * every step the cached balance must equal the sum of the user's ledger rows.
 */
import { describe, expect, it } from 'vitest';
import type {
  BillingEvent,
  SessionFacts,
} from '../../../../origin/billing/stripe-reconciliation.ts';
import type { Store } from '../../../../origin/store/store.ts';
import { makeUser, newJob } from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

const starter = { credits: 50, amount: 500, currency: 'usd' };
const studio = { credits: 250, amount: 2000, currency: 'usd' };

let ids = 0;
const uid = (prefix: string) => `${prefix}_unit_${process.pid}_${++ids}`;

/** A Checkout Session's facts for the `starter` pack, paid in full by `userId`. */
function session(userId: string | null, overrides: Partial<SessionFacts> = {}): SessionFacts {
  return {
    sessionId: uid('cs'),
    userId,
    packId: 'starter',
    amount: starter.amount,
    currency: starter.currency,
    paymentIntent: uid('pi'),
    pack: starter,
    ...overrides,
  };
}

const paid = (s: SessionFacts): BillingEvent => ({ kind: 'session_paid', session: s });
const unpaid = (s: SessionFacts): BillingEvent => ({ kind: 'session_unpaid', session: s });
const failed = (s: SessionFacts): BillingEvent => ({ kind: 'session_failed', session: s });
const refund = (paymentIntent: string | null, chargeId = uid('ch')): BillingEvent => ({
  kind: 'reversal',
  reason: 'refund',
  chargeId,
  paymentIntent,
});
const dispute = (paymentIntent: string | null, chargeId = uid('ch')): BillingEvent => ({
  kind: 'reversal',
  reason: 'dispute',
  chargeId,
  paymentIntent,
});

/** Applies one event (a fresh id unless given), then checks balance == ledger sum for `userIds`. */
async function apply(store: Store, effect: BillingEvent, userIds: string[], id = uid('evt')) {
  const outcome = await store.billing.applyEvent({ id, type: effect.kind, effect }, Date.now());
  for (const userId of userIds) {
    expect(await store.ledger.balance(userId)).toBe(await store.ledger.sum(userId));
  }
  return outcome;
}

async function expectBalance(store: Store, userId: string, credits: number): Promise<void> {
  expect(await store.ledger.balance(userId)).toBe(credits);
  expect(await store.ledger.sum(userId)).toBe(credits);
}

/** The user's ledger as `reason:reference delta` strings, oldest first. */
async function ledgerOf(store: Store, userId: string): Promise<string[]> {
  const entries = await store.ledger.entries(userId, 1000);
  return entries.reverse().map((e) => `${e.reason}:${e.reference} ${e.delta}`);
}

async function recordCheckout(store: Store, s: SessionFacts, userId: string): Promise<void> {
  await store.billing.recordCheckout({
    sessionId: s.sessionId,
    userId,
    packId: s.packId ?? 'starter',
    credits: starter.credits,
    amount: starter.amount,
    currency: starter.currency,
  });
}

/** The conformance suite's part for this concern; every store implementation runs it. */
export function billingSuite(factory: StoreFactory): void {
  describe('billing store: each kind of event', () => {
    it('session_paid credits the pack once, as purchase:<session id>', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(user.id);
      expect(await apply(store, paid(s), [user.id])).toBe('credited');
      await expectBalance(store, user.id, 50);
      expect(await ledgerOf(store, user.id)).toEqual([`purchase:${s.sessionId} 50`]);
      expect(await store.billing.purchase(s.sessionId)).toMatchObject({
        userId: user.id,
        packId: 'starter',
        credits: 50,
        status: 'paid',
        flag: null,
      });
    });

    it('session_unpaid records a pending purchase; the later async success credits it', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(user.id);
      expect(await apply(store, unpaid(s), [user.id])).toBe('recorded');
      await expectBalance(store, user.id, 0);
      expect((await store.billing.purchase(s.sessionId))?.status).toBe('pending');
      expect(await apply(store, paid(s), [user.id])).toBe('credited');
      await expectBalance(store, user.id, 50);
    });

    it('session_failed records a failed purchase and credits nothing', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(user.id);
      await recordCheckout(store, s, user.id);
      expect((await store.billing.purchase(s.sessionId))?.status).toBe('open');
      expect(await apply(store, unpaid(s), [user.id])).toBe('recorded');
      expect(await apply(store, failed(s), [user.id])).toBe('recorded');
      expect((await store.billing.purchase(s.sessionId))?.status).toBe('failed');
      await expectBalance(store, user.id, 0);
      expect(await ledgerOf(store, user.id)).toEqual([]);
    });

    it('a refund takes a purchase back as chargeback:<charge id>', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 5);
      const s = session(user.id);
      await apply(store, paid(s), [user.id]);
      const chargeId = uid('ch');
      expect(await apply(store, refund(s.paymentIntent, chargeId), [user.id])).toBe('reversed');
      await expectBalance(store, user.id, 5);
      expect(await ledgerOf(store, user.id)).toEqual([
        `grant:${user.id} 5`,
        `purchase:${s.sessionId} 50`,
        `chargeback:${chargeId} -50`,
      ]);
    });

    it('a dispute takes a purchase back, even when the credits are spent (balance negative)', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(user.id);
      await apply(store, paid(s), [user.id]);
      expect((await store.jobs.create(newJob(user.id, { cost: 30 }))).kind).toBe('created');
      expect(await apply(store, dispute(s.paymentIntent), [user.id])).toBe('reversed');
      await expectBalance(store, user.id, -30);
    });

    it('a reversal without a payment intent is ignored; one of an unknown payment is only recorded', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 7);
      expect(await apply(store, refund(null), [user.id])).toBe('ignored');
      expect(await apply(store, dispute(uid('pi')), [user.id])).toBe('recorded');
      await expectBalance(store, user.id, 7);
    });

    it('an ignored event changes nothing but is remembered', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 7);
      const id = uid('evt');
      expect(await apply(store, { kind: 'ignored' }, [user.id], id)).toBe('ignored');
      expect(await apply(store, { kind: 'ignored' }, [user.id], id)).toBe('duplicate');
      await expectBalance(store, user.id, 7);
    });
  });

  describe('billing store: each event id applies once', () => {
    it('delivers every kind of event five times with one effect each', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const a = session(user.id);
      const b = session(user.id, { packId: 'studio', amount: 2000, pack: studio });
      const c = session(user.id);
      const steps: [BillingEvent, string, number][] = [
        [paid(a), 'credited', 50],
        [unpaid(b), 'recorded', 50],
        [paid(b), 'credited', 300],
        [failed(c), 'recorded', 300],
        [refund(a.paymentIntent), 'reversed', 250],
        [dispute(b.paymentIntent), 'reversed', 0],
        [{ kind: 'ignored' }, 'ignored', 0],
      ];
      for (const [effect, first, balance] of steps) {
        const id = uid('evt');
        const outcomes = [];
        for (let i = 0; i < 5; i++) outcomes.push(await apply(store, effect, [user.id], id));
        expect(outcomes).toEqual([first, 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
        await expectBalance(store, user.id, balance);
      }
      expect(await ledgerOf(store, user.id)).toHaveLength(4);
    });

    it('credits a session once even when two different events say it was paid', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(user.id);
      expect(await apply(store, paid(s), [user.id])).toBe('credited');
      // checkout.session.completed (paid) and async_payment_succeeded for one session.
      expect(await apply(store, paid(s), [user.id])).toBe('recorded');
      await expectBalance(store, user.id, 50);
    });
  });

  describe('billing store: reversals in any order', () => {
    it('ends at the same balance whether the refund arrives before or after the purchase', async () => {
      const store = await factory.open();
      const inOrder = await makeUser(store, 3);
      const early = await makeUser(store, 3);
      const users = [inOrder.id, early.id];
      const kept = (userId: string) =>
        session(userId, { packId: 'studio', amount: 2000, pack: studio });

      const s1 = session(inOrder.id);
      const k1 = kept(inOrder.id);
      await apply(store, paid(s1), users);
      await apply(store, paid(k1), users);
      await apply(store, refund(s1.paymentIntent), users);

      const s2 = session(early.id);
      const k2 = kept(early.id);
      expect(await apply(store, refund(s2.paymentIntent), users)).toBe('recorded');
      await expectBalance(store, early.id, 3);
      expect(await apply(store, paid(s2), users)).toBe('credited');
      await expectBalance(store, early.id, 3);
      await apply(store, paid(k2), users);

      await expectBalance(store, inOrder.id, 253);
      await expectBalance(store, early.id, 253);
      const shape = async (userId: string) =>
        (await ledgerOf(store, userId)).map((row) => row.replace(/:\S+/, '')).sort();
      expect(await shape(early.id)).toEqual(await shape(inOrder.id));
    });

    it('applies an early reversal when a pending purchase is finally paid', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(user.id);
      await apply(store, unpaid(s), [user.id]);
      expect(await apply(store, dispute(s.paymentIntent), [user.id])).toBe('recorded');
      await apply(store, paid(s), [user.id]);
      await expectBalance(store, user.id, 0);
    });

    it('takes a payment back once when two of its charges are reversed, or one charge twice', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(user.id);
      const after = session(user.id);
      await apply(store, paid(s), [user.id]);
      await apply(store, paid(after), [user.id]);
      const charge1 = uid('ch');
      const charge2 = uid('ch');
      expect(await apply(store, refund(s.paymentIntent, charge1), [user.id])).toBe('reversed');
      expect(await apply(store, dispute(s.paymentIntent, charge1), [user.id])).toBe('recorded');
      expect(await apply(store, refund(s.paymentIntent, charge2), [user.id])).toBe('recorded');
      expect(await apply(store, dispute(s.paymentIntent, charge2), [user.id])).toBe('recorded');
      await expectBalance(store, user.id, 50);

      // Both charges reversed before the payment is known: still once.
      const before = session(user.id);
      await apply(store, refund(before.paymentIntent), [user.id]);
      await apply(store, dispute(before.paymentIntent), [user.id]);
      await apply(store, paid(before), [user.id]);
      await expectBalance(store, user.id, 50);
      expect(
        (await ledgerOf(store, user.id)).filter((r) => r.startsWith('chargeback')),
      ).toHaveLength(2);
    });
  });

  describe('billing store: mismatches are flagged, not credited', () => {
    async function expectFlagged(
      store: Store,
      userId: string,
      s: SessionFacts,
      flag: RegExp,
    ): Promise<void> {
      expect(await apply(store, paid(s), [userId])).toBe('flagged');
      await expectBalance(store, userId, 0);
      const purchase = await store.billing.purchase(s.sessionId);
      expect(purchase?.status).toBe('flagged');
      expect(purchase?.flag).toMatch(flag);
      // A refund of a flagged purchase takes nothing back.
      expect(await apply(store, refund(s.paymentIntent), [userId])).toBe('recorded');
      await expectBalance(store, userId, 0);
    }

    it('flags an unknown pack', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(user.id, { packId: 'mega', pack: undefined });
      await expectFlagged(store, user.id, s, /unknown pack mega/);
    });

    it('flags an amount that is not the pack price', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      await expectFlagged(store, user.id, session(user.id, { amount: 499 }), /paid 499 usd/);
    });

    it('flags a currency that is not the pack currency', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      await expectFlagged(store, user.id, session(user.id, { currency: 'eur' }), /paid 500 eur/);
    });

    it('flags an unknown user, or none at all', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      await expectFlagged(store, user.id, session('usr_nobody'), /unknown user usr_nobody/);
      await expectFlagged(store, user.id, session(null), /no user/);
    });

    it('flags a user, a pack or an amount that differs from the recorded checkout', async () => {
      const store = await factory.open();
      const buyer = await makeUser(store, 0);
      const other = await makeUser(store, 0);
      const users = [buyer.id, other.id];

      const wrongUser = session(other.id);
      await recordCheckout(store, wrongUser, buyer.id);
      await expectFlagged(store, other.id, wrongUser, /user differs/);

      const wrongPack = session(buyer.id, { packId: 'studio', amount: 2000, pack: studio });
      await recordCheckout(store, { ...wrongPack, packId: 'starter' }, buyer.id);
      await expectFlagged(store, buyer.id, wrongPack, /pack differs/);

      // Within the configured price, but not what this checkout asked for.
      const wrongAmount = session(buyer.id, { amount: 2000 });
      await recordCheckout(store, wrongAmount, buyer.id);
      await expectFlagged(store, buyer.id, wrongAmount, /checkout was 500 usd/);
      for (const id of users) await expectBalance(store, id, 0);
    });

    it('flags a mismatch that arrives through the asynchronous path too', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      // completed (unpaid), then async_payment_succeeded, of a session this origin never recorded.
      const s = session(user.id, { amount: 1 });
      expect(await apply(store, unpaid(s), [user.id])).toBe('flagged');
      expect(await apply(store, paid(s), [user.id])).toBe('flagged');
      await expectBalance(store, user.id, 0);
      expect(await store.billing.purchase(s.sessionId)).toMatchObject({
        status: 'flagged',
        flag: 'paid 1 usd, pack costs 500 usd',
      });
    });

    it('keeps a flagged purchase flagged when another event says it was paid', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(user.id);
      await recordCheckout(store, s, user.id);
      expect(await apply(store, paid({ ...s, amount: 50 }), [user.id])).toBe('flagged');
      expect(await apply(store, paid(s), [user.id])).toBe('flagged');
      await expectBalance(store, user.id, 0);
      expect((await store.billing.purchase(s.sessionId))?.flag).toBe(
        'paid 50 usd, checkout was 500 usd',
      );
    });

    it('records an unpaid or failed session of an unknown user without failing', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session('usr_nobody');
      expect(await apply(store, unpaid(s), [user.id])).toBe('flagged');
      expect(await apply(store, failed(session('usr_nobody')), [user.id])).toBe('flagged');
      expect(await apply(store, paid(s), [user.id])).toBe('flagged');
    });

    it('credits the recorded checkout user when the event names none', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(null);
      await recordCheckout(store, s, user.id);
      expect(await apply(store, paid(s), [user.id])).toBe('credited');
      await expectBalance(store, user.id, 50);
    });
  });

  describe('billing store: late events never undo a payment', () => {
    it('keeps a paid purchase paid when a late unpaid or failed event arrives', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const s = session(user.id);
      await recordCheckout(store, s, user.id);
      await apply(store, paid(s), [user.id]);
      expect(await apply(store, unpaid(s), [user.id])).toBe('recorded');
      expect(await apply(store, failed(s), [user.id])).toBe('recorded');
      expect((await store.billing.purchase(s.sessionId))?.status).toBe('paid');
      await expectBalance(store, user.id, 50);

      // …and a refund after them still finds the purchase.
      expect(await apply(store, refund(s.paymentIntent), [user.id])).toBe('reversed');
      await expectBalance(store, user.id, 0);
    });
  });
}
