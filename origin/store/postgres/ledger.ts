import { desc, eq, sql } from 'drizzle-orm';
import type { LedgerEntryInput } from '../records.ts';
import type { LedgerStore } from '../store.ts';
import type { Db, Tx } from './database.ts';
import { creditLedger, users } from './schema/index.ts';

/**
 * Writes one ledger row and moves the cached balance with it, inside the caller's
 * transaction. Answers false, changing nothing, when (reason, reference) already exists.
 */
export async function writeLedger(tx: Tx, entry: LedgerEntryInput): Promise<boolean> {
  const inserted = await tx
    .insert(creditLedger)
    .values({
      userId: entry.userId,
      delta: entry.delta,
      reason: entry.reason,
      reference: entry.reference,
      createdAt: entry.at,
    })
    .onConflictDoNothing()
    .returning({ id: creditLedger.id });
  if (inserted.length === 0) return false;
  await tx
    .update(users)
    .set({ balance: sql`${users.balance} + ${entry.delta}` })
    .where(eq(users.id, entry.userId));
  return true;
}

/** Balances and ledger rows in PostgreSQL. */
export function postgresLedger(db: Db): LedgerStore {
  return {
    async balance(userId) {
      const [row] = await db.select({ b: users.balance }).from(users).where(eq(users.id, userId));
      return row?.b ?? 0;
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
        .limit(limit);
    },
    async totals() {
      const rows = await db
        .select({ reason: creditLedger.reason, total: sql<string>`sum(${creditLedger.delta})` })
        .from(creditLedger)
        .groupBy(creditLedger.reason);
      return Object.fromEntries(rows.map((r) => [r.reason, Number(r.total)]));
    },
    async sum(userId) {
      const [row] = await db
        .select({ total: sql<string>`coalesce(sum(${creditLedger.delta}), 0)` })
        .from(creditLedger)
        .where(eq(creditLedger.userId, userId));
      return Number(row?.total ?? 0);
    },
  };
}
