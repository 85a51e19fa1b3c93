import { and, asc, count, desc, eq, gt, inArray, lte } from 'drizzle-orm';
import type { FileStore } from '../store.ts';
import type { Db } from './database.ts';
import { files } from './schema/index.ts';

/** Uploaded files' records in SQLite. */
export function sqliteFiles(db: Db): FileStore {
  return {
    async create(file, maxFiles) {
      return db.transaction(
        (tx) => {
          const [kept] = tx
            .select({ n: count() })
            .from(files)
            .where(and(eq(files.userId, file.userId), gt(files.expiresAt, file.createdAt)))
            .all();
          if ((kept?.n ?? 0) >= maxFiles) return false;
          tx.insert(files).values(file).run();
          return true;
        },
        { behavior: 'immediate' },
      );
    },
    async get(userId, id, at) {
      return db
        .select()
        .from(files)
        .where(and(eq(files.id, id), eq(files.userId, userId), gt(files.expiresAt, at)))
        .get();
    },
    async list(userId, at, limit) {
      return db
        .select()
        .from(files)
        .where(and(eq(files.userId, userId), gt(files.expiresAt, at)))
        .orderBy(desc(files.createdAt), desc(files.id))
        .limit(limit)
        .all();
    },
    async remove(userId, id) {
      return db
        .delete(files)
        .where(and(eq(files.id, id), eq(files.userId, userId)))
        .returning()
        .get();
    },
    async takeExpired(at, limit) {
      return db.transaction((tx) => {
        const due = tx
          .select()
          .from(files)
          .where(lte(files.expiresAt, at))
          .orderBy(asc(files.expiresAt))
          .limit(limit)
          .all();
        if (due.length > 0) {
          tx.delete(files)
            .where(
              inArray(
                files.id,
                due.map((f) => f.id),
              ),
            )
            .run();
        }
        return due;
      });
    },
  };
}
