import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

const fixtures = JSON.parse(
  readFileSync(new URL('../fixtures/stripe/stripe-objects.json', import.meta.url), 'utf8'),
) as Record<string, Record<string, unknown>>;

const fixture = (name: string): Record<string, unknown> =>
  structuredClone(fixtures[name] ?? {}) as Record<string, unknown>;

export const testWebhookSecret = 'whsec_test_overture_0123456789abcdef';
export const testSecretKey = 'sk_test_overture_local_double';

const rid = (prefix: string) => `${prefix}_test_${randomBytes(12).toString('hex')}`;
export const newSessionId = () => rid('cs');
export const newPaymentIntentId = () => rid('pi');
export const newChargeId = () => rid('ch');
export const newEventId = () => rid('evt');

/** A Stripe event envelope (fixture-shaped) around one object. */
export function stripeEvent(type: string, object: Record<string, unknown>, id = newEventId()) {
  return {
    ...fixture('event'),
    id,
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object },
  };
}

/** A Checkout Session as Stripe sends it in events, with the fields Overture reads set. */
export function checkoutSession(fields: {
  id?: string;
  userId: string | null;
  pack: string;
  amount: number;
  currency?: string;
  paymentIntent?: string;
  paymentStatus?: 'paid' | 'unpaid' | 'no_payment_required';
}) {
  return {
    ...fixture('checkout.session'),
    id: fields.id ?? newSessionId(),
    object: 'checkout.session',
    mode: 'payment',
    status: fields.paymentStatus === 'unpaid' ? 'complete' : 'complete',
    client_reference_id: fields.userId,
    metadata: { pack: fields.pack, ...(fields.userId ? { userId: fields.userId } : {}) },
    amount_total: fields.amount,
    amount_subtotal: fields.amount,
    currency: fields.currency ?? 'usd',
    payment_intent: fields.paymentIntent ?? newPaymentIntentId(),
    payment_status: fields.paymentStatus ?? 'paid',
  };
}

export function charge(fields: { id?: string; paymentIntent: string; amount: number }) {
  return {
    ...fixture('charge'),
    id: fields.id ?? newChargeId(),
    payment_intent: fields.paymentIntent,
    amount: fields.amount,
    amount_captured: fields.amount,
    amount_refunded: fields.amount,
    refunded: true,
    captured: true,
  };
}

export function dispute(fields: { chargeId: string; paymentIntent: string; amount: number }) {
  return {
    ...fixture('dispute'),
    id: rid('dp'),
    charge: fields.chargeId,
    payment_intent: fields.paymentIntent,
    amount: fields.amount,
  };
}

const signer = new Stripe(testSecretKey);

/**
 * Signs a payload with Stripe's real scheme (`t=…,v1=HMAC-SHA256("t.payload")`).
 *
 * @example
 * const body = JSON.stringify(stripeEvent('checkout.session.completed', session));
 * fetch(url, { method: 'POST', body, headers: { 'stripe-signature': signStripe(body) } });
 */
export function signStripe(
  payload: string,
  options: { secret?: string; timestamp?: number } = {},
): string {
  return signer.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? testWebhookSecret,
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
}

export interface StripeDouble {
  url: string;
  /** The form fields of every create-session call received. */
  sessions: Record<string, string>[];
  /** Stops listening: Stripe is unreachable. */
  close(): Promise<void>;
  /** Listens again on the same port after `close()`: Stripe is back where the origin expects it. */
  reopen(): Promise<void>;
}

/**
 * A local HTTP double of the one Stripe API call Overture makes (`POST
 * /v1/checkout/sessions`): this machine cannot reach Stripe, so tests point stripe-node at
 * it with `STRIPE_API_URL`. It answers a fixture-shaped session. Tests get one from the
 * `stripe` fixture (`fixtures.ts`), which closes it.
 */
export async function startStripeDouble(): Promise<StripeDouble> {
  const sessions: Record<string, string>[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method !== 'POST' || req.url !== '/v1/checkout/sessions') {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'unknown' } }));
        return;
      }
      const form = Object.fromEntries(new URLSearchParams(body));
      sessions.push(form);
      const id = newSessionId();
      res.end(
        JSON.stringify({
          ...fixture('checkout.session'),
          id,
          object: 'checkout.session',
          mode: 'payment',
          status: 'open',
          payment_status: 'unpaid',
          client_reference_id: form.client_reference_id ?? null,
          metadata: { userId: form['metadata[userId]'], pack: form['metadata[pack]'] },
          amount_total: Number(form['line_items[0][price_data][unit_amount]'] ?? 0),
          currency: form['line_items[0][price_data][currency]'] ?? 'usd',
          success_url: form.success_url,
          cancel_url: form.cancel_url,
          url: `https://checkout.stripe.com/c/pay/${id}`,
        }),
      );
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sessions,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // stripe-node keeps its connection alive; without this, close waits for it to idle out.
        server.closeAllConnections();
      }),
    reopen: () => listen(port),
  };
}

/** The origin settings of Stripe mode, pointed at a double. */
export function stripeModeEnv(double: StripeDouble): Record<string, string> {
  return {
    STRIPE_API_URL: double.url,
    STRIPE_SECRET_KEY: testSecretKey,
    STRIPE_WEBHOOK_SECRET: testWebhookSecret,
  };
}
