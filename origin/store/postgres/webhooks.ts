import { and, asc, eq, gt, gte, inArray, lte, min, sql } from 'drizzle-orm';
import { attemptRecorded, gaveUp } from '../deliveries.ts';
import type { WebhookDelivery } from '../records.ts';
import type { DeliveryClaim, WebhookStore } from '../store.ts';
import type { Db, Tx } from './database.ts';
import { webhookDeliveries } from './schema/index.ts';

const d = webhookDeliveries;

/** A row is a record, less its claim token: the compiler checks the columns match. */
const record = ({ claimToken: _, ...row }: typeof d.$inferSelect): WebhookDelivery => row;

/**
 * The due deliveries to claim, locked, users taking turns: `k` is a delivery's place among its
 * user's due ones, `busy` the user's claims under way on any origin (not recorded, not
 * ended); a delivery goes when `k + busy` is within the user's bound, lowest first. Rows
 * another origin holds are skipped; one it claimed since this statement's snapshot fails the
 * recheck of `status` and `next_attempt_at` on the locked row.
 */
async function dueInTurns(
  tx: Tx,
  { now, limit, maxInFlightPerUser }: DeliveryClaim,
): Promise<string[]> {
  const { rows } = await tx.execute<{ id: string }>(sql`
    WITH busy AS (
      SELECT user_id, count(*) AS n FROM webhook_deliveries
      WHERE status = 'pending' AND next_attempt_at > ${now} AND claim_token IS NOT NULL
      GROUP BY user_id
    ), due AS (
      SELECT id, user_id, next_attempt_at,
        row_number() OVER (PARTITION BY user_id ORDER BY next_attempt_at, id) AS k
      FROM webhook_deliveries
      WHERE status = 'pending' AND next_attempt_at <= ${now}
    )
    SELECT w.id FROM webhook_deliveries w
    JOIN due ON due.id = w.id
    LEFT JOIN busy ON busy.user_id = due.user_id
    WHERE due.k + coalesce(busy.n, 0) <= ${maxInFlightPerUser}
      AND w.status = 'pending' AND w.next_attempt_at <= ${now}
    ORDER BY due.k + coalesce(busy.n, 0), due.next_attempt_at, due.id
    LIMIT ${limit}
    FOR UPDATE OF w SKIP LOCKED`);
  return rows.map((row) => row.id);
}

/** Outbound webhook deliveries in PostgreSQL. */
export function postgresWebhooks(db: Db): WebhookStore {
  return {
    async claimDue(query) {
      const { now, claimMs, maxAttempts } = query;
      const rows = await db.transaction(async (tx) => {
        await tx
          .update(d)
          .set(gaveUp(now))
          .where(
            and(eq(d.status, 'pending'), lte(d.nextAttemptAt, now), gte(d.attempts, maxAttempts)),
          );
        const ids = await dueInTurns(tx, query);
        if (ids.length === 0) return [];
        return tx
          .update(d)
          .set({
            attempts: sql`${d.attempts} + 1`,
            nextAttemptAt: now + claimMs,
            claimToken: sql`gen_random_uuid()::text`,
          })
          .where(inArray(d.id, ids))
          .returning();
      });
      return rows
        .map((row) => ({ ...record(row), token: row.claimToken ?? '' }))
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },

    async recordAttempt({ id, token }, outcome, at) {
      const updated = await db
        .update(d)
        .set(attemptRecorded(outcome, at))
        .where(and(eq(d.id, id), eq(d.claimToken, token), eq(d.status, 'pending')))
        .returning({ id: d.id });
      return updated.length > 0;
    },

    async forJob(jobId) {
      const rows = await db.select().from(d).where(eq(d.jobId, jobId)).orderBy(asc(d.seq));
      return rows.map(record);
    },

    async nextDue(after) {
      const [row] = await db
        .select({ at: min(d.nextAttemptAt) })
        .from(d)
        .where(and(eq(d.status, 'pending'), gt(d.nextAttemptAt, after)));
      return row?.at ?? undefined;
    },
  };
}
