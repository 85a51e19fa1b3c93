import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../database.ts';
import { creditLedger, type LedgerReason, users } from '../schema/index.ts';
import type { LedgerStore } from '../store.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * Writes one ledger row and moves the cached balance with it, inside the caller's
 * transaction. Returns false, changing nothing, when (reason, reference) already exists.
 */
export function applyLedgerEntry(
  tx: Tx,
  entry: { userId: string; delta: number; reason: LedgerReason; reference: string; at: number },
): boolean {
  const inserted = tx
    .insert(creditLedger)
    .values({
      userId: entry.userId,
      delta: entry.delta,
      reason: entry.reason,
      reference: entry.reference,
      createdAt: entry.at,
    })
    .onConflictDoNothing()
    .run();
  if (inserted.changes === 0) return false;
  tx.update(users)
    .set({ balance: sql`${users.balance} + ${entry.delta}` })
    .where(eq(users.id, entry.userId))
    .run();
  return true;
}

/** Balances and ledger rows in SQLite. */
export function sqliteLedger(db: Db): LedgerStore {
  return {
    async balance(userId) {
      return db.select({ b: users.balance }).from(users).where(eq(users.id, userId)).get()?.b ?? 0;
    },
    async entries(userId, limit) {
      return db
        .select({
          id: creditLedger.id,
          delta: creditLedger.delta,
          reason: creditLedger.reason,
          reference: creditLedger.reference,
          createdAt: creditLedger.createdAt,
        })
        .from(creditLedger)
        .where(eq(creditLedger.userId, userId))
        .orderBy(desc(creditLedger.id))
        .limit(limit)
        .all();
    },
    async totals() {
      const rows = db
        .select({ reason: creditLedger.reason, total: sql<number>`sum(${creditLedger.delta})` })
        .from(creditLedger)
        .groupBy(creditLedger.reason)
        .all();
      return Object.fromEntries(rows.map((r) => [r.reason, Number(r.total)]));
    },
    async sum(userId) {
      const row = db
        .select({ total: sql<number>`coalesce(sum(${creditLedger.delta}), 0)` })
        .from(creditLedger)
        .where(eq(creditLedger.userId, userId))
        .get();
      return Number(row?.total ?? 0);
    },
  };
}
