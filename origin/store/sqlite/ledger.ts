import { desc, eq, sql } from 'drizzle-orm';
import type { LedgerEntryInput } from '../records.ts';
import type { LedgerStore } from '../store.ts';
import type { Db } from './database.ts';
import { creditLedger, users } from './schema/index.ts';

/**
 * Writes one ledger row and moves the cached balance with it, inside the caller's
 * transaction. Returns false, changing nothing, when (reason, reference) already exists.
 */
export type LedgerWriter = (entry: LedgerEntryInput) => boolean;

/** The ledger writer of a database, its two statements prepared once. */
export function ledgerWriter(db: Db): LedgerWriter {
  const p = sql.placeholder;
  const insert = db
    .insert(creditLedger)
    .values({
      userId: p('userId'),
      delta: p('delta'),
      reason: p('reason'),
      reference: p('reference'),
      createdAt: p('at'),
    })
    .onConflictDoNothing()
    .prepare();
  const move = db
    .update(users)
    .set({ balance: sql`${users.balance} + ${p('delta')}` })
    .where(eq(users.id, p('userId')))
    .prepare();
  return (entry) => {
    if (insert.run({ ...entry }).changes === 0) return false;
    move.run({ delta: entry.delta, userId: entry.userId });
    return true;
  };
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
