import type { PacksAnswer } from '../../../../shared/schemas/billing.ts';
import { byId, h } from '../dom.ts';
import { showError, showNotice } from '../notify.ts';
import { api } from '../session.ts';

const money = (amount: number, currency: string) =>
  new Intl.NumberFormat(undefined, { style: 'currency', currency: currency.toUpperCase() }).format(
    amount / 100,
  );

/**
 * Credits: in Stripe mode the packs, each with a "Buy credits" button that goes to
 * Checkout; in free mode a plain statement that billing is off. On return from Checkout
 * the purchase shows as pending until the webhook has credited it.
 */
export function setUpBilling(refreshBalance: () => Promise<number | undefined>): {
  load(): Promise<void>;
  refreshLedger(): Promise<void>;
} {
  const status = byId('billing-status');
  const list = byId('packs');
  const ledgerList = byId('ledger');

  const reasons: Record<string, string> = {
    grant: 'Welcome grant',
    purchase: 'Purchase',
    job: 'Job',
    refund: 'Refund of a job',
    chargeback: 'Payment reversed',
    adjustment: 'Adjustment',
  };
  const refreshLedger = async () => {
    try {
      const ledger = await api.ledger();
      ledgerList.replaceChildren(
        ...ledger.data
          .slice(0, 6)
          .map((e) =>
            h(
              'li',
              {},
              h(
                'span',
                {},
                `${reasons[e.reason] ?? e.reason} · ${new Date(e.createdAt).toLocaleTimeString()}`,
              ),
              h(
                'span',
                { class: e.delta >= 0 ? 'plus' : 'minus' },
                `${e.delta >= 0 ? '+' : '−'}${Math.abs(e.delta)}`,
              ),
            ),
          ),
      );
      if (ledger.data.length === 0) ledgerList.append(h('li', { class: 'hint' }, 'Nothing yet.'));
    } catch (error) {
      showError(error, 'Could not load your credit history');
    }
  };

  const render = (packs: PacksAnswer) => {
    if (packs.mode === 'free') {
      status.textContent = `Billing is off on this server (free mode): every new account gets ${packs.signupGrant} credits.`;
      list.replaceChildren();
      return;
    }
    status.textContent =
      'Buy credits with Stripe Checkout; they arrive as soon as Stripe confirms the payment.';
    list.replaceChildren(
      ...packs.data.map((pack) => {
        const buy = h(
          'button',
          {
            type: 'button',
            'aria-label': `Buy credits: ${pack.credits} for ${money(pack.amount, pack.currency)}`,
          },
          'Buy credits',
        );
        buy.addEventListener('click', async () => {
          buy.disabled = true;
          try {
            const { url } = await api.checkout(pack.id);
            location.assign(url);
          } catch (error) {
            showError(error, 'Could not start the checkout');
            buy.disabled = false;
          }
        });
        return h(
          'li',
          {},
          h('span', {}, `${pack.credits} credits — ${money(pack.amount, pack.currency)}`),
          buy,
        );
      }),
    );
  };

  /** Back from Checkout: wait (visibly) for the webhook's credit of this session. */
  const awaitPurchase = async (sessionId: string) => {
    const pending = showNotice(
      'Payment received — your credits are pending until Stripe confirms it…',
      0,
    );
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      try {
        const ledger = await api.ledger();
        const entry = ledger.data.find((e) => e.reason === 'purchase' && e.reference === sessionId);
        if (entry) {
          pending.remove();
          showNotice(`${entry.delta} credits added.`);
          await Promise.all([refreshBalance(), refreshLedger()]);
          return;
        }
      } catch (error) {
        showError(error, 'Could not check the purchase');
        break;
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
    pending.remove();
    showNotice(
      'The purchase has not been confirmed yet; it will appear in your balance when it is.',
    );
  };

  return {
    refreshLedger,
    async load() {
      void refreshLedger();
      try {
        render(await api.packs());
      } catch (error) {
        showError(error, 'Could not load the credit packs');
      }
      const params = new URLSearchParams(location.search);
      const checkout = params.get('checkout');
      if (checkout) history.replaceState(null, '', location.pathname);
      if (checkout === 'canceled') showNotice('Checkout canceled: nothing was charged.');
      const sessionId = params.get('session_id');
      if (checkout === 'success' && sessionId) void awaitPurchase(sessionId);
    },
  };
}
