/**
 * `plainSelect` (origin/store/sqlite/plain-select.ts): drizzle's SQL run by better-sqlite3
 * without drizzle's row mapping answers exactly what drizzle answers, and refuses the
 * columns whose values drizzle would have converted.
 */
import { asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../origin/store/sqlite/database.ts';
import { plainSelect } from '../../../origin/store/sqlite/plain-select.ts';
import { jobs, users } from '../../../origin/store/sqlite/schema/index.ts';
import { createdJob, makeUser, tempDir, tempStore } from '../support.ts';

describe('plainSelect', () => {
  it('answers the rows drizzle answers for the queue read, keys and values alike', async () => {
    const file = `${tempDir()}/plain.sqlite`;
    const store = tempStore(file);
    const a = await makeUser(store, 10);
    const b = await makeUser(store, 10);
    for (const user of [a, b, a]) await createdJob(store, user.id, { cost: 1 });
    const db = openDatabase(file);
    const query = () =>
      db
        .select({
          id: jobs.id,
          userId: jobs.userId,
          seq: jobs.seq,
          deadlineAt: jobs.deadlineAt,
          userLastStartedAt: users.lastStartedAt,
        })
        .from(jobs)
        .innerJoin(users, eq(users.id, jobs.userId))
        .where(eq(jobs.status, 'queued'))
        .orderBy(asc(jobs.id));
    const plain = plainSelect(db, query()).all();
    expect(plain).toHaveLength(3);
    expect(plain).toEqual(query().all());
    expect(plain[0]).toMatchObject({ userId: a.id, seq: 1, deadlineAt: null });
    db.$client.close();
  });

  it('refuses a JSON column and a placeholder when the statement is made', () => {
    const db = openDatabase(`${tempDir()}/refuse.sqlite`);
    expect(() => plainSelect(db, db.select({ input: jobs.input }).from(jobs))).toThrow(
      /input is not a plain/,
    );
    const withPlaceholder = db
      .select({ id: jobs.id })
      .from(jobs)
      .where(eq(jobs.userId, sql.placeholder('userId')));
    expect(() => plainSelect(db, withPlaceholder)).toThrow(/placeholders/);
    // A placeholder compared with a column comes wrapped in the column's Param.
    const wrapped = db
      .select({ id: jobs.id })
      .from(jobs)
      .where(eq(jobs.userId, sql.placeholder('u')));
    expect(() => plainSelect(db, wrapped)).toThrow(/placeholders/);
    db.$client.close();
  });
});
