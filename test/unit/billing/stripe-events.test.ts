/**
 * What each Stripe event type does to the ledger (`billingEffect`), on events built from
 * Stripe's own fixtures; the credit packs configuration; and the Stripe variables of the
 * environment.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { createBilling } from '../../../origin/billing/billing.ts';
import { loadPacks } from '../../../origin/billing/packs.ts';
import { billingEffect } from '../../../origin/billing/stripe-events.ts';
import { loadEnv } from '../../../origin/env.ts';
import {
  charge,
  checkoutSession,
  dispute,
  newPaymentIntentId,
  stripeEvent,
  testSecretKey,
  testWebhookSecret,
} from '../../helpers/stripe.ts';
import { tempDir } from '../support.ts';

const packs = loadPacks(undefined);
const starter = { credits: 50, amount: 500, currency: 'usd' };

/** The fixture-shaped event as stripe-node's types see it. */
const asEvent = (type: string, object: Record<string, unknown>) =>
  stripeEvent(type, object) as unknown as Stripe.Event;

/** The environment every origin needs besides Stripe's variables. */
const base = { EDGE_SIGNATURE_CHECK: 'off' };

describe('billingEffect: Checkout Session events', () => {
  const userId = 'usr_0123';

  it('credits checkout.session.completed only when payment_status is paid', () => {
    const paymentIntent = newPaymentIntentId();
    const session = checkoutSession({ userId, pack: 'starter', amount: 500, paymentIntent });
    expect(billingEffect(asEvent('checkout.session.completed', session), packs)).toEqual({
      kind: 'session_paid',
      session: {
        sessionId: session.id,
        userId,
        packId: 'starter',
        amount: 500,
        currency: 'usd',
        paymentIntent,
        pack: starter,
      },
    });
    for (const paymentStatus of ['unpaid', 'no_payment_required'] as const) {
      const unpaid = checkoutSession({ userId, pack: 'starter', amount: 500, paymentStatus });
      expect(billingEffect(asEvent('checkout.session.completed', unpaid), packs)).toMatchObject({
        kind: 'session_unpaid',
        session: { sessionId: unpaid.id, userId, packId: 'starter' },
      });
    }
  });

  it('credits async_payment_succeeded and records async_payment_failed', () => {
    // A delayed payment method: the session completed unpaid, then the payment settled.
    const session = checkoutSession({
      userId,
      pack: 'studio',
      amount: 2000,
      paymentStatus: 'paid',
    });
    expect(
      billingEffect(asEvent('checkout.session.async_payment_succeeded', session), packs),
    ).toMatchObject({
      kind: 'session_paid',
      session: { sessionId: session.id, pack: { credits: 250, amount: 2000, currency: 'usd' } },
    });
    const failed = checkoutSession({
      userId,
      pack: 'studio',
      amount: 2000,
      paymentStatus: 'unpaid',
    });
    expect(
      billingEffect(asEvent('checkout.session.async_payment_failed', failed), packs),
    ).toMatchObject({ kind: 'session_failed', session: { sessionId: failed.id } });
  });

  it('reads the user from metadata without client_reference_id, and leaves an unknown pack undefined', () => {
    const session = {
      ...checkoutSession({ userId: null, pack: 'mega', amount: 500 }),
      metadata: { userId, pack: 'mega' },
      payment_intent: { id: 'pi_expanded', object: 'payment_intent' },
    };
    expect(billingEffect(asEvent('checkout.session.completed', session), packs)).toEqual({
      kind: 'session_paid',
      session: {
        sessionId: session.id,
        userId,
        packId: 'mega',
        amount: 500,
        currency: 'usd',
        paymentIntent: 'pi_expanded',
        pack: undefined,
      },
    });
  });

  it('passes on a session with no user and no pack as nulls, for the store to flag', () => {
    const session = { ...checkoutSession({ userId: null, pack: 'x', amount: 500 }), metadata: {} };
    expect(billingEffect(asEvent('checkout.session.completed', session), packs)).toMatchObject({
      kind: 'session_paid',
      session: { userId: null, packId: null, pack: undefined },
    });
  });
});

describe('billingEffect: refunds and disputes', () => {
  it('turns charge.refunded into a refund of the charge and its payment intent', () => {
    const paymentIntent = newPaymentIntentId();
    const refunded = charge({ paymentIntent, amount: 500 });
    expect(billingEffect(asEvent('charge.refunded', refunded), packs)).toEqual({
      kind: 'reversal',
      reason: 'refund',
      chargeId: refunded.id,
      paymentIntent,
    });
    const withoutIntent = { ...refunded, payment_intent: null };
    expect(billingEffect(asEvent('charge.refunded', withoutIntent), packs)).toMatchObject({
      kind: 'reversal',
      paymentIntent: null,
    });
  });

  it('turns charge.dispute.created into a dispute, with the charge as an id or an expanded object', () => {
    const paymentIntent = newPaymentIntentId();
    const disputed = charge({ paymentIntent, amount: 500 });
    const expected = { kind: 'reversal', reason: 'dispute', chargeId: disputed.id, paymentIntent };
    const byId = dispute({ chargeId: disputed.id, paymentIntent, amount: 500 });
    expect(billingEffect(asEvent('charge.dispute.created', byId), packs)).toEqual(expected);
    const expanded = { ...byId, charge: disputed };
    expect(billingEffect(asEvent('charge.dispute.created', expanded), packs)).toEqual(expected);
  });

  it('ignores a dispute that names no charge', () => {
    const noCharge = {
      ...dispute({ chargeId: 'ch_x', paymentIntent: 'pi_x', amount: 1 }),
      charge: null,
    };
    expect(billingEffect(asEvent('charge.dispute.created', noCharge), packs)).toEqual({
      kind: 'ignored',
    });
  });
});

describe('billingEffect: other types', () => {
  it.each([
    'customer.created',
    'payment_intent.succeeded',
    'checkout.session.expired',
    'charge.succeeded',
    'charge.dispute.closed',
    'plan.created',
  ])('ignores %s', (type) => {
    const session = checkoutSession({ userId: 'usr_1', pack: 'starter', amount: 500 });
    expect(billingEffect(asEvent(type, session), packs)).toEqual({ kind: 'ignored' });
  });
});

describe('loadPacks', () => {
  it('answers the shipped packs by default', () => {
    expect(loadPacks(undefined)).toEqual([
      { id: 'starter', credits: 50, amount: 500, currency: 'usd', priceId: null },
      { id: 'studio', credits: 250, amount: 2000, currency: 'usd', priceId: null },
      { id: 'label', credits: 1000, amount: 6000, currency: 'usd', priceId: null },
    ]);
  });

  it('reads BILLING_PACKS_FILE, defaulting priceId to null', () => {
    const file = join(tempDir(), 'packs.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'one', credits: 1, amount: 50, currency: 'eur' },
        { id: 'priced', credits: 9, amount: 900, currency: 'usd', priceId: 'price_123' },
      ]),
    );
    expect(loadPacks(file)).toEqual([
      { id: 'one', credits: 1, amount: 50, currency: 'eur', priceId: null },
      { id: 'priced', credits: 9, amount: 900, currency: 'usd', priceId: 'price_123' },
    ]);
  });

  const good = { id: 'ok', credits: 1, amount: 50, currency: 'usd' };
  it.each([
    ['no packs', []],
    ['duplicate ids', [good, good]],
    ['zero credits', [{ ...good, credits: 0 }]],
    ['an amount below Stripe’s minimum', [{ ...good, amount: 49 }]],
    ['a fractional amount', [{ ...good, amount: 50.5 }]],
    ['an upper-case currency', [{ ...good, currency: 'USD' }]],
    ['a bad id', [{ ...good, id: 'Not Ok' }]],
    ['a price that is not a Stripe Price id', [{ ...good, priceId: 'prod_1' }]],
    ['an unknown field', [{ ...good, bonus: 5 }]],
    ['an object instead of a list', good],
  ])('refuses a file with %s, naming the file', (_, content) => {
    const file = join(tempDir(), 'packs.json');
    writeFileSync(file, JSON.stringify(content));
    expect(() => loadPacks(file)).toThrow(/^invalid credit packs in .*packs\.json/);
  });

  it('refuses a file that is not JSON, and one that does not exist', () => {
    const dir = tempDir();
    const file = join(dir, 'packs.json');
    writeFileSync(file, '{ starter: 50 ');
    expect(() => loadPacks(file)).toThrow();
    expect(() => loadPacks(join(dir, 'missing.json'))).toThrow(/ENOENT/);
  });
});

describe('Stripe variables of the environment', () => {
  it('refuses STRIPE_SECRET_KEY without STRIPE_WEBHOOK_SECRET, and the reverse, without echoing them', () => {
    expect(() => loadEnv({ ...base, STRIPE_SECRET_KEY: testSecretKey })).toThrow(
      /STRIPE_WEBHOOK_SECRET: Stripe mode needs both/,
    );
    let message = '';
    try {
      loadEnv({ ...base, STRIPE_WEBHOOK_SECRET: testWebhookSecret });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('STRIPE_SECRET_KEY:');
    expect(message).not.toContain(testWebhookSecret);
  });

  it('refuses keys of the wrong kind', () => {
    expect(() =>
      loadEnv({
        ...base,
        STRIPE_SECRET_KEY: 'pk_test_1',
        STRIPE_WEBHOOK_SECRET: testWebhookSecret,
      }),
    ).toThrow(/STRIPE_SECRET_KEY:/);
    expect(() =>
      loadEnv({ ...base, STRIPE_SECRET_KEY: testSecretKey, STRIPE_WEBHOOK_SECRET: 'secret' }),
    ).toThrow(/STRIPE_WEBHOOK_SECRET:/);
  });

  it('runs in stripe mode with both keys (no sign-up grant), free mode with neither', () => {
    const stripe = createBilling(
      loadEnv({
        ...base,
        STRIPE_SECRET_KEY: testSecretKey,
        STRIPE_WEBHOOK_SECRET: testWebhookSecret,
        FREE_GRANT_CREDITS: '37',
        PUBLIC_URL: 'https://app.overture.example/',
      }),
    );
    expect(stripe).toMatchObject({
      mode: 'stripe',
      signupGrant: 0,
      webhookSecret: testWebhookSecret,
    });
    expect(stripe.mode === 'stripe' && stripe.publicUrl).toBe('https://app.overture.example');
    const free = createBilling(loadEnv({ ...base, FREE_GRANT_CREDITS: '37' }));
    expect(free).toEqual({ mode: 'free', packs, signupGrant: 37 });
  });
});
