import { defaultMaxProgressDeliveries } from '../../jobs/job-events.ts';
import { storedJob } from '../../jobs/view.ts';
import type { JobEvent, Store } from '../store.ts';
import { postgresAccounts } from './accounts.ts';
import { postgresBilling } from './billing.ts';
import { connect, migrateUnderLock } from './database.ts';
import { PostgresEventFeed } from './event-feed.ts';
import { postgresFiles } from './files.ts';
import { postgresJobs } from './jobs.ts';
import { postgresLedger } from './ledger.ts';
import { postgresSessions } from './sessions.ts';
import { postgresStats } from './stats.ts';
import { postgresWebhooks } from './webhooks.ts';

interface EventRow {
  job_id: string;
  user_id: string;
  seq: number;
  kind: JobEvent['kind'];
  snapshot: JobEvent['job'];
  created_at: string;
}

const readHinted = `
  SELECT e.job_id, j.user_id, e.seq, e.kind, e.snapshot, e.created_at
  FROM unnest($1::text[], $2::int[], $3::int[]) AS w(job_id, after, up_to)
  JOIN job_events e ON e.job_id = w.job_id AND e.seq > w.after AND e.seq <= w.up_to
  JOIN jobs j ON j.id = e.job_id
  ORDER BY e.job_id, e.seq`;

export interface PostgresStoreOptions {
  /** Connections in this origin's pool (the listener holds one more). */
  poolSize: number;
  onListenerError?: (error: unknown, event?: JobEvent) => void;
  /** `progress` webhook deliveries a job may write (`WEBHOOK_MAX_PROGRESS_PER_JOB`). */
  maxProgressDeliveries?: number;
}

/**
 * The store on a PostgreSQL database that any number of origins share: migrations applied
 * under an advisory lock, a pool for queries, and one session connection that LISTENs for
 * other origins' event hints. Commits are durable when they return (synchronous_commit).
 *
 * @example
 * const store = await openPostgresStore(env.DATABASE_URL, { poolSize: 10 });
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions,
): Promise<Store> {
  const db = connect(url, options.poolSize);
  try {
    await migrateUnderLock(db);
  } catch (error) {
    await db.$client.end();
    throw error;
  }
  const onError = options.onListenerError ?? (() => {});
  const feed = new PostgresEventFeed({
    url,
    onError,
    async read(wanted) {
      // Three arrays, one row per hinted job: its events after `after`, up to `up_to`.
      const { rows } = await db.$client.query<EventRow>(readHinted, [
        wanted.map((w) => w[0]),
        wanted.map((w) => w[1]),
        wanted.map((w) => w[2]),
      ]);
      return rows.map((r) => ({
        jobId: r.job_id,
        userId: r.user_id,
        seq: r.seq,
        kind: r.kind,
        job: storedJob(r.snapshot),
        createdAt: Number(r.created_at),
      }));
    },
  });
  await feed.start();
  const local = new Set<(event: JobEvent) => void>();
  const emit = (events: readonly (JobEvent | undefined)[]): void => {
    for (const event of events) {
      if (!event) continue;
      for (const listener of local) {
        try {
          listener(event);
        } catch (error) {
          onError(error, event);
        }
      }
    }
    feed.emitLocal(events);
  };
  return {
    accounts: postgresAccounts(db),
    sessions: postgresSessions(db),
    jobs: {
      ...postgresJobs(db, emit, options.maxProgressDeliveries ?? defaultMaxProgressDeliveries),
      onCommit(listener) {
        local.add(listener);
        return () => local.delete(listener);
      },
    },
    ledger: postgresLedger(db),
    webhooks: postgresWebhooks(db),
    billing: postgresBilling(db),
    stats: postgresStats(db),
    files: postgresFiles(db),
    events: feed,
    exclusive: false,
    durable: () => Promise.resolve(),
    async close() {
      await feed.close();
      await db.$client.end();
    },
  };
}
