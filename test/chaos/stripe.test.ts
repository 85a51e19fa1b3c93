/**
 * Stripe events through the real edge, as Stripe really delivers them: each event one to
 * five times, in any order (a refund or dispute may arrive before the completion it
 * reverses), among forged ones (tampered body, stale timestamp, another secret, no header).
 * Every user must end with exactly the credits of the sessions paid and not reversed.
 */
import { describe, expect } from 'vitest';
import type { EdgePair } from '../helpers/edge-pair.ts';
import { creditsOf, expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';
import {
  charge,
  checkoutSession,
  dispute,
  newChargeId,
  newPaymentIntentId,
  signStripe,
  stripeEvent,
  stripeModeEnv,
  testWebhookSecret,
} from '../helpers/stripe.ts';
import { figure, recordFigures } from './figures.ts';
import { seededRandom } from './seeded.ts';

// Two of the default packs (origin/billing/default-packs.json).
const packs = [
  { id: 'starter', credits: 50, amount: 500 },
  { id: 'studio', credits: 250, amount: 2000 },
] as const;
const users = 10;
const random = seededRandom(0x5f3759df);

// The origin is pointed at the Stripe double, which starts before it.
it.override('pairOptions', ({ stripe }) => ({
  originEnv: { ...stripeModeEnv(stripe), MODEL_DIR: fixtureModels },
  // Ten sign-ups from one address: the auth budget would refuse the last ones.
  edgeVars: { STRIPE_WEBHOOK_SECRET: testWebhookSecret, RATE_LIMIT_AUTH: '1000/60' },
}));

interface Purchase {
  user: number;
  sessionId: string;
  credits: number;
  /** The body Stripe sends for the completion, the same on every retry. */
  completed: string;
  /** The refund or dispute event that takes it back, if any. */
  reversal?: string;
}

type Delivery =
  | { kind: 'good'; body: string; purchase: Purchase }
  | { kind: 'bad'; what: string; body: string; signature: string | undefined };

const post = (pair: EdgePair, body: string, signature: string | undefined) => {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (signature !== undefined) headers['stripe-signature'] = signature;
  return pair.api.call('POST', '/v1/webhooks/stripe', { body, headers });
};

describe('Stripe events through the edge, duplicated, reordered and forged', () => {
  it('credits every paid session once, reverses the refunded and disputed ones, and refuses every forgery', async ({
    pair,
  }) => {
    const started = Date.now();
    const accounts = [];
    const purchases: Purchase[] = [];
    for (let u = 0; u < users; u++) {
      const user = await pair.api.signUp();
      accounts.push(user);
      for (let n = random.int(1, 2); n > 0; n--) {
        const pack = random.pick(packs);
        const res = await pair.api.call('POST', '/v1/billing/checkout', {
          token: user.token,
          body: { pack: pack.id },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const sessionId = res.body.sessionId as string;
        const paymentIntent = newPaymentIntentId();
        const session = checkoutSession({
          id: sessionId,
          userId: user.id,
          pack: pack.id,
          amount: pack.amount,
          paymentIntent,
        });
        const purchase: Purchase = {
          user: u,
          sessionId,
          credits: pack.credits,
          completed: JSON.stringify(stripeEvent('checkout.session.completed', session)),
        };
        // About half the purchases are taken back, by a refund or a dispute.
        const reversal = random.int(0, 3);
        if (reversal === 0) {
          purchase.reversal = JSON.stringify(
            stripeEvent('charge.refunded', charge({ paymentIntent, amount: pack.amount })),
          );
        } else if (reversal === 1) {
          purchase.reversal = JSON.stringify(
            stripeEvent(
              'charge.dispute.created',
              dispute({ chargeId: newChargeId(), paymentIntent, amount: pack.amount }),
            ),
          );
        }
        purchases.push(purchase);
      }
    }

    // Each valid event one to five times, and forgeries of it among them.
    const deliveries: Delivery[] = [];
    const now = () => Math.floor(Date.now() / 1000);
    for (const purchase of purchases) {
      for (const body of [purchase.completed, purchase.reversal]) {
        if (body === undefined) continue;
        for (let n = random.int(1, 5); n > 0; n--)
          deliveries.push({ kind: 'good', body, purchase });
        const forgery = random.int(0, 3);
        deliveries.push(
          [
            // A field added after signing.
            { kind: 'bad', what: 'tampered', body: `${body.slice(0, -1)},"x":1}`, signature: '' },
            { kind: 'bad', what: 'stale', body, signature: '' },
            { kind: 'bad', what: 'wrong secret', body, signature: '' },
            { kind: 'bad', what: 'missing header', body, signature: undefined },
          ][forgery] as Delivery,
        );
      }
    }
    const order = random.shuffle(deliveries);
    const firstGood = (body: string | undefined) =>
      order.findIndex((d) => d.kind === 'good' && d.body === body);
    // Half the reversals reach the origin before the completion they reverse (a swap of the
    // two first deliveries where the shuffle did not do it already), half after it.
    for (const [i, p] of purchases.filter((x) => x.reversal).entries()) {
      const [c, r] = [firstGood(p.completed), firstGood(p.reversal)];
      if (i % 2 === 0 ? r > c : r < c)
        [order[c], order[r]] = [order[r] as Delivery, order[c] as Delivery];
    }
    const reversedFirst = purchases.filter(
      (p) => p.reversal && firstGood(p.reversal) < firstGood(p.completed),
    ).length;

    const good = { tried: 0, held: 0 };
    const bad = { tried: 0, held: 0 };
    const failures: string[] = [];
    for (const d of order) {
      if (d.kind === 'good') {
        // Signed anew on each delivery, as Stripe does on a retry.
        const res = await post(pair, d.body, signStripe(d.body));
        good.tried++;
        if (res.status === 200 && res.body?.received === true) good.held++;
        else failures.push(`good: ${res.status} ${JSON.stringify(res.body)}`);
        continue;
      }
      let signature = d.signature;
      if (d.what === 'tampered') signature = signStripe(d.body.replace(/,"x":1}$/, '}'));
      if (d.what === 'stale') signature = signStripe(d.body, { timestamp: now() - 400 });
      if (d.what === 'wrong secret') {
        signature = signStripe(d.body, { secret: 'whsec_not_the_right_one_0123456789' });
      }
      const res = await post(pair, d.body, signature);
      bad.tried++;
      if (res.status === 400 && res.body?.error?.code === 'invalid_signature') {
        expectApiError(res, 400, 'invalid_signature');
        bad.held++;
      } else failures.push(`${d.what}: ${res.status} ${JSON.stringify(res.body)}`);
    }

    // Balances and ledgers: one purchase row per session, one reversal per reversed one.
    const balances = { tried: 0, held: 0 };
    const sessions = { tried: 0, held: 0 };
    for (const [u, user] of accounts.entries()) {
      const mine = purchases.filter((p) => p.user === u);
      const expected = mine.reduce((sum, p) => sum + (p.reversal ? 0 : p.credits), 0);
      const credits = await creditsOf(pair.api, user.token);
      balances.tried++;
      if (credits === expected) balances.held++;
      else failures.push(`user ${u}: balance ${credits}, expected ${expected}`);
      const ledger = await pair.api.call('GET', '/v1/billing/ledger', { token: user.token });
      expect(ledger.status).toBe(200);
      const rows = ledger.body.data as { reason: string; reference: string; delta: number }[];
      for (const p of mine) {
        sessions.tried++;
        const credited = rows.filter((r) => r.reason === 'purchase' && r.reference === p.sessionId);
        if (credited.length === 1 && credited[0]?.delta === p.credits) sessions.held++;
        else failures.push(`session ${p.sessionId}: ${JSON.stringify(credited)}`);
      }
      const reversals = rows.filter((r) => r.reason === 'chargeback');
      const expectedReversals = mine.filter((p) => p.reversal).map((p) => -p.credits);
      if (
        JSON.stringify(reversals.map((r) => r.delta).sort()) !==
        JSON.stringify(expectedReversals.sort())
      ) {
        failures.push(`user ${u}: chargebacks ${JSON.stringify(reversals)}`);
      }
      expect(rows.reduce((sum, r) => sum + r.delta, 0)).toBe(ledger.body.balance);
    }

    expect(failures).toEqual([]);
    expect(good.held).toBe(good.tried);
    expect(bad.held).toBe(bad.tried);
    expect(balances.held).toBe(users);
    expect(reversedFirst).toBeGreaterThan(0);
    expect(sessions.held).toBe(purchases.length);
    // The edge must not have bothered the origin with the forgeries.
    expect(pair.origin.child.exitCode).toBeNull();

    const reversed = purchases.filter((p) => p.reversal).length;
    const note = `seed ${random.seed}, ${purchases.length} sessions (${reversed} reversed, ${reversedFirst} of them before their completion), ${Date.now() - started} ms`;
    recordFigures('stripe', [
      figure('stripe', 'valid event deliveries answered 200', good.tried, good.held, note),
      figure('stripe', 'forged deliveries refused 400', bad.tried, bad.held),
      figure('stripe', 'sessions credited exactly once', sessions.tried, sessions.held),
      figure('stripe', 'user balances right', balances.tried, balances.held),
    ]);
  });
});
