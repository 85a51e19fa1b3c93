/**
 * Stripe billing on a real origin process. This machine cannot reach Stripe: a local HTTP
 * double (`startStripeDouble`) stands in for the one API call the origin makes, creating a
 * Checkout Session, through `STRIPE_API_URL`. Events reach the webhook as Stripe sends
 * them: fixture-shaped JSON signed with Stripe's real scheme (`signStripe`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import type { Api } from '../helpers/api.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';
import {
  charge,
  checkoutSession,
  dispute,
  newChargeId,
  newEventId,
  newPaymentIntentId,
  signStripe,
  stripeEvent,
  stripeModeEnv,
  testSecretKey,
  testWebhookSecret,
} from '../helpers/stripe.ts';

const packs = [
  { id: 'starter', credits: 50, amount: 500, currency: 'usd' },
  { id: 'taster', credits: 2, amount: 50, currency: 'usd' },
  { id: 'euro', credits: 120, amount: 1100, currency: 'eur' },
];
type PackId = 'starter' | 'taster' | 'euro';
const packOf = (id: PackId) => packs.find((p) => p.id === id) as (typeof packs)[number];
const publicUrl = 'https://app.overture.example';

it.override('originOptions', ({ stripe, fileOrigins }) => {
  const packsFile = join(fileOrigins.dataDir(), 'packs.json');
  writeFileSync(packsFile, JSON.stringify(packs));
  return {
    env: {
      ...stripeModeEnv(stripe),
      PUBLIC_URL: `${publicUrl}/`,
      BILLING_PACKS_FILE: packsFile,
      // The `steps` fixture only: no ONNX model to load.
      MODEL_DIR: fixtureModels,
      POOL_THREADS: '1',
    },
  };
});

/** Posts a raw body to the webhook, with a Stripe-Signature header unless it is undefined. */
function postEvent(api: Api, body: string, signature: string | undefined) {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (signature !== undefined) headers['stripe-signature'] = signature;
  return api.call('POST', '/v1/webhooks/stripe', { body, headers });
}

/** Sends one event, signed as Stripe signs it, and expects it accepted with `outcome`. */
async function send(
  api: Api,
  type: string,
  object: Record<string, unknown>,
  outcome: string,
  id?: string,
) {
  const body = JSON.stringify(stripeEvent(type, object, id));
  const res = await postEvent(api, body, signStripe(body));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toEqual({ received: true, outcome });
}

async function checkout(api: Api, token: string, pack: PackId): Promise<string> {
  const res = await api.call('POST', '/v1/billing/checkout', { token, body: { pack } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.sessionId as string;
}

/** A user's checkout of `pack` as the session of Stripe's events, with its payment intent. */
async function checkedOut(api: Api, user: { id: string; token: string }, pack: PackId) {
  const { amount, currency } = packOf(pack);
  const paymentIntent = newPaymentIntentId();
  const id = await checkout(api, user.token, pack);
  return {
    paymentIntent,
    session: (paymentStatus: 'paid' | 'unpaid' = 'paid') =>
      checkoutSession({
        id,
        userId: user.id,
        pack,
        amount,
        currency,
        paymentIntent,
        paymentStatus,
      }),
  };
}

/** Checks out and pays `pack` (checkout.session.completed, paid). */
async function buy(api: Api, user: { id: string; token: string }, pack: PackId) {
  const bought = await checkedOut(api, user, pack);
  await send(api, 'checkout.session.completed', bought.session(), 'credited');
  return bought;
}

async function ledgerOf(api: Api, token: string) {
  const res = await api.call('GET', '/v1/billing/ledger', { token });
  expect(res.status).toBe(200);
  return res.body as {
    mode: string;
    balance: number;
    data: { delta: number; reason: string; reference: string; createdAt: string }[];
  };
}

/** The ledger rows as `reason:reference delta`, oldest first. */
async function rowsOf(api: Api, token: string): Promise<string[]> {
  const { data } = await ledgerOf(api, token);
  return data.reverse().map((e) => `${e.reason}:${e.reference} ${e.delta}`);
}

describe('packs and checkout', () => {
  it('answers the configured packs in stripe mode, with no sign-up grant', async ({ api }) => {
    const res = await api.call('GET', '/v1/billing/packs');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ mode: 'stripe', signupGrant: 0, data: packs });
    const { token } = await api.signUp();
    expect(await creditsOf(api, token)).toBe(0);
    expect(await ledgerOf(api, token)).toEqual({ mode: 'stripe', balance: 0, data: [] });
  });

  it('creates a Checkout Session for this user and pack', async ({ api, stripe }) => {
    const user = await api.signUp();
    const res = await api.call('POST', '/v1/billing/checkout', {
      token: user.token,
      body: { pack: 'euro' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      url: `https://checkout.stripe.com/c/pay/${res.body.sessionId}`,
      sessionId: expect.stringMatching(/^cs_test_/),
    });
    const sent = stripe.sessions.at(-1);
    expect(sent).toMatchObject({
      mode: 'payment',
      client_reference_id: user.id,
      'metadata[userId]': user.id,
      'metadata[pack]': 'euro',
      'payment_intent_data[metadata][userId]': user.id,
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][unit_amount]': '1100',
      'line_items[0][price_data][currency]': 'eur',
      success_url: `${publicUrl}/?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${publicUrl}/?checkout=canceled`,
    });
  });

  it('refuses an unknown pack (400) and a missing token (401) without calling Stripe', async ({
    api,
    stripe,
  }) => {
    const { token } = await api.signUp();
    const calls = stripe.sessions.length;
    const unknown = await api.call('POST', '/v1/billing/checkout', {
      token,
      body: { pack: 'mega' },
    });
    expectApiError(unknown, 400, 'invalid_request');
    expect(unknown.body.error.details).toEqual([
      { path: 'pack', message: 'see GET /v1/billing/packs' },
    ]);
    expectApiError(
      await api.call('POST', '/v1/billing/checkout', { token, body: {} }),
      400,
      'invalid_request',
    );
    expectApiError(
      await api.call('POST', '/v1/billing/checkout', { body: { pack: 'starter' } }),
      401,
      'unauthorized',
    );
    expect(stripe.sessions.length).toBe(calls);
  });
});

describe('Stripe events through the signed webhook', () => {
  it('credits checkout.session.completed when paid', async ({ api }) => {
    const user = await api.signUp();
    const bought = await checkedOut(api, user, 'starter');
    await send(api, 'checkout.session.completed', bought.session(), 'credited');
    expect(await creditsOf(api, user.token)).toBe(50);
    const ledger = await ledgerOf(api, user.token);
    expect(ledger).toMatchObject({ mode: 'stripe', balance: 50 });
    expect(ledger.data).toEqual([
      {
        id: expect.any(Number),
        delta: 50,
        reason: 'purchase',
        reference: bought.session().id,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
  });

  it('credits an unpaid completion only once async_payment_succeeded arrives', async ({ api }) => {
    const user = await api.signUp();
    const bought = await checkedOut(api, user, 'starter');
    await send(api, 'checkout.session.completed', bought.session('unpaid'), 'recorded');
    expect(await creditsOf(api, user.token)).toBe(0);
    await send(api, 'checkout.session.async_payment_succeeded', bought.session(), 'credited');
    expect(await creditsOf(api, user.token)).toBe(50);
  });

  it('records async_payment_failed and credits nothing', async ({ api }) => {
    const user = await api.signUp();
    const bought = await checkedOut(api, user, 'starter');
    await send(api, 'checkout.session.completed', bought.session('unpaid'), 'recorded');
    await send(api, 'checkout.session.async_payment_failed', bought.session('unpaid'), 'recorded');
    expect(await creditsOf(api, user.token)).toBe(0);
    expect(await rowsOf(api, user.token)).toEqual([]);
  });

  it('takes the credits back on charge.refunded and on charge.dispute.created', async ({ api }) => {
    const user = await api.signUp();
    const refunded = await buy(api, user, 'starter');
    const disputed = await buy(api, user, 'euro');
    expect(await creditsOf(api, user.token)).toBe(170);

    const refundCharge = charge({ paymentIntent: refunded.paymentIntent, amount: 500 });
    await send(api, 'charge.refunded', refundCharge, 'reversed');
    expect(await creditsOf(api, user.token)).toBe(120);
    const disputedCharge = newChargeId();
    const opened = dispute({
      chargeId: disputedCharge,
      paymentIntent: disputed.paymentIntent,
      amount: 1100,
    });
    await send(api, 'charge.dispute.created', opened, 'reversed');
    expect(await creditsOf(api, user.token)).toBe(0);
    expect(await rowsOf(api, user.token)).toEqual([
      `purchase:${refunded.session().id} 50`,
      `purchase:${disputed.session().id} 120`,
      `chargeback:${refundCharge.id} -50`,
      `chargeback:${disputedCharge} -120`,
    ]);
  });

  it('flags a payment that does not match its checkout, crediting nothing', async ({ api }) => {
    const user = await api.signUp();
    const bought = await checkedOut(api, user, 'starter');
    await send(
      api,
      'checkout.session.completed',
      { ...bought.session(), amount_total: 50 },
      'flagged',
    );
    expect(await creditsOf(api, user.token)).toBe(0);
  });

  it('answers 200 to an unknown event type and changes nothing', async ({ api }) => {
    const user = await api.signUp();
    const bought = await buy(api, user, 'taster');
    const before = await ledgerOf(api, user.token);
    // An event Overture does not act on, about this very session and payment.
    await send(api, 'checkout.session.expired', bought.session(), 'ignored');
    await send(api, 'payment_intent.canceled', { id: bought.paymentIntent }, 'ignored');
    expect(await ledgerOf(api, user.token)).toEqual(before);
  });

  it('credits the same event delivered five times, at once, exactly once', async ({ api }) => {
    const user = await api.signUp();
    const bought = await checkedOut(api, user, 'starter');
    const body = JSON.stringify(stripeEvent('checkout.session.completed', bought.session()));
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => postEvent(api, body, signStripe(body))),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.body.outcome).sort()).toEqual([
      'credited',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    expect(await creditsOf(api, user.token)).toBe(50);
    expect(await rowsOf(api, user.token)).toEqual([`purchase:${bought.session().id} 50`]);
  });

  it('ends at the same balance when the refund arrives before the completion', async ({ api }) => {
    const inOrder = await api.signUp();
    const early = await api.signUp();
    for (const user of [inOrder, early]) await buy(api, user, 'euro');

    const first = await buy(api, inOrder, 'starter');
    await send(
      api,
      'charge.refunded',
      charge({ paymentIntent: first.paymentIntent, amount: 500 }),
      'reversed',
    );

    const second = await checkedOut(api, early, 'starter');
    await send(
      api,
      'charge.refunded',
      charge({ paymentIntent: second.paymentIntent, amount: 500 }),
      'recorded',
    );
    expect(await creditsOf(api, early.token)).toBe(120);
    await send(api, 'checkout.session.completed', second.session(), 'credited');

    expect(await creditsOf(api, inOrder.token)).toBe(120);
    expect(await creditsOf(api, early.token)).toBe(120);
    const reasons = async (token: string) =>
      (await ledgerOf(api, token)).data.map((e) => `${e.reason} ${e.delta}`).sort();
    expect(await reasons(early.token)).toEqual(await reasons(inOrder.token));
  });

  it('lets a chargeback of spent credits take the balance negative; jobs wait for a positive one', async ({
    api,
  }) => {
    const user = await api.signUp();
    const bought = await buy(api, user, 'taster');
    const input = { steps: 1, stepMs: 0 };
    const spent = [
      await submitJob(api, user.token, 'steps', input),
      await submitJob(api, user.token, 'steps', input),
    ];
    for (const job of spent) {
      expect((await api.waitForJob(user.token, job.id)).status).toBe('succeeded');
    }
    expect(await creditsOf(api, user.token)).toBe(0);

    const disputed = dispute({
      chargeId: newChargeId(),
      paymentIntent: bought.paymentIntent,
      amount: 50,
    });
    await send(api, 'charge.dispute.created', disputed, 'reversed');
    expect(await creditsOf(api, user.token)).toBe(-2);
    const refused = await api.call('POST', '/v1/jobs', {
      token: user.token,
      body: { model: 'steps', input },
    });
    expectApiError(refused, 402, 'insufficient_credits');
    expect(refused.body.error.details).toEqual({ balance: -2, cost: 1 });

    await buy(api, user, 'taster');
    expect(await creditsOf(api, user.token)).toBe(0);
    expectApiError(
      await api.call('POST', '/v1/jobs', { token: user.token, body: { model: 'steps', input } }),
      402,
      'insufficient_credits',
    );
    await buy(api, user, 'starter');
    expect(await creditsOf(api, user.token)).toBe(50);
    await submitJob(api, user.token, 'steps', input);
    expect(await creditsOf(api, user.token)).toBe(49);
    const { balance, data } = await ledgerOf(api, user.token);
    expect(data.reduce((sum, e) => sum + e.delta, 0)).toBe(balance);
  });
});

describe('Stripe-Signature', () => {
  it('answers 400 invalid_signature to every bad signature, crediting nothing', async ({ api }) => {
    const user = await api.signUp();
    const bought = await checkedOut(api, user, 'starter');
    const event = stripeEvent('checkout.session.completed', bought.session(), newEventId());
    const body = JSON.stringify(event);
    const tampered = JSON.stringify({
      ...event,
      data: { object: { ...bought.session(), amount_total: 50 } },
    });
    const now = Math.floor(Date.now() / 1000);
    const bad: [string, string, string | undefined][] = [
      ['tampered body', tampered, signStripe(body)],
      ['wrong secret', body, signStripe(body, { secret: 'whsec_not_the_origins_secret' })],
      ['stale timestamp', body, signStripe(body, { timestamp: now - 301 })],
      ['missing header', body, undefined],
      ['garbage header', body, 'garbage'],
      ['empty header', body, ''],
    ];
    for (const [what, sent, signature] of bad) {
      const res = await postEvent(api, sent, signature);
      expect(res.status, what).toBe(400);
      expectApiError(res, 400, 'invalid_signature');
    }
    expect(await creditsOf(api, user.token)).toBe(0);
    expect(await rowsOf(api, user.token)).toEqual([]);

    // The same event, signed properly, is credited: it was the signatures that were refused.
    const res = await postEvent(api, body, signStripe(body));
    expect(res.body).toEqual({ received: true, outcome: 'credited' });
    expect(await creditsOf(api, user.token)).toBe(50);
  });
});

describe('Stripe unreachable', () => {
  it('answers 502 bad_gateway JSON with no stack or secret, and recovers when Stripe is back', async ({
    api,
    origin,
    stripe,
  }) => {
    const user = await api.signUp();
    await stripe.close();
    try {
      const res = await api.call('POST', '/v1/billing/checkout', {
        token: user.token,
        body: { pack: 'starter' },
      });
      expectApiError(res, 502, 'bad_gateway');
      expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message', 'requestId']);
      const text = res.text;
      for (const leak of [testSecretKey, testWebhookSecret, 'ECONNREFUSED', 'stack', '    at ']) {
        expect(text).not.toContain(leak);
      }
    } finally {
      await stripe.reopen();
    }
    await checkout(api, user.token, 'starter');
    for (const secret of [testSecretKey, testWebhookSecret]) {
      expect(origin.output()).not.toContain(secret);
    }
  });
});
