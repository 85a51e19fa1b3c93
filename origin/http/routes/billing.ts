import {
  checkoutSchema,
  type LedgerAnswer,
  type PacksAnswer,
  type StripeReceipt,
} from '../../../shared/schemas/billing.ts';
import { createCheckout } from '../../billing/checkout.ts';
import { receiveStripeEvent } from '../../billing/stripe-events.ts';
import type { App } from '../context.ts';
import { requireUser } from '../middleware/require-user.ts';
import { readJson } from '../validation.ts';

/** Credit packs, Stripe Checkout, the user's ledger, and Stripe's webhook. */
export function registerBilling(app: App): void {
  app.get('/v1/billing/packs', (c) => {
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
    return c.json(body);
  });

  app.post('/v1/billing/checkout', requireUser(), async (c) => {
    const { pack } = await readJson(c, checkoutSchema);
    const s = c.get('services');
    return c.json(
      await createCheckout(
        { billing: s.billing, store: s.store.billing },
        c.get('principal').userId,
        pack,
      ),
    );
  });

  app.get('/v1/billing/ledger', requireUser(), async (c) => {
    const s = c.get('services');
    const userId = c.get('principal').userId;
    const entries = await s.store.ledger.entries(userId, 100);
    const body: LedgerAnswer = {
      mode: s.billing.mode,
      balance: await s.store.ledger.balance(userId),
      data: entries.map((e) => ({ ...e, createdAt: new Date(e.createdAt).toISOString() })),
    };
    return c.json(body);
  });

  // The raw body is read once, as text, so the signature is checked on exactly what was sent.
  app.post('/v1/webhooks/stripe', async (c) => {
    const s = c.get('services');
    const outcome = await receiveStripeEvent(
      { billing: s.billing, store: s.store.billing },
      await c.req.text(),
      c.req.header('stripe-signature'),
    );
    const body: StripeReceipt = { received: true, outcome };
    return c.json(body);
  });
}
