import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, gte, lte, min, sql } from 'drizzle-orm';
import { attemptRecorded, gaveUp } from '../deliveries.ts';
import type { WebhookDelivery } from '../records.ts';
import type { WebhookStore } from '../store.ts';
import type { Db } from './database.ts';
import { webhookDeliveries } from './schema/index.ts';

const d = webhookDeliveries;

/** A row is a record, less its claim token: the compiler checks the columns match. */
const record = ({ claimToken: _, ...row }: typeof d.$inferSelect): WebhookDelivery => row;

/**
 * The due deliveries to claim, users taking turns: `k` is a delivery's place among its
 * user's due ones, `busy` the user's claims under way (not recorded, not ended); a delivery
 * goes when `k + busy` is within the user's bound, lowest first.
 */
export const dueInTurns = `
  WITH busy AS (
    SELECT user_id, count(*) AS n FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at > @now AND claim_token IS NOT NULL
    GROUP BY user_id
  ), due AS (
    SELECT id, user_id, next_attempt_at,
      row_number() OVER (PARTITION BY user_id ORDER BY next_attempt_at, id) AS k
    FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= @now
  )
  SELECT due.id FROM due LEFT JOIN busy ON busy.user_id = due.user_id
  WHERE due.k + coalesce(busy.n, 0) <= @perUser
  ORDER BY due.k + coalesce(busy.n, 0), due.next_attempt_at, due.id
  LIMIT @limit`;

/** Outbound webhook deliveries in SQLite. */
export function sqliteWebhooks(db: Db): WebhookStore {
  const due = db.$client.prepare<{ now: number; perUser: number; limit: number }, { id: string }>(
    dueInTurns,
  );
  return {
    async claimDue({ now, limit, claimMs, maxInFlightPerUser, maxAttempts }) {
      return db.transaction(
        (tx) => {
          tx.update(d)
            .set(gaveUp(now))
            .where(
              and(eq(d.status, 'pending'), lte(d.nextAttemptAt, now), gte(d.attempts, maxAttempts)),
            )
            .run();
          return due.all({ now, perUser: maxInFlightPerUser, limit }).map(({ id }) => {
            const token = randomUUID();
            const row = tx
              .update(d)
              .set({
                attempts: sql`${d.attempts} + 1`,
                nextAttemptAt: now + claimMs,
                claimToken: token,
              })
              .where(eq(d.id, id))
              .returning()
              .get();
            if (!row) throw new Error(`delivery ${id} vanished inside its claim`);
            return { ...record(row), token };
          });
        },
        { behavior: 'immediate' },
      );
    },

    async recordAttempt({ id, token }, outcome, at) {
      const result = db
        .update(d)
        .set(attemptRecorded(outcome, at))
        .where(and(eq(d.id, id), eq(d.claimToken, token), eq(d.status, 'pending')))
        .run();
      return result.changes > 0;
    },

    async forJob(jobId) {
      return db.select().from(d).where(eq(d.jobId, jobId)).orderBy(asc(d.seq)).all().map(record);
    },

    async nextDue(after) {
      const row = db
        .select({ at: min(d.nextAttemptAt) })
        .from(d)
        .where(and(eq(d.status, 'pending'), gt(d.nextAttemptAt, after)))
        .get();
      return row?.at ?? undefined;
    },
  };
}
