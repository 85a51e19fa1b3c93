import { and, eq, gte, lte } from 'drizzle-orm';
import type { Db } from '../database.ts';
import { jobs } from '../schema/index.ts';
import type { StatsStore } from '../store.ts';

/**
 * Statistics reads in SQLite: the window's rows, few columns, summarised by the caller.
 * One user's rows come through the (user_id, id) index; every user's scan the table.
 */
export function sqliteStats(db: Db): StatsStore {
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
            gte(jobs.createdAt, from),
            lte(jobs.createdAt, to),
            userId === undefined ? undefined : eq(jobs.userId, userId),
          ),
        )
        .all();
    },
  };
}
