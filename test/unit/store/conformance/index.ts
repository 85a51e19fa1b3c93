import { describe } from 'vitest';
import { accountsSuite } from './accounts.ts';
import { billingSuite } from './billing.ts';
import { filesSuite } from './files.ts';
import { jobsClaimsSuite } from './jobs-claims.ts';
import { jobsCreateSuite } from './jobs-create.ts';
import { jobsEventsSuite } from './jobs-events.ts';
import { jobsFairnessSuite } from './jobs-fairness.ts';
import { jobsLifecycleSuite } from './jobs-lifecycle.ts';
import { ledgerSuite } from './ledger.ts';
import { ledgerPropertySuite } from './ledger-property.ts';
import { sessionsSuite } from './sessions.ts';
import { statsSuite } from './stats.ts';
import type { StoreFactory } from './store-factory.ts';
import { webhooksSuite } from './webhooks.ts';

export type { StoreFactory };

/**
 * The store contract as tests, in the manner of BullMQ's queue-backend suite: every store
 * implementation runs all of it, so routes, scheduler and hub can rely on the contract
 * whatever database is under it.
 *
 * @example
 * storeConformance('sqlite', sqliteFactory);
 */
export function storeConformance(name: string, factory: StoreFactory): void {
  describe(`store conformance: ${name}`, () => {
    accountsSuite(factory);
    sessionsSuite(factory);
    billingSuite(factory);
    jobsCreateSuite(factory);
    jobsLifecycleSuite(factory);
    jobsClaimsSuite(factory);
    jobsEventsSuite(factory);
    jobsFairnessSuite(factory);
    ledgerSuite(factory);
    ledgerPropertySuite(factory);
    webhooksSuite(factory);
    statsSuite(factory);
    filesSuite(factory);
  });
}
