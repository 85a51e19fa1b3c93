import { and, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { SessionStore } from '../store.ts';
import type { Db } from './database.ts';
import { apiKeys, endedSessions, users } from './schema/index.ts';

/** SQLite binds at most 32,766 parameters: batched reads go in slices well below it. */
const slice = 500;

/** Runs `read` over `ids` in slices and joins the answers. */
function sliced<T>(ids: readonly string[], read: (part: string[]) => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += slice) out.push(...read(ids.slice(i, i + slice)));
  return out;
}

/** Ended session tokens and session versions in SQLite. */
export function sqliteSessions(db: Db): SessionStore {
  // Every request with a session token reads this: prepared once, the user and the ended
  // flag in one statement.
  const sessionOf = db
    .select({
      user: users,
      ended: sql<number>`exists (select 1 from ${endedSessions} where ${endedSessions.tokenId} = ${sql.placeholder('tokenId')})`,
    })
    .from(users)
    .where(eq(users.id, sql.placeholder('userId')))
    .prepare();
  return {
    async find(userId, tokenId) {
      const row = sessionOf.get({ userId, tokenId });
      return row && { user: row.user, ended: row.ended === 1 };
    },

    async end(token) {
      db.insert(endedSessions).values(token).onConflictDoNothing().run();
    },

    async forgetEnded(before) {
      return db.delete(endedSessions).where(lt(endedSessions.expiresAt, before)).run().changes;
    },

    async changePassword(userId, from, to) {
      const row = db
        .update(users)
        .set({ passwordHash: to, sessionVersion: sql`${users.sessionVersion} + 1` })
        .where(and(eq(users.id, userId), eq(users.passwordHash, from)))
        .returning({ sessionVersion: users.sessionVersion })
        .get();
      return row?.sessionVersion;
    },

    async ended(tokenIds) {
      return sliced(tokenIds, (part) =>
        db
          .select({ id: endedSessions.tokenId })
          .from(endedSessions)
          .where(inArray(endedSessions.tokenId, part))
          .all()
          .map((r) => r.id),
      );
    },

    async versions(userIds) {
      return sliced(userIds, (part) =>
        db
          .select({ id: users.id, sessionVersion: users.sessionVersion })
          .from(users)
          .where(inArray(users.id, part))
          .all(),
      );
    },

    async liveKeys(keyIds) {
      return sliced(keyIds, (part) =>
        db
          .select({ id: apiKeys.id })
          .from(apiKeys)
          .where(and(inArray(apiKeys.id, part), isNull(apiKeys.revokedAt)))
          .all()
          .map((r) => r.id),
      );
    },
  };
}
