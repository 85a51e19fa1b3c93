/**
 * Buying credits through the real edge: the edge verifies Stripe's signature on the raw
 * body and forwards the event, signed, to an origin in Stripe mode (its one Stripe API
 * call goes to a local double). Stripe retries, so the same event arrives several times.
 */

import { describe, expect } from 'vitest';
import type { EdgePair } from '../helpers/edge-pair.ts';
import { creditsOf, expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';
import {
  checkoutSession,
  type StripeDouble,
  signStripe,
  stripeEvent,
  stripeModeEnv,
  testWebhookSecret,
} from '../helpers/stripe.ts';

// The default packs (origin/billing/default-packs.json).
const starter = { id: 'starter', credits: 50, amount: 500, currency: 'usd' };

// The origin is pointed at the Stripe double, which starts before it.
it.override('pairOptions', ({ stripe }) => ({
  originEnv: { ...stripeModeEnv(stripe), MODEL_DIR: fixtureModels },
  edgeVars: { STRIPE_WEBHOOK_SECRET: testWebhookSecret },
}));

/** A user who went through Checkout for the starter pack, through the edge. */
async function checkedOut(pair: EdgePair, stripe: StripeDouble) {
  const user = await pair.api.signUp();
  const res = await pair.api.call('POST', '/v1/billing/checkout', {
    token: user.token,
    body: { pack: starter.id },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.url).toMatch(/^https:\/\/checkout\.stripe\.com\//);
  const sessionId = res.body.sessionId as string;
  expect(stripe.sessions.at(-1)?.client_reference_id).toBe(user.id);
  const body = JSON.stringify(
    stripeEvent(
      'checkout.session.completed',
      checkoutSession({ id: sessionId, userId: user.id, pack: starter.id, amount: starter.amount }),
    ),
  );
  return { user, body };
}

const postEvent = (pair: EdgePair, body: string, signature: string) =>
  pair.api.call('POST', '/v1/webhooks/stripe', {
    body,
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature },
  });

describe('a paid checkout through the edge', () => {
  it('credits the user exactly once, however many times Stripe delivers the event', async ({
    pair,
    stripe,
  }) => {
    const { user, body } = await checkedOut(pair, stripe);
    expect(await creditsOf(pair.api, user.token)).toBe(0);
    for (let delivery = 0; delivery < 3; delivery++) {
      // Each delivery is signed anew, as Stripe does on a retry.
      const res = await postEvent(pair, body, signStripe(body));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({ received: true });
    }
    expect(await creditsOf(pair.api, user.token)).toBe(starter.credits);
    const ledger = await pair.api.call('GET', '/v1/billing/ledger', { token: user.token });
    expect(ledger.body.balance).toBe(starter.credits);
    expect(ledger.body.data).toHaveLength(1);
  });

  it('refuses a tampered event at the edge: 400, and no credit', async ({ pair, stripe }) => {
    const { user, body } = await checkedOut(pair, stripe);
    const signature = signStripe(body);
    const tampered = body.replace(`"amount_total":${starter.amount}`, '"amount_total":1');
    expect(tampered).not.toBe(body);
    expectApiError(await postEvent(pair, tampered, signature), 400, 'invalid_signature');
    // A stale one too, and one signed with another secret.
    const stale = signStripe(body, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expectApiError(await postEvent(pair, body, stale), 400, 'invalid_signature');
    const forged = signStripe(body, { secret: 'whsec_not_the_right_one_0123456789' });
    expectApiError(await postEvent(pair, body, forged), 400, 'invalid_signature');
    expect(await creditsOf(pair.api, user.token)).toBe(0);
  });

  it('cannot be credited by posting to the origin directly, even with a good Stripe signature', async ({
    pair,
    stripe,
  }) => {
    const { user, body } = await checkedOut(pair, stripe);
    expectApiError(
      await pair.direct.call('POST', '/v1/webhooks/stripe', {
        body,
        headers: { 'stripe-signature': signStripe(body) },
      }),
      401,
      'unauthorized',
    );
    expect(await creditsOf(pair.api, user.token)).toBe(0);
  });
});
