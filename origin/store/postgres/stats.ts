import { and, count, eq, gte, inArray, lte } from 'drizzle-orm';
import { jobLoad } from '../job-load.ts';
import type { StatsStore } from '../store.ts';
import type { Db } from './database.ts';
import { creditLedger, jobs } from './schema/index.ts';

type WindowQuery = Parameters<StatsStore['jobSamples']>[0];

/** The jobs of a window, through the (user_id, created_at) index or the (created_at) one. */
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

/** The ledger rows of a window, through (user_id, created_at) or (created_at). */
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
 * Queued and running jobs per status, model and claim owner, in one statement (so one
 * snapshot: a job that starts meanwhile is not counted twice), through an index on status.
 */
export function loadQuery(db: Db) {
  return db
    .select({ status: jobs.status, model: jobs.model, originId: jobs.claimedBy, jobs: count() })
    .from(jobs)
    .where(inArray(jobs.status, ['queued', 'running']))
    .groupBy(jobs.status, jobs.model, jobs.claimedBy);
}

/** Statistics reads in PostgreSQL, as SQLite's (`../sqlite/stats.ts`). */
export function postgresStats(db: Db): StatsStore {
  return {
    async jobSamples(query) {
      return jobSamplesQuery(db, query);
    },
    async ledgerSamples(query) {
      return ledgerSamplesQuery(db, query);
    },
    async load() {
      return jobLoad(await loadQuery(db));
    },
  };
}
