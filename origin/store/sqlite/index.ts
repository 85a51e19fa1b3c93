import { openDatabase } from '../database.ts';
import type { JobEvent, Store } from '../store.ts';
import { sqliteAccounts } from './accounts.ts';
import { sqliteBilling } from './billing.ts';
import { sqliteJobs } from './jobs.ts';
import { sqliteLedger } from './ledger.ts';
import { sqliteStats } from './stats.ts';
import { WalSync } from './wal-sync.ts';
import { sqliteWebhooks } from './webhooks.ts';

/**
 * The store on one SQLite file (WAL, migrations applied).
 *
 * @example
 * const store = openSqliteStore(join(env.DATA_DIR, 'overture.sqlite'));
 */
export function openSqliteStore(
  file: string,
  options: { onListenerError?: (error: unknown, event: JobEvent) => void } = {},
): Store {
  const db = openDatabase(file);
  // An in-memory database (tests) has no WAL and nothing to make durable.
  const wal = file === ':memory:' ? undefined : new WalSync(file);
  return {
    accounts: sqliteAccounts(db),
    jobs: sqliteJobs(db, options.onListenerError),
    ledger: sqliteLedger(db),
    webhooks: sqliteWebhooks(db),
    billing: sqliteBilling(db),
    stats: sqliteStats(db),
    durable: () => wal?.durable() ?? Promise.resolve(),
    close: () => {
      void wal?.close();
      db.$client.close();
    },
  };
}
