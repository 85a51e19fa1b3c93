import type Stripe from 'stripe';
import { ApiError } from '../../shared/errors.ts';
import type { BillingStore } from '../store/store.ts';
import type { Billing } from './billing.ts';
import type { Pack } from './packs.ts';
import type { BillingEvent, BillingOutcome, SessionFacts } from './stripe-reconciliation.ts';

const idOf = (v: string | { id: string } | null | undefined): string | null =>
  v == null ? null : typeof v === 'string' ? v : v.id;

function sessionFacts(s: Stripe.Checkout.Session, packs: Pack[]): SessionFacts {
  const packId = s.metadata?.pack ?? null;
  const pack = packs.find((p) => p.id === packId);
  return {
    sessionId: s.id,
    userId: s.client_reference_id ?? s.metadata?.userId ?? null,
    packId,
    amount: s.amount_total,
    currency: s.currency,
    paymentIntent: idOf(s.payment_intent),
    pack: pack && { credits: pack.credits, amount: pack.amount, currency: pack.currency },
  };
}

/**
 * What a verified Stripe event does to the ledger. Only a session whose `payment_status`
 * is `paid` credits; refunds and disputes take the credits back; other types are ignored.
 */
export function billingEffect(event: Stripe.Event, packs: Pack[]): BillingEvent {
  switch (event.type) {
    case 'checkout.session.completed': {
      const session = sessionFacts(event.data.object, packs);
      return event.data.object.payment_status === 'paid'
        ? { kind: 'session_paid', session }
        : { kind: 'session_unpaid', session };
    }
    case 'checkout.session.async_payment_succeeded':
      return { kind: 'session_paid', session: sessionFacts(event.data.object, packs) };
    case 'checkout.session.async_payment_failed':
      return { kind: 'session_failed', session: sessionFacts(event.data.object, packs) };
    case 'charge.refunded':
      return {
        kind: 'reversal',
        reason: 'refund',
        chargeId: event.data.object.id,
        paymentIntent: idOf(event.data.object.payment_intent),
      };
    case 'charge.dispute.created': {
      const chargeId = idOf(event.data.object.charge);
      if (chargeId === null) return { kind: 'ignored' };
      return {
        kind: 'reversal',
        reason: 'dispute',
        chargeId,
        paymentIntent: idOf(event.data.object.payment_intent),
      };
    }
    default:
      return { kind: 'ignored' };
  }
}

/**
 * Verifies a Stripe event on its raw body (Stripe's signature scheme, 300 s tolerance) and
 * applies it once. The HTTP answer waits for the transaction to be on disk (durableAnswers),
 * so whatever fails is answered with an error and Stripe retries it.
 */
export async function receiveStripeEvent(
  deps: { billing: Billing; store: BillingStore },
  rawBody: string,
  signature: string | undefined,
): Promise<BillingOutcome> {
  const { billing } = deps;
  if (billing.mode !== 'stripe') {
    throw new ApiError('billing_disabled', 'Billing is off: this origin runs in free mode.');
  }
  let event: Stripe.Event;
  try {
    if (!signature) throw new Error('missing');
    event = billing.stripe.webhooks.constructEvent(rawBody, signature, billing.webhookSecret);
  } catch {
    throw new ApiError('invalid_signature', 'The Stripe-Signature header does not verify.');
  }
  const outcome = await deps.store.applyEvent(
    { id: event.id, type: event.type, effect: billingEffect(event, billing.packs) },
    Date.now(),
  );
  return outcome;
}
