import { ApiError } from '../../shared/errors.ts';
import type { BillingStore } from '../store/store.ts';
import type { Billing } from './billing.ts';

/**
 * Creates a Stripe Checkout Session for one pack (`client_reference_id` = the user, pack
 * and user in metadata) and records it, so the events about it can be checked against it.
 */
export async function createCheckout(
  deps: { billing: Billing; store: BillingStore },
  userId: string,
  packId: string,
): Promise<{ url: string; sessionId: string }> {
  const { billing } = deps;
  if (billing.mode !== 'stripe') {
    throw new ApiError('billing_disabled', 'Billing is off: this origin runs in free mode.');
  }
  const pack = billing.packs.find((p) => p.id === packId);
  if (!pack) {
    throw new ApiError('invalid_request', `Unknown pack '${packId}'.`, {
      details: [{ path: 'pack', message: 'see GET /v1/billing/packs' }],
    });
  }
  const lineItem = pack.priceId
    ? { price: pack.priceId, quantity: 1 }
    : {
        quantity: 1,
        price_data: {
          currency: pack.currency,
          unit_amount: pack.amount,
          product_data: { name: `${pack.credits} Overture credits` },
        },
      };
  let session: { id: string; url: string | null };
  try {
    session = await billing.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [lineItem],
      client_reference_id: userId,
      metadata: { userId, pack: pack.id },
      payment_intent_data: { metadata: { userId, pack: pack.id } },
      success_url: `${billing.publicUrl}/?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${billing.publicUrl}/?checkout=canceled`,
    });
  } catch (error) {
    throw new ApiError('bad_gateway', 'Stripe could not create the checkout; try again.', {
      cause: error,
    });
  }
  if (!session.url) throw new ApiError('bad_gateway', 'Stripe answered a session without a URL.');
  await deps.store.recordCheckout({
    sessionId: session.id,
    userId,
    packId: pack.id,
    credits: pack.credits,
    amount: pack.amount,
    currency: pack.currency,
  });
  return { url: session.url, sessionId: session.id };
}
