import * as api from '../../../shared/api/billing.ts';
import type { LedgerAnswer, PacksAnswer, StripeReceipt } from '../../../shared/schemas/billing.ts';
import { createCheckout } from '../../billing/checkout.ts';
import { receiveStripeEvent } from '../../billing/stripe-events.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';

/** Credit packs, Stripe Checkout, the user's ledger, and Stripe's webhook. */
export function registerBilling(app: App): void {
  app.openapi(enforce(api.listPacks), (c) => {
    const { billing } = c.get('services');
    const body: PacksAnswer = {
      mode: billing.mode,
      signupGrant: billing.signupGrant,
      data: billing.packs.map(({ id, credits, amount, currency }) => ({
        id,
        credits,
        amount,
        currency,
      })),
    };
    return c.json(body, 200);
  });

  app.openapi(enforce(api.checkout), async (c) => {
    const { pack } = c.req.valid('json');
    const s = c.get('services');
    return c.json(
      await createCheckout(
        { billing: s.billing, store: s.store.billing },
        c.get('principal').userId,
        pack,
      ),
      200,
    );
  });

  app.openapi(enforce(api.getLedger), async (c) => {
    const s = c.get('services');
    const userId = c.get('principal').userId;
    const entries = await s.store.ledger.entries(userId, 100);
    const body: LedgerAnswer = {
      mode: s.billing.mode,
      balance: await s.store.ledger.balance(userId),
      data: entries.map((e) => ({ ...e, createdAt: new Date(e.createdAt).toISOString() })),
    };
    return c.json(body, 200);
  });

  // The raw body is read once, as text, so the signature is checked on exactly what was sent.
  app.openapi(enforce(api.receiveStripeEvent), async (c) => {
    const s = c.get('services');
    const outcome = await receiveStripeEvent(
      { billing: s.billing, store: s.store.billing },
      await c.req.text(),
      c.req.valid('header')['Stripe-Signature'],
    );
    const body: StripeReceipt = { received: true, outcome };
    return c.json(body, 200);
  });
}
