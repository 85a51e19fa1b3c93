import { and, eq, isNull } from 'drizzle-orm';
import { newId } from '../../lib/ids.ts';
import type { AccountStore } from '../store.ts';
import type { Db } from './database.ts';
import { writeLedger } from './ledger.ts';
import { apiKeys, users } from './schema/index.ts';

const keyColumns = {
  id: apiKeys.id,
  userId: apiKeys.userId,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

/** Users and API keys in PostgreSQL. */
export function postgresAccounts(db: Db): AccountStore {
  return {
    async createUser(user, credits) {
      return db.transaction(async (tx) => {
        // The unique email decides between two registrations racing on two origins.
        const inserted = await tx
          .insert(users)
          .values({ ...user, balance: 0 })
          .onConflictDoNothing({ target: users.email })
          .returning({ id: users.id });
        if (inserted.length === 0) return 'email_taken' as const;
        for (const entry of credits) await writeLedger(tx, entry);
        return { ...user, balance: credits.reduce((sum, e) => sum + e.delta, 0) };
      });
    },

    async findUserByEmail(email) {
      const [row] = await db.select().from(users).where(eq(users.email, email));
      return row;
    },

    async findUserById(id) {
      const [row] = await db.select().from(users).where(eq(users.id, id));
      return row;
    },

    async setAdmin(email, admin) {
      const changed = await db
        .update(users)
        .set({ isAdmin: admin })
        .where(eq(users.email, email))
        .returning({ id: users.id });
      return changed.length > 0;
    },

    async listAdmins() {
      return db
        .select({ id: users.id, email: users.email, createdAt: users.createdAt })
        .from(users)
        .where(eq(users.isAdmin, true))
        .orderBy(users.id);
    },

    async createApiKey({ userId, name, prefix, keyHash }) {
      const key = { id: newId('key'), userId, name, prefix, createdAt: Date.now() };
      await db.insert(apiKeys).values({ ...key, keyHash });
      return { ...key, lastUsedAt: null };
    },

    async listApiKeys(userId) {
      return db
        .select(keyColumns)
        .from(apiKeys)
        .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
        .orderBy(apiKeys.id);
    },

    async revokeApiKey(userId, keyId) {
      const revoked = await db
        .update(apiKeys)
        .set({ revokedAt: Date.now() })
        .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id });
      return revoked.length > 0;
    },

    async findApiKey(keyHash) {
      const [row] = await db
        .select(keyColumns)
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
      return row;
    },

    async touchApiKey(keyId, at) {
      await db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, keyId));
    },
  };
}
