import { and, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { SessionStore } from '../store.ts';
import type { Db } from './database.ts';
import { apiKeys, endedSessions, users } from './schema/index.ts';

/** Batched reads go in slices: a statement binds at most 65,535 parameters. */
const slice = 1000;

/** Runs `read` over `ids` in slices, one after the other, and joins the answers. */
async function sliced<T>(ids: readonly string[], read: (part: string[]) => Promise<T[]>) {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += slice) out.push(...(await read(ids.slice(i, i + slice))));
  return out;
}

/** Ended session tokens and session versions in PostgreSQL, shared by every origin. */
export function postgresSessions(db: Db): SessionStore {
  // The user and the ended flag in one round trip, built once: every request with a session
  // token asks.
  const session = db
    .select({
      user: users,
      ended: sql<boolean>`exists (select 1 from ${endedSessions} where ${endedSessions.tokenId} = ${sql.placeholder('tokenId')})`,
    })
    .from(users)
    .where(eq(users.id, sql.placeholder('userId')))
    .prepare('session_find');
  return {
    async find(userId, tokenId) {
      const [row] = await session.execute({ userId, tokenId });
      return row && { user: row.user, ended: row.ended };
    },

    async end(token) {
      await db.insert(endedSessions).values(token).onConflictDoNothing();
    },

    async forgetEnded(before) {
      const gone = await db
        .delete(endedSessions)
        .where(lt(endedSessions.expiresAt, before))
        .returning({ id: endedSessions.tokenId });
      return gone.length;
    },

    async changePassword(userId, from, to) {
      // One statement: the row lock orders two changes racing on two origins, and the second
      // finds the hash changed.
      const [row] = await db
        .update(users)
        .set({ passwordHash: to, sessionVersion: sql`${users.sessionVersion} + 1` })
        .where(and(eq(users.id, userId), eq(users.passwordHash, from)))
        .returning({ sessionVersion: users.sessionVersion });
      return row?.sessionVersion;
    },

    async ended(tokenIds) {
      return sliced(tokenIds, async (part) =>
        (
          await db
            .select({ id: endedSessions.tokenId })
            .from(endedSessions)
            .where(inArray(endedSessions.tokenId, part))
        ).map((r) => r.id),
      );
    },

    async versions(userIds) {
      return sliced(userIds, (part) =>
        db
          .select({ id: users.id, sessionVersion: users.sessionVersion })
          .from(users)
          .where(inArray(users.id, part)),
      );
    },

    async liveKeys(keyIds) {
      return sliced(keyIds, async (part) =>
        (
          await db
            .select({ id: apiKeys.id })
            .from(apiKeys)
            .where(and(inArray(apiKeys.id, part), isNull(apiKeys.revokedAt)))
        ).map((r) => r.id),
      );
    },
  };
}
