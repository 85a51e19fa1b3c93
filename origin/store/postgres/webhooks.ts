import { and, asc, eq, inArray, lte, min, sql } from 'drizzle-orm';
import type { WebhookDelivery } from '../records.ts';
import type { WebhookStore } from '../store.ts';
import type { Db } from './database.ts';
import { webhookDeliveries } from './schema/index.ts';

const d = webhookDeliveries;

/** A row is a record, less its claim token: the compiler checks the columns match. */
const record = ({ claimToken: _, ...row }: typeof d.$inferSelect): WebhookDelivery => row;

/** Outbound webhook deliveries in PostgreSQL. */
export function postgresWebhooks(db: Db): WebhookStore {
  return {
    async claimDue(now, limit, leaseMs) {
      // One statement: the due rows no other origin holds, counted and pushed past the lease.
      const due = db
        .select({ id: d.id })
        .from(d)
        .where(and(eq(d.status, 'pending'), lte(d.nextAttemptAt, now)))
        .orderBy(asc(d.nextAttemptAt), asc(d.id))
        .limit(limit)
        .for('update', { skipLocked: true });
      const rows = await db
        .update(d)
        .set({
          attempts: sql`${d.attempts} + 1`,
          nextAttemptAt: now + leaseMs,
          claimToken: sql`gen_random_uuid()::text`,
        })
        .where(inArray(d.id, due))
        .returning();
      return rows
        .map((row) => ({ ...record(row), token: row.claimToken ?? '' }))
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },

    async recordAttempt({ id, token }, outcome, at) {
      const changes =
        outcome.result === 'delivered'
          ? { status: 'delivered' as const, lastError: null, finishedAt: at }
          : outcome.result === 'retry'
            ? { lastError: outcome.error, nextAttemptAt: outcome.nextAttemptAt }
            : { status: 'failed' as const, lastError: outcome.error, finishedAt: at };
      const updated = await db
        .update(d)
        .set({ ...changes, lastStatusCode: outcome.statusCode, claimToken: null })
        .where(and(eq(d.id, id), eq(d.claimToken, token), eq(d.status, 'pending')))
        .returning({ id: d.id });
      return updated.length > 0;
    },

    async forJob(jobId) {
      const rows = await db.select().from(d).where(eq(d.jobId, jobId)).orderBy(asc(d.seq));
      return rows.map(record);
    },

    async nextDue() {
      const [row] = await db
        .select({ at: min(d.nextAttemptAt) })
        .from(d)
        .where(eq(d.status, 'pending'));
      return row?.at ?? undefined;
    },
  };
}
