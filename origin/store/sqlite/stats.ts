import { and, count, eq, gte, inArray, lte } from 'drizzle-orm';
import { jobLoad } from '../job-load.ts';
import type { StatsStore } from '../store.ts';
import type { Db } from './database.ts';
import { creditLedger, jobs } from './schema/index.ts';

type WindowQuery = Parameters<StatsStore['jobSamples']>[0];

/**
 * The rows of a stats window, few columns: through the (user_id, created_at) index for one
 * user and the (created_at) index for all, so a short window reads only its own rows however
 * long the table (better-sqlite3 is synchronous: a scan would hold the event loop).
 */
export function jobSamplesQuery(db: Db, { from, to, userId }: WindowQuery) {
  return db
    .select({
      model: jobs.model,
      status: jobs.status,
      errorCode: jobs.errorCode,
      createdAt: jobs.createdAt,
      startedAt: jobs.startedAt,
      finishedAt: jobs.finishedAt,
    })
    .from(jobs)
    .where(
      and(
        userId === undefined ? undefined : eq(jobs.userId, userId),
        gte(jobs.createdAt, from),
        lte(jobs.createdAt, to),
      ),
    );
}

/**
 * The ledger rows of a window, as `jobSamplesQuery` reads jobs: through the
 * (user_id, created_at) index for one user and the (created_at) index for all.
 */
export function ledgerSamplesQuery(db: Db, { from, to, userId }: WindowQuery) {
  return db
    .select({
      reason: creditLedger.reason,
      delta: creditLedger.delta,
      createdAt: creditLedger.createdAt,
    })
    .from(creditLedger)
    .where(
      and(
        userId === undefined ? undefined : eq(creditLedger.userId, userId),
        gte(creditLedger.createdAt, from),
        lte(creditLedger.createdAt, to),
      ),
    );
}

/**
 * Queued and running jobs counted per status, model and claim owner, in one statement (one
 * snapshot), through an index on status: the queue is bounded (`QUEUE_LIMIT`), and so are
 * the running jobs (the origins' threads).
 */
export function loadQuery(db: Db) {
  return db
    .select({
      status: jobs.status,
      model: jobs.model,
      originId: jobs.claimedBy,
      jobs: count(),
    })
    .from(jobs)
    .where(inArray(jobs.status, ['queued', 'running']))
    .groupBy(jobs.status, jobs.model, jobs.claimedBy);
}

/** Statistics reads in SQLite: the window's rows, summarised by the caller. */
export function sqliteStats(db: Db): StatsStore {
  return {
    async jobSamples(query) {
      return jobSamplesQuery(db, query).all();
    },
    async ledgerSamples(query) {
      return ledgerSamplesQuery(db, query).all();
    },
    async load() {
      return jobLoad(loadQuery(db).all());
    },
  };
}
