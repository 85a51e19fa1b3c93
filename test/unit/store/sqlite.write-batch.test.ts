/**
 * SQLite's group commit of the job store's writes (`origin/store/sqlite/write-batch.ts`):
 * writes asked for in one turn share one transaction, each in its own savepoint, and none
 * is answered (nor its event heard) before that transaction has committed.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../origin/store/sqlite/database.ts';
import { openSqliteStore } from '../../../origin/store/sqlite/index.ts';
import { WriteBatch } from '../../../origin/store/sqlite/write-batch.ts';
import { claimNext, createdJob, makeUser, newJob, tempDir, tempStore } from '../support.ts';

function table() {
  const file = join(tempDir(), 'batch.sqlite');
  const db = openDatabase(file);
  db.$client.exec('create table t (v text not null unique)');
  const insert = db.$client.prepare('insert into t (v) values (?)');
  const rows = () =>
    (db.$client.prepare('select v from t order by v').all() as { v: string }[]).map((r) => r.v);
  let rollbacks = 0;
  const batch = new WriteBatch(db.$client, () => rollbacks++);
  return { file, db, insert, rows, batch, rollbacks: () => rollbacks };
}

describe('SQLite write batches', () => {
  it('commits the writes of one turn in one transaction, in the order asked', async () => {
    const { file, insert, rows, batch } = table();
    const other = new Database(file, { readonly: true });
    const committed: string[] = [];
    const answers = Promise.all(
      ['a', 'b', 'c'].map((v) =>
        batch.run(
          () => {
            insert.run(v);
            return v;
          },
          (value) => {
            // Another connection sees every write of the batch by the time any is answered.
            const seen = other.prepare('select count(*) as n from t').get() as { n: number };
            committed.push(`${value}:${seen.n}`);
          },
        ),
      ),
    );
    // Nothing has run yet: the batch waits for the end of this turn.
    expect(rows()).toEqual([]);
    expect(await answers).toEqual(['a', 'b', 'c']);
    expect(committed).toEqual(['a:3', 'b:3', 'c:3']);
    other.close();
  });

  it('rolls back a write that throws alone; the others of its batch commit', async () => {
    const { insert, rows, batch, rollbacks } = table();
    const results = await Promise.allSettled([
      batch.run(() => insert.run('x')),
      batch.run(() => {
        insert.run('half-written');
        insert.run('x'); // unique: throws, and takes its first insert with it
      }),
      batch.run(() => insert.run('y')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(rows()).toEqual(['x', 'y']);
    expect(rollbacks()).toBe(1);
  });

  it('rejects every write of a batch whose commit fails, and writes none', async () => {
    const { db, insert, rows, batch, rollbacks } = table();
    const results = Promise.allSettled([
      batch.run(() => insert.run('p')),
      batch.run(() => insert.run('q')),
    ]);
    db.$client.close(); // BEGIN cannot run: the database is gone
    const settled = await results;
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(rollbacks()).toBe(1);
    expect(() => rows()).toThrow(/not open/);
  });

  it('gives a job store that is sent many writes at once every answer and event, in order', async () => {
    const store = tempStore();
    const user = await makeUser(store, 100);
    const heard: string[] = [];
    store.events.listen((event) => heard.push(`${event.jobId}:${event.seq}`));
    const jobs = await Promise.all(
      Array.from({ length: 12 }, () => createdJob(store, user.id, { cost: 1 })),
    );
    expect(new Set(jobs.map((j) => j.id)).size).toBe(12);
    expect(heard).toEqual(jobs.map((j) => `${j.id}:1`));
    expect(await store.ledger.balance(user.id)).toBe(88);
    // Claims asked for at once start twelve different jobs.
    const claims = await Promise.all(jobs.map(() => claimNext(store)));
    expect(new Set(claims.map((c) => c?.job.id)).size).toBe(12);
  });
});

describe('closing a SQLite store with writes asked for', () => {
  it('commits them before the database closes, and refuses later ones', async () => {
    const file = join(tempDir(), 'closing.sqlite');
    const store = openSqliteStore(file);
    const user = await makeUser(store, 10);
    const asked = store.jobs.create(newJob(user.id, { cost: 1 }));
    await store.close();
    const created = await asked;
    expect(created.kind).toBe('created');
    await expect(store.jobs.create(newJob(user.id, { cost: 1 }))).rejects.toThrow(/closed/);
    const reopened = tempStore(file);
    expect((await reopened.jobs.list(user.id, { limit: 10 })).data).toHaveLength(1);
    expect(await reopened.ledger.balance(user.id)).toBe(9);
  });
});
