import type { CreditFlows } from '../../shared/schemas/stats.ts';
import type { LedgerSample } from '../store/store.ts';

/** No credits moved. */
export const noCreditFlows = (): CreditFlows => ({
  purchased: 0,
  granted: 0,
  spent: 0,
  refunded: 0,
  takenBack: 0,
  adjusted: 0,
  net: 0,
});

/**
 * The credits some ledger rows moved, by reason: a job's debit (negative) is spent, a
 * chargeback's taken back, both as positive amounts; `net` is the sum of every delta, so it is
 * what the rows changed the balance by.
 *
 * @example
 * creditFlows([{ reason: 'job', delta: -2, createdAt: 0 }, { reason: 'refund', delta: 2, createdAt: 1 }]);
 * // { spent: 2, refunded: 2, net: 0, … }
 */
export function creditFlows(rows: readonly LedgerSample[]): CreditFlows {
  const flows = noCreditFlows();
  for (const { reason, delta } of rows) {
    flows.net += delta;
    if (reason === 'purchase') flows.purchased += delta;
    else if (reason === 'grant') flows.granted += delta;
    else if (reason === 'job') flows.spent -= delta;
    else if (reason === 'refund') flows.refunded += delta;
    else if (reason === 'chargeback') flows.takenBack -= delta;
    else flows.adjusted += delta;
  }
  return flows;
}
