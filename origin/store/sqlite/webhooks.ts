import { randomUUID } from 'node:crypto';
import { and, asc, eq, lte, min } from 'drizzle-orm';
import type { WebhookDelivery } from '../records.ts';
import type { WebhookStore } from '../store.ts';
import type { Db } from './database.ts';
import { webhookDeliveries } from './schema/index.ts';

const d = webhookDeliveries;

/** A row is a record, less its claim token: the compiler checks the columns match. */
const record = ({ claimToken: _, ...row }: typeof d.$inferSelect): WebhookDelivery => row;

/** Outbound webhook deliveries in SQLite. */
export function sqliteWebhooks(db: Db): WebhookStore {
  return {
    async claimDue(now, limit, leaseMs) {
      return db.transaction(
        (tx) =>
          tx
            .select()
            .from(d)
            .where(and(eq(d.status, 'pending'), lte(d.nextAttemptAt, now)))
            .orderBy(asc(d.nextAttemptAt), asc(d.id))
            .limit(limit)
            .all()
            .map((row) => {
              const claimed = {
                ...record(row),
                attempts: row.attempts + 1,
                nextAttemptAt: now + leaseMs,
                token: randomUUID(),
              };
              tx.update(d)
                .set({
                  attempts: claimed.attempts,
                  nextAttemptAt: claimed.nextAttemptAt,
                  claimToken: claimed.token,
                })
                .where(eq(d.id, row.id))
                .run();
              return claimed;
            }),
        { behavior: 'immediate' },
      );
    },

    async recordAttempt({ id, token }, outcome, at) {
      const changes =
        outcome.result === 'delivered'
          ? { status: 'delivered' as const, lastError: null, finishedAt: at }
          : outcome.result === 'retry'
            ? { lastError: outcome.error, nextAttemptAt: outcome.nextAttemptAt }
            : { status: 'failed' as const, lastError: outcome.error, finishedAt: at };
      const result = db
        .update(d)
        .set({ ...changes, lastStatusCode: outcome.statusCode, claimToken: null })
        .where(and(eq(d.id, id), eq(d.claimToken, token), eq(d.status, 'pending')))
        .run();
      return result.changes > 0;
    },

    async forJob(jobId) {
      return db.select().from(d).where(eq(d.jobId, jobId)).orderBy(asc(d.seq)).all().map(record);
    },

    async nextDue() {
      const row = db
        .select({ at: min(d.nextAttemptAt) })
        .from(d)
        .where(eq(d.status, 'pending'))
        .get();
      return row?.at ?? undefined;
    },
  };
}
