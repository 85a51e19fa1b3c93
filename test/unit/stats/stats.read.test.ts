import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Principal } from '../../../origin/auth/principal.ts';
import { newId } from '../../../origin/lib/ids.ts';
import { readStats } from '../../../origin/stats/read-stats.ts';
import { openDatabase } from '../../../origin/store/sqlite/database.ts';
import { jobs } from '../../../origin/store/sqlite/schema/index.ts';
import type { Store } from '../../../origin/store/store.ts';
import type { JobErrorCode } from '../../../shared/errors.ts';
import { ApiError } from '../../../shared/errors.ts';
import type { JobStatus } from '../../../shared/schemas/jobs.ts';
import { type StatsQuery, statsAnswerSchema } from '../../../shared/schemas/stats.ts';
import { makeUser, tempDir, tempStore } from '../support.ts';

/** The fixed "now" of every query: 2025-01-01T12:00:00Z. */
const now = Date.UTC(2025, 0, 1, 12);
const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

interface Row {
  model: string;
  status: JobStatus;
  /** ms before `now` the job was created. */
  ago: number;
  /** createdAt → startedAt, ms; undefined: it never started. */
  wait?: number;
  /** startedAt → finishedAt (or queued → finishedAt when it never started), ms. */
  run?: number;
  errorCode?: JobErrorCode;
}

/**
 * A store on a real SQLite file and a second connection that writes job rows as they are,
 * with fixed timestamps (the store's own `create` stamps `Date.now()`).
 */
function seededStore(): { store: Store; insert(userId: string, rows: Row[]): void } {
  const file = join(tempDir(), 'overture.sqlite');
  const store = tempStore(file);
  const db = openDatabase(file);
  onTestFinished(() => {
    db.$client.close();
  });
  return {
    store,
    insert(userId, rows) {
      for (const row of rows) {
        const createdAt = now - row.ago;
        const startedAt = row.wait === undefined ? null : createdAt + row.wait;
        const ended = ['succeeded', 'failed', 'canceled'].includes(row.status);
        db.insert(jobs)
          .values({
            id: newId('job', createdAt),
            userId,
            model: row.model,
            modelVersion: '1.0.0',
            status: row.status,
            input: {},
            cost: 1,
            seq: 1,
            errorCode: row.errorCode ?? null,
            errorMessage: row.errorCode ? 'failed on purpose' : null,
            createdAt,
            startedAt,
            finishedAt: ended ? (startedAt ?? createdAt) + (row.run ?? 0) : null,
          })
          .run();
      }
    },
  };
}

/** User A's jobs: every state, one row on the window's edge and one just outside. */
const alphaOfA: Row[] = [
  { model: 'alpha', status: 'succeeded', ago: 1 * hour, wait: 1_000, run: 4_000 },
  { model: 'alpha', status: 'succeeded', ago: 2 * hour, wait: 3_000, run: 2_000 },
  { model: 'alpha', status: 'succeeded', ago: 3 * hour, wait: 500, run: 6_000 },
  // Created exactly at the window's start (now − 24h): inside.
  { model: 'alpha', status: 'succeeded', ago: day, wait: 100, run: 3_000 },
  {
    model: 'alpha',
    status: 'failed',
    ago: 4 * hour,
    wait: 2_000,
    run: 1_000,
    errorCode: 'model_error',
  },
  {
    model: 'alpha',
    status: 'failed',
    ago: 5 * hour,
    wait: 4_000,
    run: 8_000,
    errorCode: 'timeout',
  },
  // Canceled while queued (no wait, no run), and while running (a wait, a cut-short run).
  { model: 'alpha', status: 'canceled', ago: 6 * hour, run: 9_000 },
  { model: 'alpha', status: 'canceled', ago: 7 * hour, wait: 1_500, run: 700 },
  // Still open: queued, and running for a while.
  { model: 'alpha', status: 'queued', ago: 1 * minute },
  { model: 'alpha', status: 'running', ago: 2 * minute, wait: 2_500 },
  // One ms before the window: outside.
  { model: 'alpha', status: 'failed', ago: day + 1, wait: 9, run: 9, errorCode: 'timeout' },
];
const betaOfA: Row[] = [
  { model: 'beta', status: 'succeeded', ago: 10 * minute, wait: 30, run: 300 },
  { model: 'beta', status: 'succeeded', ago: 20 * minute, wait: 10, run: 100 },
  { model: 'beta', status: 'succeeded', ago: 30 * minute, wait: 20, run: 200 },
];
const gammaOfA: Row[] = [{ model: 'gamma', status: 'canceled', ago: 3 * minute, run: 50 }];
const ofB: Row[] = [
  {
    model: 'alpha',
    status: 'failed',
    ago: 8 * hour,
    wait: 700,
    run: 300,
    errorCode: 'interrupted',
  },
  { model: 'delta', status: 'succeeded', ago: 2 * day, wait: 1, run: 1 },
];

async function seeded() {
  const { store, insert } = seededStore();
  const a = await makeUser(store);
  const b = await makeUser(store);
  const admin = await makeUser(store);
  insert(a.id, [...alphaOfA, ...betaOfA, ...gammaOfA]);
  insert(b.id, ofB);
  await store.accounts.setAdmin(admin.email, true);
  const stats = (who: Principal, query: StatsQuery) =>
    readStats({ store, originId: 'origin-test' }, who, query, now).then((answer) =>
      statsAnswerSchema.parse(answer),
    );
  return { a: { userId: a.id }, b: { userId: b.id }, admin: { userId: admin.id }, stats };
}

describe('readStats over known jobs', () => {
  it("summarises the caller's own jobs per model, over the last 24h", async () => {
    const { a, stats } = await seeded();
    const answer = await stats(a, { window: '24h', scope: 'own' });
    expect(answer).toMatchObject({
      scope: 'own',
      window: '24h',
      from: '2024-12-31T12:00:00.000Z',
      to: '2025-01-01T12:00:00.000Z',
    });
    expect(answer.data.map((m) => m.model)).toEqual(['alpha', 'beta', 'gamma']);
    const [alpha, beta, gamma] = answer.data;

    // alpha: 10 jobs in the window (the 11th is 1 ms too old): 4 succeeded, 2 failed,
    // 2 canceled, 2 open. Opportunities = 4 + 2 = 6 (canceled ones are not).
    // successRate = 4/6 = 0.6667; dpmo = 2/6 · 1e6 = 333,333.33;
    // sigma = 1.5 − NORMSINV(1/3) = 1.5 + 0.43073 = 1.93.
    expect(alpha).toMatchObject({
      jobs: 10,
      succeeded: 4,
      failed: 2,
      canceled: 2,
      open: 2,
      failedByCode: { model_error: 1, timeout: 1 },
      sigma: 1.93,
    });
    expect(alpha?.successRate).toBeCloseTo(4 / 6, 12);
    expect(alpha?.dpmo).toBeCloseTo(333_333.333, 2);
    // Waits of the 8 jobs that started, sorted: 100 500 1000 1500 2000 2500 3000 4000.
    // p50: rank ceil(0.50·8) = 4 → 1500; p95: ceil(7.6) = 8 → 4000; p99: ceil(7.92) = 8 → 4000.
    expect(alpha?.queueWaitMs).toEqual({ samples: 8, p50: 1_500, p95: 4_000, p99: 4_000 });
    // Runs of the 6 succeeded or failed jobs, sorted: 1000 2000 3000 4000 6000 8000
    // (the canceled run of 700 ms is left out). p50: rank 3 → 3000; p95: ceil(5.7) = 6 → 8000.
    expect(alpha?.runTimeMs).toEqual({ samples: 6, p50: 3_000, p95: 8_000, p99: 8_000 });

    // beta: 3 of 3 succeeded: dpmo 0, sigma capped at 6. Waits 10 20 30 → p50 rank
    // ceil(1.5) = 2 → 20, p95 ceil(2.85) = 3 → 30; runs 100 200 300 → 200, 300.
    expect(beta).toEqual({
      model: 'beta',
      jobs: 3,
      succeeded: 3,
      failed: 0,
      canceled: 0,
      open: 0,
      failedByCode: {},
      successRate: 1,
      dpmo: 0,
      sigma: 6,
      queueWaitMs: { samples: 3, p50: 20, p95: 30, p99: 30 },
      runTimeMs: { samples: 3, p50: 200, p95: 300, p99: 300 },
    });

    // gamma: one job, canceled before it started: no opportunity, no sample.
    expect(gamma).toMatchObject({
      jobs: 1,
      canceled: 1,
      successRate: null,
      dpmo: null,
      sigma: null,
      queueWaitMs: { samples: 0, p50: null, p95: null, p99: null },
      runTimeMs: { samples: 0, p50: null, p95: null, p99: null },
    });
  });

  it('narrows to the window asked: 2h holds alpha’s first job and beta, nothing older', async () => {
    const { a, stats } = await seeded();
    const answer = await stats(a, { window: '2h', scope: 'own' });
    // Created at most 2h ago: alpha's jobs at 1h, 2h (on the edge), 1 min, 2 min; all of beta
    // and gamma. alpha: 2 succeeded, 0 failed → dpmo 0, sigma 6.
    const alpha = answer.data.find((m) => m.model === 'alpha');
    expect(alpha).toMatchObject({ jobs: 4, succeeded: 2, failed: 0, open: 2, dpmo: 0, sigma: 6 });
    expect(answer.data.map((m) => m.model)).toEqual(['alpha', 'beta', 'gamma']);
  });

  it("never shows another user's jobs under scope=own", async () => {
    const { b, stats } = await seeded();
    const answer = await stats(b, { window: '24h', scope: 'own' });
    // B's delta job is 2 days old: only B's failed alpha job is in the window.
    // 0 of 1 succeeded: dpmo 1e6, sigma floored at 0.
    expect(answer.data).toHaveLength(1);
    expect(answer.data[0]).toMatchObject({
      model: 'alpha',
      jobs: 1,
      failed: 1,
      successRate: 0,
      dpmo: 1_000_000,
      sigma: 0,
      failedByCode: { interrupted: 1 },
    });
  });

  it('adds every user’s jobs under scope=all, for an administrator', async () => {
    const { admin, stats } = await seeded();
    const answer = await stats(admin, { window: '7d', scope: 'all' });
    expect(answer.data.map((m) => m.model)).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    const alpha = answer.data[0];
    // 7d also takes A's job of 24h + 1 ms ago (a timeout, wait 9, run 9), and B's alpha job.
    // alpha: 12 jobs; succeeded 4, failed 2 + 1 + 1 = 4 → successRate 4/8 = 0.5,
    // dpmo 500,000, sigma = 1.5 − NORMSINV(0.5) = 1.5.
    expect(alpha).toMatchObject({
      jobs: 12,
      succeeded: 4,
      failed: 4,
      canceled: 2,
      open: 2,
      successRate: 0.5,
      dpmo: 500_000,
      sigma: 1.5,
      failedByCode: { model_error: 1, timeout: 2, interrupted: 1 },
    });
    // Waits: 9 100 500 700 1000 1500 2000 2500 3000 4000 (n = 10): p50 rank 5 → 1000,
    // p95 rank ceil(9.5) = 10 → 4000. Runs: 9 300 1000 2000 3000 4000 6000 8000 (n = 8):
    // p50 rank 4 → 2000, p95 rank ceil(7.6) = 8 → 8000.
    expect(alpha?.queueWaitMs).toEqual({ samples: 10, p50: 1_000, p95: 4_000, p99: 4_000 });
    expect(alpha?.runTimeMs).toEqual({ samples: 8, p50: 2_000, p95: 8_000, p99: 8_000 });
  });

  it('refuses scope=all to an account no operator made an administrator (403 forbidden)', async () => {
    const { a, stats } = await seeded();
    const refused = await stats(a, { window: '24h', scope: 'all' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('counts jobs on the window’s edge, and answers no models when there are none', async () => {
    const { a, stats } = await seeded();
    // 30 minutes back: alpha's two open jobs, gamma's, and all of beta's (the 30-minute one
    // sits exactly on the edge).
    const recent = await stats(a, { window: '30m', scope: 'own' });
    expect(recent.data.map((m) => [m.model, m.jobs])).toEqual([
      ['alpha', 2],
      ['beta', 3],
      ['gamma', 1],
    ]);
    const { stats: fresh } = await seeded();
    const nobody = await fresh(
      { userId: 'usr_00000000000000000000' },
      { window: '90d', scope: 'own' },
    );
    expect(nobody.data).toEqual([]);
  });
});
