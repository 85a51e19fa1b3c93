import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { GroupSync } from '../../../origin/lib/group-sync.ts';

function walDatabase() {
  const dir = mkdtempSync(join(tmpdir(), 'overture-wal-'));
  const file = join(dir, 'db.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table t (v integer)');
  const wal = new GroupSync(`${file}-wal`, 'r+');
  onTestFinished(async () => {
    await wal.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { db, wal };
}

describe('GroupSync on a SQLite WAL (group commit)', () => {
  it('fsyncs the WAL once per call when calls do not overlap', async () => {
    const { db, wal } = walDatabase();
    for (let i = 0; i < 3; i++) {
      db.prepare('insert into t values (?)').run(i);
      await wal.sync();
    }
    expect(wal.syncs).toBe(3);
  });

  it('shares fsyncs between concurrent callers: 50 acknowledgements, at most 2 fsyncs', async () => {
    const { db, wal } = walDatabase();
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      db.prepare('insert into t values (?)').run(i);
      waits.push(wal.sync());
    }
    await Promise.all(waits);
    // The first starts an fsync; the 49 that commit while it runs share the next one.
    expect(wal.syncs).toBeGreaterThanOrEqual(1);
    expect(wal.syncs).toBeLessThanOrEqual(2);
  });

  it('never lets a caller resolve on an fsync that started before its commit', async () => {
    const { db, wal } = walDatabase();
    db.prepare('insert into t values (1)').run();
    const first = wal.sync();
    // Committed while the first fsync runs: must wait for a second one.
    db.prepare('insert into t values (2)').run();
    const second = wal.sync();
    expect(second).not.toBe(first);
    await first;
    const before = wal.syncs;
    await second;
    expect(wal.syncs).toBe(before + 1);
  });
});
