/**
 * `npm run backup -- <file>`: an online, consistent copy of the origin's database
 * (`$DATA_DIR/overture.sqlite`, DATA_DIR defaulting to ./data), taken with SQLite's backup
 * API while the origin keeps serving. The copy is written under a temporary name beside
 * `<file>`, turned into a self-contained file (rollback journal, no -wal to carry along),
 * checked with `PRAGMA integrity_check`, flushed to disk, and only then renamed to `<file>`:
 * a file at `<file>` is always a whole, checked backup. Restoring is in README.md.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';

/** Copy every page in one step: one read transaction, so one consistent snapshot. */
const allPages = 0x7fffffff;

function fail(message: string): never {
  console.error(`backup: ${message}`);
  process.exit(1);
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const target = process.argv[2];
if (!target || process.argv.length > 3) {
  console.error('usage: npm run backup -- <file>');
  process.exit(2);
}
const source = resolve(process.env.DATA_DIR || './data', 'overture.sqlite');
// `npm run` moves to the package folder; a relative <file> means where the user typed it.
const destination = resolve(process.env.INIT_CWD ?? process.cwd(), target);
if (!existsSync(source)) fail(`no database at ${source} (set DATA_DIR)`);
if (destination === source) fail('the backup cannot overwrite the database itself');
if (!existsSync(dirname(destination))) fail(`no folder ${dirname(destination)}`);
const temporary = join(dirname(destination), `.${basename(destination)}.${process.pid}.partial`);

const started = performance.now();
try {
  // Opened read-write, not readonly: a read-only handle cannot join a WAL database whose
  // -shm is missing. Nothing is written through it.
  const db = new Database(source, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  let pages: number;
  try {
    ({ totalPages: pages } = await db.backup(temporary, { progress: () => allPages }));
  } finally {
    db.close();
  }

  const copy = new Database(temporary);
  let counts: { users: number; jobs: number; ledger: number };
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`integrity_check failed: ${String(check)}`);
    const count = (table: string) =>
      (copy.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    counts = { users: count('users'), jobs: count('jobs'), ledger: count('credit_ledger') };
  } finally {
    copy.close();
  }
  fsyncPath(temporary);
  renameSync(temporary, destination);
  fsyncPath(dirname(destination));

  const ms = Math.round(performance.now() - started);
  const { size } = statSync(destination);
  console.log(
    `backup: wrote ${destination} (${size} bytes, ${pages} pages) from ${source} in ${ms} ms: ` +
      `${counts.users} users, ${counts.jobs} jobs, ${counts.ledger} ledger rows; integrity ok`,
  );
} catch (error) {
  for (const suffix of ['', '-journal', '-wal', '-shm'])
    rmSync(temporary + suffix, { force: true });
  fail(error instanceof Error ? error.message : String(error));
}
