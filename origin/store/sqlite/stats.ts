import { and, eq, gte, lte } from 'drizzle-orm';
import type { StatsStore } from '../store.ts';
import type { Db } from './database.ts';
import { jobs } from './schema/index.ts';

type SampleQuery = Parameters<StatsStore['jobSamples']>[0];

/**
 * The rows of a stats window, few columns: through the (user_id, created_at) index for one
 * user and the (created_at) index for all, so a short window reads only its own rows however
 * long the table (better-sqlite3 is synchronous: a scan would hold the event loop).
 */
export function jobSamplesQuery(db: Db, { from, to, userId }: SampleQuery) {
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

/** Statistics reads in SQLite: the window's rows, summarised by the caller. */
export function sqliteStats(db: Db): StatsStore {
  return {
    async jobSamples(query) {
      return jobSamplesQuery(db, query).all();
    },
  };
}
