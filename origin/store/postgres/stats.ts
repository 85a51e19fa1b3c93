import { and, eq, gte, lte } from 'drizzle-orm';
import type { StatsStore } from '../store.ts';
import type { Db } from './database.ts';
import { jobs } from './schema/index.ts';

/** Statistics reads in PostgreSQL: the window's rows, through the creation-time indexes. */
export function postgresStats(db: Db): StatsStore {
  return {
    async jobSamples({ from, to, userId }) {
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
    },
  };
}
