import { GroupSync } from '../../lib/group-sync.ts';
import { openDatabase } from '../database.ts';
import type { JobEvent, Store } from '../store.ts';
import { sqliteAccounts } from './accounts.ts';
import { sqliteBilling } from './billing.ts';
import { sqliteJobs } from './jobs.ts';
import { ledgerWriter, sqliteLedger } from './ledger.ts';
import { sqliteStats } from './stats.ts';
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
  const ledger = ledgerWriter(db);
  // Transactions commit to the WAL without an fsync each (synchronous = NORMAL); durable()
  // shares one fsync of the WAL among all who wait. In memory (tests) there is no WAL.
  const wal = file === ':memory:' ? undefined : new GroupSync(`${file}-wal`, 'r+');
  return {
    accounts: sqliteAccounts(db),
    jobs: sqliteJobs(db, ledger, options.onListenerError),
    ledger: sqliteLedger(db),
    webhooks: sqliteWebhooks(db),
    billing: sqliteBilling(db, ledger),
    stats: sqliteStats(db),
    durable: () => wal?.sync() ?? Promise.resolve(),
    close: () => {
      void wal?.close();
      db.$client.close();
    },
  };
}
