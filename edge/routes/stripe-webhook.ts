import Stripe from 'stripe';
import { ApiError } from '../../shared/errors.ts';
import type { EdgeApp } from '../context.ts';
import { sendToOrigins } from '../origins/send.ts';
import { forwardedRequest } from './forward.ts';

const cryptoProvider = Stripe.createSubtleCryptoProvider();
/** Stripe's default tolerance: a signature older than this is stale. */
const toleranceSeconds = 300;

/**
 * `POST /v1/webhooks/stripe`: the raw body is read once and its `Stripe-Signature` checked
 * with Stripe's own verifier (Web Crypto); a missing, wrong or stale signature is 400
 * `invalid_signature`. A verified event goes on to an origin, signed by the edge (to the
 * next one when an origin cannot take it: the ledger records an event id once), and Stripe
 * hears 200 only once an origin recorded it; 502 when the origin answered otherwise, 503
 * when no origin could take it, so Stripe retries.
 */
export function registerStripeWebhook(app: EdgeApp): void {
  app.post('/v1/webhooks/stripe', async function stripeWebhook(c) {
    const secret = c.get('config').STRIPE_WEBHOOK_SECRET;
    if (!secret)
      throw new ApiError('misconfigured', 'STRIPE_WEBHOOK_SECRET is not set at the edge.');
    const raw = await c.req.text();
    const signature = c.req.header('stripe-signature');
    try {
      if (!signature) throw new Error('no signature');
      await Stripe.webhooks.constructEventAsync(
        raw,
        signature,
        secret,
        toleranceSeconds,
        cryptoProvider,
      );
    } catch {
      throw new ApiError('invalid_signature', 'The Stripe-Signature header does not verify.');
    }
    const sent = await sendToOrigins(c, (await forwardedRequest(c)).request);
    if (!sent.ok) {
      throw new ApiError('not_ready', 'No origin could record the event now; Stripe will retry.', {
        retryAfter: 5,
      });
    }
    await sent.answer.body?.cancel();
    if (!sent.answer.ok) {
      throw new ApiError(
        'bad_gateway',
        `The origin did not record the event (${sent.answer.status}); Stripe will retry.`,
      );
    }
    return c.json({ received: true });
  });
}
