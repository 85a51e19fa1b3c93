import { and, asc, count, desc, eq, gt, inArray, lte } from 'drizzle-orm';
import type { FileStore } from '../store.ts';
import type { Db } from './database.ts';
import { files, users } from './schema/index.ts';

/** Uploaded files' records in PostgreSQL, shared by every origin. */
export function postgresFiles(db: Db): FileStore {
  return {
    async create(file, maxFiles) {
      return db.transaction(async (tx) => {
        // The user's row locked: two uploads at once cannot both pass the count.
        await tx
          .select({ id: users.id })
          .from(users)
          .where(eq(users.id, file.userId))
          .for('update');
        const [kept] = await tx
          .select({ n: count() })
          .from(files)
          .where(and(eq(files.userId, file.userId), gt(files.expiresAt, file.createdAt)));
        if ((kept?.n ?? 0) >= maxFiles) return false;
        await tx.insert(files).values(file);
        return true;
      });
    },
    async get(userId, id, at) {
      const [row] = await db
        .select()
        .from(files)
        .where(and(eq(files.id, id), eq(files.userId, userId), gt(files.expiresAt, at)));
      return row;
    },
    async list(userId, at, limit) {
      return db
        .select()
        .from(files)
        .where(and(eq(files.userId, userId), gt(files.expiresAt, at)))
        .orderBy(desc(files.createdAt), desc(files.id))
        .limit(limit);
    },
    async remove(userId, id) {
      const [row] = await db
        .delete(files)
        .where(and(eq(files.id, id), eq(files.userId, userId)))
        .returning();
      return row;
    },
    async takeExpired(at, limit) {
      // Rows another origin's sweep holds are skipped: each expired file is taken once.
      return db.transaction(async (tx) => {
        const due = await tx
          .select()
          .from(files)
          .where(lte(files.expiresAt, at))
          .orderBy(asc(files.expiresAt))
          .limit(limit)
          .for('update', { skipLocked: true });
        if (due.length > 0) {
          await tx.delete(files).where(
            inArray(
              files.id,
              due.map((f) => f.id),
            ),
          );
        }
        return due;
      });
    },
  };
}
