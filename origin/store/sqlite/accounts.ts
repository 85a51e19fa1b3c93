import { and, eq, isNull, sql } from 'drizzle-orm';
import { newId } from '../../lib/ids.ts';
import type { ApiKeyRecord } from '../records.ts';
import type { AccountStore } from '../store.ts';
import type { Db } from './database.ts';
import type { LedgerWriter } from './ledger.ts';
import { apiKeys, users } from './schema/index.ts';

const keyColumns = {
  id: apiKeys.id,
  userId: apiKeys.userId,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

/** Users and API keys in SQLite. */
export function sqliteAccounts(db: Db, ledger: LedgerWriter): AccountStore {
  // Every authenticated request reads one of these: prepared once.
  const userById = db
    .select()
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .prepare();
  const liveKeyByHash = db
    .select(keyColumns)
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, sql.placeholder('hash')), isNull(apiKeys.revokedAt)))
    .prepare();
  return {
    async createUser(user, credits) {
      return db.transaction(
        (tx) => {
          const taken = tx
            .select({ id: users.id })
            .from(users)
            .where(eq(users.email, user.email))
            .get();
          if (taken) return 'email_taken' as const;
          tx.insert(users)
            .values({ ...user, balance: 0 })
            .run();
          for (const entry of credits) ledger(entry);
          return { ...user, balance: credits.reduce((sum, e) => sum + e.delta, 0) };
        },
        { behavior: 'immediate' },
      );
    },

    async findUserByEmail(email) {
      return db.select().from(users).where(eq(users.email, email)).get();
    },

    async findUserById(id) {
      return userById.get({ id });
    },

    async setAdmin(email, admin) {
      return (
        db.update(users).set({ isAdmin: admin }).where(eq(users.email, email)).run().changes > 0
      );
    },

    async listAdmins() {
      return db
        .select({ id: users.id, email: users.email, createdAt: users.createdAt })
        .from(users)
        .where(eq(users.isAdmin, true))
        .orderBy(users.id)
        .all();
    },

    async createApiKey({ userId, name, prefix, keyHash }) {
      const key = { id: newId('key'), userId, name, prefix, createdAt: Date.now() };
      db.insert(apiKeys)
        .values({ ...key, keyHash })
        .run();
      // The record, like every read of a key, leaves the hash out.
      return { ...key, lastUsedAt: null };
    },

    async listApiKeys(userId) {
      return db
        .select(keyColumns)
        .from(apiKeys)
        .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
        .orderBy(apiKeys.id)
        .all();
    },

    async revokeApiKey(userId, keyId) {
      const result = db
        .update(apiKeys)
        .set({ revokedAt: Date.now() })
        .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
        .run();
      return result.changes > 0;
    },

    async findApiKey(keyHash): Promise<ApiKeyRecord | undefined> {
      return liveKeyByHash.get({ hash: keyHash });
    },

    async touchApiKey(keyId, at) {
      db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, keyId)).run();
    },
  };
}
