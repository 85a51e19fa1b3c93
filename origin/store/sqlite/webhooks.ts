import { and, asc, eq, lte, min, sql } from 'drizzle-orm';
import type { Db } from '../database.ts';
import { webhookDeliveries } from '../schema/index.ts';
import type { WebhookStore } from '../store.ts';

/** Outbound webhook deliveries in SQLite. */
export function sqliteWebhooks(db: Db): WebhookStore {
  return {
    async due(now, limit) {
      return db
        .select()
        .from(webhookDeliveries)
        .where(
          and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now)),
        )
        .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.id))
        .limit(limit)
        .all();
    },
    async recordAttempt(id, outcome, at) {
      const common = {
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatusCode: outcome.statusCode,
      };
      const changes =
        outcome.result === 'delivered'
          ? { status: 'delivered' as const, lastError: null, finishedAt: at }
          : outcome.result === 'retry'
            ? { lastError: outcome.error, nextAttemptAt: outcome.nextAttemptAt }
            : { status: 'failed' as const, lastError: outcome.error, finishedAt: at };
      db.update(webhookDeliveries)
        .set({ ...common, ...changes })
        .where(eq(webhookDeliveries.id, id))
        .run();
    },
    async forJob(jobId) {
      return db
        .select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.jobId, jobId))
        .orderBy(asc(webhookDeliveries.seq))
        .all();
    },
    async nextDue() {
      const row = db
        .select({ at: min(webhookDeliveries.nextAttemptAt) })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.status, 'pending'))
        .get();
      return row?.at ?? undefined;
    },
  };
}
