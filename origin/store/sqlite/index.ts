import { defaultMaxProgressDeliveries } from '../../jobs/job-events.ts';
import { GroupSync } from '../../lib/group-sync.ts';
import type { JobEvent, Store } from '../store.ts';
import { sqliteAccounts } from './accounts.ts';
import { sqliteBilling } from './billing.ts';
import { openDatabase } from './database.ts';
import { sqliteFiles } from './files.ts';
import { sqliteJobs } from './jobs.ts';
import { ledgerWriter, sqliteLedger } from './ledger.ts';
import { sqliteSessions } from './sessions.ts';
import { sqliteStats } from './stats.ts';
import { sqliteWebhooks } from './webhooks.ts';

type Listener = (event: JobEvent) => void;

/**
 * The store on one SQLite file (WAL, migrations applied). One process owns the file, so
 * the events it commits are all the events there are: `events` and `jobs.onCommit` hear
 * the same ones.
 *
 * @example
 * const store = openSqliteStore(join(env.DATA_DIR, 'overture.sqlite'));
 */
export function openSqliteStore(
  file: string,
  options: {
    onListenerError?: (error: unknown, event: JobEvent) => void;
    /** `progress` webhook deliveries a job may write (`WEBHOOK_MAX_PROGRESS_PER_JOB`). */
    maxProgressDeliveries?: number;
  } = {},
): Store {
  const db = openDatabase(file);
  const ledger = ledgerWriter(db);
  // Transactions commit to the WAL without an fsync each (synchronous = NORMAL); durable()
  // shares one fsync of the WAL among all who wait. In memory (tests) there is no WAL.
  const wal = file === ':memory:' ? undefined : new GroupSync(`${file}-wal`, 'r+');
  const local = new Set<Listener>();
  const everyone = new Set<Listener>();
  // The transaction has committed: a listener that throws must not turn that into an
  // error for the caller, nor keep the event from the other listeners.
  const emit = (events: readonly (JobEvent | undefined)[]): void => {
    for (const event of events) {
      if (!event) continue;
      for (const listener of [...local, ...everyone]) {
        try {
          listener(event);
        } catch (error) {
          options.onListenerError?.(error, event);
        }
      }
    }
  };
  const { jobs, writes } = sqliteJobs(
    db,
    ledger,
    emit,
    options.maxProgressDeliveries ?? defaultMaxProgressDeliveries,
  );
  const listen = (set: Set<Listener>) => (listener: Listener) => {
    set.add(listener);
    return () => set.delete(listener);
  };
  return {
    accounts: sqliteAccounts(db, ledger),
    sessions: sqliteSessions(db),
    jobs: { ...jobs, onCommit: listen(local) },
    ledger: sqliteLedger(db),
    webhooks: sqliteWebhooks(db),
    billing: sqliteBilling(db, ledger),
    stats: sqliteStats(db),
    files: sqliteFiles(db),
    events: { listen: listen(everyone) },
    exclusive: true,
    durable: () => wal?.sync() ?? Promise.resolve(),
    async close() {
      // Writes asked for and not yet committed commit now (the last connection's close
      // checkpoints the WAL into the file, synced); later ones are refused.
      writes.close();
      await wal?.close();
      db.$client.close();
    },
  };
}
