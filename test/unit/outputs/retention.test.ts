import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findOutput } from '../../../origin/jobs/read-jobs.ts';
import { createLogger } from '../../../origin/logger.ts';
import { type OutputFiles, outputFiles } from '../../../origin/outputs/files.ts';
import { OutputSweeper } from '../../../origin/outputs/retention.ts';
import type { Store } from '../../../origin/store/store.ts';
import { ApiError } from '../../../shared/errors.ts';
import { claimNext, createdJob, failed, makeUser, tempDir, tempStore } from '../support.ts';

const ttlMs = 10_000;
const logger = createLogger('silent');

/** A job of `userId` that succeeded at `at`, with its output file written. */
async function succeededJob(store: Store, outputs: OutputFiles, userId: string, at: number) {
  const job = await createdJob(store, userId);
  const { job: claimed, claim } = await claimNext(store, at);
  expect(claimed.id).toBe(job.id);
  const bytes = new TextEncoder().encode(`output of ${job.id}`);
  const file = await outputs.write(job.id, 'txt', bytes, 'application/octet-stream');
  const output = { file, contentType: 'text/plain', bytes: bytes.length, etag: 'e', runMs: 1 };
  expect(await store.jobs.finish(claim, { status: 'succeeded', output }, at)).toBeDefined();
  return { id: job.id, path: outputs.path(file) };
}

function setup() {
  const store = tempStore();
  const outputs = outputFiles(tempDir());
  const sweeper = (jobs: ConstructorParameters<typeof OutputSweeper>[0]['store'] = store.jobs) =>
    new OutputSweeper({ store: jobs, outputs, ttlMs, intervalMs: 60_000, logger });
  return { store, outputs, sweeper };
}

/** What `GET /v1/jobs/:id/output` answers, as the error it throws (or `ok`). */
async function download(store: Store, outputs: OutputFiles, userId: string, jobId: string) {
  try {
    await findOutput({ store, outputs }, { userId }, jobId);
    return 'ok';
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return `${error.status} ${error.code}`;
  }
}

describe('OutputSweeper.sweep', () => {
  it('removes only outputs finished more than the TTL before now, and marks their jobs', async () => {
    const { store, outputs, sweeper } = setup();
    const user = await makeUser(store);
    const t0 = 1_800_000_000_000;
    const old = await succeededJob(store, outputs, user.id, t0);
    const recent = await succeededJob(store, outputs, user.id, t0 + 5_000);
    const ledger = await store.ledger.entries(user.id, 100);

    expect(await sweeper().sweep(t0 + ttlMs)).toBe(0);
    expect(existsSync(old.path)).toBe(true);

    expect(await sweeper().sweep(t0 + ttlMs + 1)).toBe(1);
    expect(existsSync(old.path)).toBe(false);
    expect(existsSync(recent.path)).toBe(true);
    expect((await store.jobs.record(old.id))?.outputExpiredAt).toBe(t0 + ttlMs + 1);
    expect((await store.jobs.record(recent.id))?.outputExpiredAt).toBeNull();
    expect(await store.jobs.get(user.id, old.id)).toMatchObject({
      status: 'succeeded',
      output: null,
      outputExpired: true,
      finishedAt: new Date(t0).toISOString(),
    });
    expect(await download(store, outputs, user.id, old.id)).toBe('410 gone');
    expect(await download(store, outputs, user.id, recent.id)).toBe('ok');

    // Once expired, a job is not swept again; the next one goes when its time comes.
    expect(await sweeper().sweep(t0 + ttlMs + 2)).toBe(0);
    expect(await sweeper().sweep(t0 + 5_000 + ttlMs + 1)).toBe(1);
    expect(existsSync(recent.path)).toBe(false);
    // Retention never touches the money.
    expect(await store.ledger.entries(user.id, 100)).toEqual(ledger);
  });

  it('leaves jobs without an output alone', async () => {
    const { store, sweeper } = setup();
    const user = await makeUser(store);
    const job = await createdJob(store, user.id);
    const { claim } = await claimNext(store, 1_000);
    await store.jobs.finish(claim, failed, 1_000);
    const canceled = await createdJob(store, user.id);
    await store.jobs.cancel(canceled.id, 1_000);
    expect(await sweeper().sweep(Date.now())).toBe(0);
    expect((await store.jobs.record(job.id))?.outputExpiredAt).toBeNull();
    expect((await store.jobs.record(canceled.id))?.outputExpiredAt).toBeNull();
  });

  it('after a crash between removing the file and marking the job, answers 410 and marks it on the next sweep', async () => {
    const { store, outputs, sweeper } = setup();
    const user = await makeUser(store);
    const t0 = 1_800_000_000_000;
    const job = await succeededJob(store, outputs, user.id, t0);
    const crashing = {
      outputsToExpire: store.jobs.outputsToExpire.bind(store.jobs),
      markOutputExpired: () => Promise.reject(new Error('process killed')),
    };

    await expect(sweeper(crashing).sweep(t0 + ttlMs + 1)).rejects.toThrow('process killed');
    expect(existsSync(job.path)).toBe(false);
    expect((await store.jobs.record(job.id))?.outputExpiredAt).toBeNull();
    // The file is gone though the mark is not there yet: the download says so, no 500.
    expect(await download(store, outputs, user.id, job.id)).toBe('410 gone');

    const later = t0 + ttlMs + 1_000;
    expect(await sweeper().sweep(later)).toBe(1);
    expect((await store.jobs.record(job.id))?.outputExpiredAt).toBe(later);
    expect(await store.jobs.get(user.id, job.id)).toMatchObject({
      output: null,
      outputExpired: true,
    });
    expect(await download(store, outputs, user.id, job.id)).toBe('410 gone');
  });

  it('expires more outputs than one batch in a single sweep', async () => {
    // An in-memory store with the real one's contract: only unexpired outputs are due.
    const expiredAt = new Map<string, number>();
    const all = Array.from({ length: 1_201 }, (_, i) => ({ id: `job_${i}`, file: `job_${i}.txt` }));
    const jobs = {
      outputsToExpire: async (_before: number, limit: number) =>
        all.filter((o) => !expiredAt.has(o.id)).slice(0, limit),
      markOutputExpired: async (id: string, at: number) => {
        expiredAt.set(id, at);
      },
    };
    const removed: string[] = [];
    const sweeper = new OutputSweeper({
      store: jobs,
      outputs: { remove: async (file) => void removed.push(file) },
      ttlMs,
      intervalMs: 60_000,
      logger,
    });
    expect(await sweeper.sweep(50_000)).toBe(1_201);
    expect(removed).toEqual(all.map((o) => o.file));
    expect(new Set(expiredAt.values())).toEqual(new Set([50_000]));
    expect(await sweeper.sweep(60_000)).toBe(0);
  });
});
