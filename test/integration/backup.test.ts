import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { apiClient } from '../helpers/api.ts';
import { submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels, repoRoot } from '../helpers/paths.ts';

const run = promisify(execFile);
const env = { FREE_GRANT_CREDITS: '1000', MODEL_DIR: fixtureModels };
const quick = { steps: 1, stepMs: 0 };

/** Runs `node scripts/backup.ts <file>` (what `npm run backup -- <file>` runs) on `dataDir`. */
async function backup(dataDir: string, file: string) {
  const child = run(process.execPath, [join(repoRoot, 'scripts/backup.ts'), file], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir },
  });
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run backup', () => {
  it('copies a live database consistently, and the copy restores to a working origin', async ({
    origins,
  }) => {
    const dataDir = origins.dataDir();
    const backupDir = origins.dataDir();
    const origin = await origins.start({ dataDir, env });
    const api = apiClient(origin.url);

    // What exists before the backup starts: a user, ended jobs, their ledger rows.
    const user = await api.signUp();
    const jobs = await Promise.all(
      [quick, quick, { ...quick, fail: true }].map((input) =>
        submitJob(api, user.token, 'steps', input),
      ),
    );
    const ended = await Promise.all(jobs.map((j) => api.waitForJob(user.token, j.id)));
    const ledgerBefore = (await api.call('GET', '/v1/billing/ledger', { token: user.token })).body;
    // 3 debits, 1 refund (the failed job) and the grant.
    expect(ledgerBefore.data).toHaveLength(5);

    // Meanwhile another user keeps creating jobs, through and past the backup.
    const writer = await api.signUp();
    const written: string[] = [];
    let writing = true;
    const writes = (async () => {
      while (writing) {
        const res = await api.call<Job>('POST', '/v1/jobs', {
          token: writer.token,
          body: { model: 'steps', input: quick },
        });
        if (res.status === 202) written.push(res.body.id);
        else await sleep(5);
      }
    })();
    while (written.length < 3) await sleep(5);
    const writtenBefore = [...written];

    const file = join(backupDir, 'overture-backup.sqlite');
    const result = await backup(dataDir, file);
    const writtenByNow = written.length;
    while (written.length < writtenByNow + 3) await sleep(5);
    writing = false;
    await writes;

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^backup: wrote .*overture-backup\.sqlite \(\d+ bytes, \d+ pages\) .* users, \d+ jobs, \d+ ledger rows; integrity ok\n$/,
    );
    // Only the backup is left in its folder: no temporary file, no -wal or -shm.
    expect(readdirSync(backupDir)).toEqual(['overture-backup.sqlite']);

    const copy = new Database(file, { readonly: true, fileMustExist: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      const ids = (sql: string, ...args: string[]) =>
        (copy.prepare(sql).all(...args) as { id: string | number }[]).map((r) => r.id);
      expect(ids('SELECT id FROM users')).toEqual(expect.arrayContaining([user.id, writer.id]));
      const jobIds = ids('SELECT id FROM jobs');
      expect(jobIds).toEqual(expect.arrayContaining([...jobs.map((j) => j.id), ...writtenBefore]));
      // The copy is one moment: the writer's later jobs (created after it ended) are not in it.
      expect(jobIds).not.toContain(written.at(-1));
      const ledger = copy
        .prepare(
          'SELECT id, delta, reason, reference FROM credit_ledger WHERE user_id = ? ORDER BY id DESC',
        )
        .all(user.id);
      expect(ledger).toEqual(
        ledgerBefore.data.map(({ createdAt: _, ...row }: { createdAt: string }) => row),
      );
      // Every job in the copy has its debit: the job row and its ledger row were one transaction.
      const unpaid = copy
        .prepare(
          "SELECT count(*) AS n FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM credit_ledger l WHERE l.reason = 'job' AND l.reference = j.id)",
        )
        .get() as { n: number };
      expect(unpaid.n).toBe(0);
    } finally {
      copy.close();
    }

    // Restore: stop the origin, put the copy in place of the data file (without the old
    // -wal and -shm), start an origin on it.
    await origin.kill();
    const data = join(dataDir, 'overture.sqlite');
    copyFileSync(file, data);
    for (const suffix of ['-wal', '-shm']) rmSync(data + suffix, { force: true });
    const restored = await origins.start({ dataDir, env });
    const again = apiClient(restored.url);
    const login = await again.call('POST', '/v1/auth/login', {
      body: { email: user.email, password: user.password },
    });
    expect(login.status).toBe(200);
    const token = login.body.token as string;
    const listed = await again.call('GET', '/v1/jobs?limit=10', { token });
    expect(listed.status).toBe(200);
    const newestFirst = ended
      .map((j) => [j.id, j.status])
      .sort()
      .reverse();
    expect(listed.body.data.map((j: Job) => [j.id, j.status])).toEqual(newestFirst);
    const me = await again.call('GET', '/v1/me', { token });
    expect(me.body.credits).toBe(ledgerBefore.balance);
    // The restored origin works: a new job runs.
    const next = await submitJob(again, token, 'steps', quick);
    expect((await again.waitForJob(token, next.id)).status).toBe('succeeded');
    // Two origin starts: on a loaded 2-core runner, more than the default 30 s.
  }, 90_000);

  it('refuses to run without a database, and writes nothing', async ({ origins }) => {
    const empty = origins.dataDir();
    const file = join(empty, 'backup.sqlite');
    const result = await backup(join(empty, 'nothing-here'), file);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^backup: no database at .*nothing-here.*overture\.sqlite/);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(empty)).toEqual([]);
  });
});
