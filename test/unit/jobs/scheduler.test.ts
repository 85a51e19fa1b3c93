import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createModelPools } from '../../../origin/inference/model-pools.ts';
import { loadModels } from '../../../origin/inference/models/registry.ts';
import { planPools } from '../../../origin/inference/pool-plan.ts';
import { LeaseSweeper } from '../../../origin/jobs/lease-sweeper.ts';
import { Scheduler, type SchedulerOptions } from '../../../origin/jobs/scheduler.ts';
import { type OutputFiles, outputFiles } from '../../../origin/outputs/files.ts';
import type { JobEvent, JobStore, Store } from '../../../origin/store/store.ts';
import type { JobEventKind } from '../../../shared/schemas/jobs.ts';
import {
  claimNext,
  fixtureModels,
  makeUser,
  newJob,
  tempDir,
  tempStore,
  waitFor,
} from '../support.ts';

const terminal: readonly JobEventKind[] = ['succeeded', 'failed', 'canceled'];

interface StepsInput {
  steps?: number;
  stepMs?: number;
  ignoreAbort?: boolean;
  fail?: boolean;
  garbage?: boolean;
}

type Options = Partial<
  Omit<SchedulerOptions, 'store' | 'events' | 'pool' | 'models' | 'outputs' | 'logger'>
>;

/**
 * A scheduler on real parts: a SQLite store, a Piscina pool of `threads` threads running the
 * `steps` fixture model, and an outputs folder, all in a temporary folder.
 */
async function harness(
  options: Options & {
    threads?: number;
    wrap?: (jobs: JobStore) => JobStore;
    wrapOutputs?: (outputs: OutputFiles) => OutputFiles;
  } = {},
) {
  const { threads = 1, wrap = (jobs) => jobs, wrapOutputs = (o) => o, ...overrides } = options;
  const dir = tempDir();
  const store = tempStore(join(dir, 'overture.sqlite'));
  const models = loadModels(fixtureModels);
  // The fixture model has no ONNX session: its pool takes `threads`, whatever the cores.
  const pool = createModelPools(
    planPools(models.list(), { models: {} }, { threads, device: 'cpu', cores: threads }),
  );
  const outputs = wrapOutputs(outputFiles(join(dir, 'outputs')));
  const logs: { level: number; msg: string; err?: { message: string } }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const scheduler = new Scheduler({
    store: wrap(store.jobs),
    events: store.events,
    pool,
    models,
    outputs,
    owner: 'origin-test',
    leaseMs: 60_000,
    jobTimeoutMs: 30_000,
    abortGraceMs: 5_000,
    progressIntervalMs: 0,
    logger,
    ...overrides,
  });
  // Runs before the store closes and the folder goes (clean-ups run last-registered first).
  onTestFinished(async () => {
    scheduler.close();
    await waitFor(() => scheduler.active === 0, 10_000, 'running jobs to end');
    await pool.close();
  });
  await pool.ready;
  const user = await makeUser(store, 1000);
  const events: JobEvent[] = [];
  store.events.listen((e) => events.push(e));

  return {
    store,
    logs,
    outputs,
    scheduler,
    user,
    events,
    /** Queues a `steps` job (defaults applied, as the route does) and wakes the scheduler. */
    async submit(input: StepsInput = {}): Promise<string> {
      const checked = models.check('steps', { steps: 1, stepMs: 0, ...input });
      if (!checked.ok) throw new Error(`bad fixture input: ${JSON.stringify(checked.issues)}`);
      const result = await store.jobs.create(newJob(user.id, { input: checked.input }));
      if (result.kind !== 'created') throw new Error(`job refused: ${result.kind}`);
      return result.job.id;
    },
    kinds: (jobId: string) => events.filter((e) => e.jobId === jobId).map((e) => e.kind),
    /** Waits for an event of `kinds` of the job, and answers it. */
    until(jobId: string, kinds: readonly JobEventKind[], ms = 10_000): Promise<JobEvent> {
      return waitFor(
        () => events.find((e) => e.jobId === jobId && kinds.includes(e.kind)),
        ms,
        `${kinds.join('/')} of ${jobId}`,
      );
    },
    async refunds(jobId: string) {
      const entries = await store.ledger.entries(user.id, 10_000);
      return entries.filter((e) => e.reason === 'refund' && e.reference === jobId).length;
    },
  };
}

/** Outputs whose nth write waits for `gates[n]` first (past them: at once), and the keys removed. */
function gatedOutputs(gates: readonly Promise<void>[]) {
  let writes = 0;
  const removed: string[] = [];
  return {
    removed,
    writes: () => writes,
    wrap: (outputs: OutputFiles): OutputFiles => ({
      ...outputs,
      async write(name, extension, bytes, contentType) {
        await gates[writes++];
        return outputs.write(name, extension, bytes, contentType);
      },
      async remove(key) {
        await outputs.remove(key);
        removed.push(key);
      },
    }),
  };
}

/** Another origin's sweep, as if this one had stopped renewing: its running jobs go back. */
function takeBack(store: Store) {
  const at = Date.now();
  return store.jobs.releaseExpired({ expiredBefore: at + 3_600_000, maxAttempts: 5, at });
}

describe('Scheduler', () => {
  it('runs jobs to succeeded with an output file holding exactly the model bytes', async () => {
    const h = await harness({ threads: 2 });
    h.scheduler.start();
    const ids = [
      await h.submit({ steps: 2, stepMs: 5 }),
      await h.submit({ steps: 3 }),
      await h.submit({ steps: 1 }),
    ];
    for (const id of ids) await h.until(id, terminal);

    for (const [i, id] of ids.entries()) {
      const steps = [2, 3, 1][i];
      const expected = Buffer.from(`done ${steps} steps\n`);
      const row = await h.store.jobs.record(id);
      expect(row).toMatchObject({
        status: 'succeeded',
        outputFile: `${id}.1.txt`,
        outputContentType: 'text/plain',
        outputBytes: expected.byteLength,
        outputEtag: createHash('sha256').update(expected).digest('hex'),
        attempts: 1,
      });
      expect(readFileSync(h.outputs.path(`${id}.1.txt`)).equals(expected)).toBe(true);
      const kinds = h.kinds(id);
      expect(kinds.slice(0, 2)).toEqual(['queued', 'started']);
      expect(kinds.at(-1)).toBe('succeeded');
      const job = await h.store.jobs.get(h.user.id, id);
      expect(job?.output).toEqual({
        url: `/v1/jobs/${id}/output`,
        contentType: 'text/plain',
        bytes: expected.byteLength,
      });
      expect(await h.refunds(id)).toBe(0);
    }
    expect(readdirSync(h.outputs.dir).sort()).toEqual(ids.map((id) => `${id}.1.txt`).sort());
  });

  it('keeps outputs up to inlineOutputMaxBytes with the job, larger ones as files; 0 keeps none', async () => {
    // 'done 9 steps\n' is 13 bytes, 'done 10 steps\n' 14: the bound falls between them.
    const h = await harness({ inlineOutputMaxBytes: 13 });
    h.scheduler.start();
    const small = await h.submit({ steps: 9, stepMs: 0 });
    const large = await h.submit({ steps: 10, stepMs: 0 });
    for (const id of [small, large]) await h.until(id, terminal);
    expect(await h.store.jobs.record(small)).toMatchObject({ outputFile: `inline:${small}` });
    expect(Buffer.from((await h.store.jobs.inlineOutput(small)) ?? []).toString()).toBe(
      'done 9 steps\n',
    );
    expect(await h.store.jobs.record(large)).toMatchObject({ outputFile: `${large}.1.txt` });
    expect(await h.store.jobs.inlineOutput(large)).toBeUndefined();
    expect(readdirSync(h.outputs.dir)).toEqual([`${large}.1.txt`]);

    const none = await harness({ inlineOutputMaxBytes: 0 });
    none.scheduler.start();
    const id = await none.submit({ steps: 1, stepMs: 0 });
    await none.until(id, terminal);
    expect(await none.store.jobs.record(id)).toMatchObject({ outputFile: `${id}.1.txt` });
  });

  it('never runs more tasks at once than the pool has threads, and uses them all', async () => {
    const h = await harness({ threads: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await h.submit({ steps: 3, stepMs: 20 }));
    let running = 0;
    let most = 0;
    let mostBusy = 0;
    h.store.events.listen((e) => {
      if (e.kind === 'started') running++;
      if (terminal.includes(e.kind)) running--;
      most = Math.max(most, running);
      mostBusy = Math.max(mostBusy, h.scheduler.threadsBusy);
    });
    h.scheduler.start();
    for (const id of ids) await h.until(id, terminal);
    expect(mostBusy).toBe(2);
    // A thread takes the next job while the last ones store their outputs: up to 8 per thread.
    expect(most).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(16);
    for (const id of ids) expect(h.kinds(id).at(-1)).toBe('succeeded');
    // The queue runs oldest first.
    const starts = h.events.filter((e) => e.kind === 'started').map((e) => e.jobId);
    expect(starts).toEqual(ids);
  });

  it('throttles progress writes to the interval but always ends with the terminal event', async () => {
    const h = await harness({ progressIntervalMs: 60_000 });
    h.scheduler.start();
    const id = await h.submit({ steps: 6, stepMs: 10 });
    await h.until(id, terminal);
    // The first report is written at once; the rest fall inside the interval.
    expect(h.kinds(id)).toEqual(['queued', 'started', 'progress', 'succeeded']);
    const events = await h.store.jobs.eventsSince(id, 0);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events[2]?.job.progress).toBeCloseTo(1 / 6);
  });

  it('writes progress in order, with gapless seqs, when the interval is zero', async () => {
    const h = await harness({ progressIntervalMs: 0 });
    h.scheduler.start();
    const id = await h.submit({ steps: 5, stepMs: 10 });
    await h.until(id, terminal);
    const events = await h.store.jobs.eventsSince(id, 0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)?.kind).toBe('succeeded');
    const progress = events.filter((e) => e.kind === 'progress').map((e) => e.job.progress);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(new Set(progress).size).toBe(progress.length);
  });

  it('finishes a job whose progress writes fail, without an unhandled rejection', async () => {
    let failures = 0;
    const h = await harness({
      wrap: (jobs) => ({
        ...jobs,
        progress: async () => {
          failures++;
          throw new Error('disk I/O error');
        },
      }),
    });
    h.scheduler.start();
    const id = await h.submit({ steps: 3, stepMs: 5 });
    expect((await h.until(id, terminal)).kind).toBe('succeeded');
    expect(failures).toBeGreaterThan(0);
    expect(h.kinds(id)).toEqual(['queued', 'started', 'succeeded']);
  });

  it('leaves a job running for recovery when the store cannot end it, without an unhandled rejection', async () => {
    let attempts = 0;
    const h = await harness({
      wrap: (jobs) => ({
        ...jobs,
        finish: async () => {
          attempts++;
          throw new Error('The database connection is not open');
        },
      }),
    });
    h.scheduler.start();
    const id = await h.submit({ steps: 1 });
    await waitFor(() => attempts >= 2, 10_000, 'both attempts to end the job');
    await waitFor(() => h.scheduler.active === 0, 10_000, 'the job to be let go');
    expect(attempts).toBe(2);
    expect((await h.store.jobs.record(id))?.status).toBe('running');
    expect(h.kinds(id)).toEqual(['queued', 'started', 'progress']);
  });

  it('cancels a queued job without ever running it, refunded once', async () => {
    const h = await harness({ threads: 1 });
    h.scheduler.start();
    const first = await h.submit({ steps: 10, stepMs: 30 });
    const second = await h.submit({ steps: 1 });
    await h.until(first, ['started']);
    const event = await h.store.jobs.cancel(second, Date.now());
    expect(event).toMatchObject({ kind: 'canceled', job: { status: 'canceled' } });
    await h.until(first, terminal);
    expect(h.kinds(first).at(-1)).toBe('succeeded');
    expect(h.kinds(second)).toEqual(['queued', 'canceled']);
    expect((await h.store.jobs.record(second))?.attempts).toBe(0);
    expect(await h.refunds(second)).toBe(1);
    expect(await h.store.jobs.cancel(second, Date.now())).toBeUndefined();
    expect(await h.refunds(second)).toBe(1);
  });

  it('cancels a running job at once; its worker stops and frees the thread, leaving no file', async () => {
    const h = await harness({ threads: 1 });
    h.scheduler.start();
    const slow = await h.submit({ steps: 200, stepMs: 25 });
    await h.until(slow, ['progress']);
    const event = await h.store.jobs.cancel(slow, Date.now());
    expect(event?.job.status).toBe('canceled');
    expect((await h.store.jobs.record(slow))?.status).toBe('canceled');

    // The next job needs the only thread: it runs once the canceled worker has stopped.
    const next = await h.submit({ steps: 1 });
    await h.until(next, terminal);
    expect(h.kinds(next).at(-1)).toBe('succeeded');
    expect(h.kinds(slow).at(-1)).toBe('canceled');
    expect((await h.store.jobs.record(slow))?.status).toBe('canceled');
    expect(readdirSync(h.outputs.dir)).toEqual([`${next}.1.txt`]);
    expect(await h.refunds(slow)).toBe(1);
  });

  it('keeps a cancel that lands while the output is being written, and removes the file', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let writing = false;
    const h = await harness({
      wrapOutputs: (outputs) => ({
        ...outputs,
        async write(jobId, extension, bytes, contentType) {
          const file = await outputs.write(jobId, extension, bytes, contentType);
          writing = true;
          await released;
          return file;
        },
      }),
    });
    h.scheduler.start();
    const id = await h.submit({ steps: 2 });
    await waitFor(() => writing, 10_000, 'the output write');
    expect((await h.store.jobs.cancel(id, Date.now()))?.kind).toBe('canceled');
    release();
    await waitFor(() => h.scheduler.active === 0, 10_000, 'the job to be let go');
    expect(h.kinds(id).at(-1)).toBe('canceled');
    expect(h.kinds(id)).not.toContain('succeeded');
    expect(readdirSync(h.outputs.dir)).toEqual([]);
    expect(await h.refunds(id)).toBe(1);
  });

  it('keeps the output of the attempt that won when an attempt taken back ends late', async () => {
    // The first attempt's write is held (its origin paused past its lease, say) while the job
    // is taken back and run again to success on the other thread.
    const first = Promise.withResolvers<void>();
    const outputs = gatedOutputs([first.promise]);
    const h = await harness({ threads: 2, wrapOutputs: outputs.wrap });
    h.scheduler.start();
    const id = await h.submit({ steps: 2 });
    await waitFor(() => outputs.writes() === 1, 10_000, 'the first attempt writing its output');
    const back = await takeBack(h.store);
    expect(back.map((e) => e.job.status)).toEqual(['queued']);
    await h.until(id, ['succeeded']);
    // The first attempt now ends: its end is refused, and it removes what it wrote.
    first.resolve();
    await waitFor(
      () => outputs.removed.length > 0,
      10_000,
      'the first attempt to remove its output',
    );
    expect(outputs.removed).toEqual([`${id}.1.txt`]);
    const row = await h.store.jobs.record(id);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2, outputFile: `${id}.2.txt` });
    const expected = Buffer.from('done 2 steps\n');
    expect(readFileSync(h.outputs.path(`${id}.2.txt`)).equals(expected)).toBe(true);
    expect(readdirSync(h.outputs.dir)).toEqual([`${id}.2.txt`]);
  });

  it('still counts the later attempt of a job once an attempt taken back here ends', async () => {
    // Both attempts' writes are held: the first until it is released, the second until the end.
    const gates = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
    const outputs = gatedOutputs(gates.map((gate) => gate.promise));
    const h = await harness({ threads: 2, wrapOutputs: outputs.wrap });
    h.scheduler.start();
    const id = await h.submit({ steps: 1 });
    await waitFor(() => outputs.writes() === 1, 10_000, 'the first attempt writing its output');
    await takeBack(h.store);
    await waitFor(
      () => outputs.writes() === 2,
      10_000,
      'the second attempt, here, writing its output',
    );
    gates[0]?.resolve();
    await waitFor(() => outputs.removed.length === 1, 10_000, 'the first attempt to end');
    // The second attempt is still under way: counted, as the scheduler's capacity needs it.
    expect(h.scheduler.active).toBe(1);
    gates[1]?.resolve();
    await h.until(id, ['succeeded']);
    await waitFor(() => h.scheduler.active === 0, 10_000, 'the second attempt to end');
  });

  it('ignores the late result of a canceled job that finished anyway', async () => {
    // A worker that never looks at the abort flag, given the time to finish.
    const h = await harness({ threads: 1, abortGraceMs: 30_000 });
    h.scheduler.start();
    const stubborn = await h.submit({ steps: 5, stepMs: 60, ignoreAbort: true });
    await h.until(stubborn, ['started']);
    expect((await h.store.jobs.cancel(stubborn, Date.now()))?.kind).toBe('canceled');
    // Queued behind the stubborn task, so it starts only after that task's result came back.
    const next = await h.submit({ steps: 1 });
    await h.until(next, terminal);
    expect(h.kinds(stubborn)).toEqual(['queued', 'started', 'canceled']);
    expect((await h.store.jobs.record(stubborn))?.outputFile).toBeNull();
    expect(readdirSync(h.outputs.dir)).toEqual([`${next}.1.txt`]);
    expect(await h.refunds(stubborn)).toBe(1);
  });

  it('frees the thread of a worker that ignores the abort once abortGraceMs has passed', async () => {
    const h = await harness({ threads: 1, abortGraceMs: 100 });
    h.scheduler.start();
    // Would hold its thread for a minute if it were not ended.
    const stuck = await h.submit({ steps: 1000, stepMs: 60, ignoreAbort: true });
    await h.until(stuck, ['started']);
    expect((await h.store.jobs.cancel(stuck, Date.now()))?.job.status).toBe('canceled');
    const next = await h.submit({ steps: 2, stepMs: 5 });
    await h.until(next, terminal, 15_000);
    expect(h.kinds(next).at(-1)).toBe('succeeded');
    expect(h.kinds(stuck)).toEqual(['queued', 'started', 'canceled']);
    // The replacement thread keeps serving.
    const after = await h.submit({ steps: 1 });
    expect((await h.until(after, terminal)).kind).toBe('succeeded');
  });

  it('fails a job that runs past jobTimeoutMs with timeout, refunded, and carries on', async () => {
    const h = await harness({ threads: 1, jobTimeoutMs: 300, abortGraceMs: 100 });
    h.scheduler.start();
    const long = await h.submit({ steps: 1000, stepMs: 20 });
    const ended = await h.until(long, terminal);
    expect(ended.kind).toBe('failed');
    expect(ended.job.error).toMatchObject({ code: 'timeout' });
    expect(await h.refunds(long)).toBe(1);
    const next = await h.submit({ steps: 1 });
    expect((await h.until(next, terminal)).kind).toBe('succeeded');
    expect(readdirSync(h.outputs.dir)).toEqual([`${next}.1.txt`]);
  });

  it('fails a job whose model throws with model_error, and one answering garbage with invalid_output', async () => {
    const h = await harness({ threads: 2 });
    h.scheduler.start();
    const failing = await h.submit({ steps: 2, fail: true });
    const garbage = await h.submit({ steps: 2, garbage: true });
    const failed = await h.until(failing, terminal);
    expect(failed.kind).toBe('failed');
    expect(failed.job.error?.code).toBe('model_error');
    // The model's own words are logged for operators, never shown to the client.
    expect(failed.job.error?.message).not.toContain('fixture failure');
    expect(
      h.logs.some((l) => l.msg === 'model failed' && l.err?.message.includes('fixture failure')),
    ).toBe(true);
    const invalid = await h.until(garbage, terminal);
    expect(invalid.kind).toBe('failed');
    expect(invalid.job.error?.code).toBe('invalid_output');
    for (const id of [failing, garbage]) {
      expect(await h.refunds(id)).toBe(1);
      expect(h.kinds(id).filter((k) => terminal.includes(k))).toHaveLength(1);
    }
    expect(readdirSync(h.outputs.dir)).toEqual([]);
  });

  it('does not start jobs while paused, and picks them up on start', async () => {
    const h = await harness();
    const id = await h.submit({ steps: 1 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.kinds(id)).toEqual(['queued']);
    h.scheduler.start();
    expect((await h.until(id, terminal)).kind).toBe('succeeded');
  });

  it('a sweep takes back what a dead process left running, fails it at maxAttempts, then runs it', async () => {
    const h = await harness({ threads: 1 });
    const sweeper = new LeaseSweeper({
      store: h.store.jobs,
      maxQueueWaitMs: 0,
      maxAttempts: 2,
      intervalMs: 60_000,
      logger: pino({ level: 'silent' }),
    });
    // A job that a dead process had already started twice...
    const worn = await h.submit({ steps: 1 });
    await claimNext(h.store, Date.now(), 'dead-origin', 1);
    await sweeper.sweep(Date.now() + 10);
    await claimNext(h.store, Date.now(), 'dead-origin', 1);
    // ...and one it had started once.
    const fresh = await h.submit({ steps: 2 });
    await claimNext(h.store, Date.now(), 'dead-origin', 1);
    expect(await h.store.jobs.countRunning()).toBe(2);

    const recovered = await sweeper.sweep(Date.now() + 10);
    expect(recovered.map((e) => [e.jobId, e.kind])).toEqual([
      [worn, 'failed'],
      [fresh, 'queued'],
    ]);
    expect(recovered[0]?.job.error?.code).toBe('interrupted');

    h.scheduler.start();
    const ended = await h.until(fresh, terminal);
    expect(ended.kind).toBe('succeeded');
    expect((await h.store.jobs.record(fresh))?.attempts).toBe(2);
    expect((await h.store.jobs.record(worn))?.status).toBe('failed');
    expect(await h.refunds(worn)).toBe(1);
    expect(await h.refunds(fresh)).toBe(0);
  });

  it('stops a job whose claim was taken back elsewhere, and writes nothing for it', async () => {
    const h = await harness({ threads: 1, leaseMs: 300 });
    h.scheduler.start();
    const id = await h.submit({ steps: 200, stepMs: 20 });
    await h.until(id, ['progress']);
    // Another origin's sweep, as if this one had stopped renewing: the job is queued again.
    const at = Date.now() + 10_000;
    const taken = await h.store.jobs.releaseExpired({ expiredBefore: at, maxAttempts: 3, at });
    expect(taken.map((e) => e.kind)).toEqual(['queued']);
    // This scheduler hears it, stops its worker and (its only thread free) runs the job anew.
    await waitFor(async () => (await h.store.jobs.record(id))?.attempts === 2, 10_000, 'the rerun');
    const ended = await h.until(id, terminal, 15_000);
    expect(ended.kind).toBe('succeeded');
    expect(h.kinds(id).filter((k) => k === 'succeeded')).toHaveLength(1);
    expect(readdirSync(h.outputs.dir)).toEqual([`${id}.2.txt`]);
  });

  it('renews its claims while a job runs longer than the lease', async () => {
    const h = await harness({ threads: 1, leaseMs: 300 });
    h.scheduler.start();
    const id = await h.submit({ steps: 30, stepMs: 30 });
    await h.until(id, ['started']);
    let sweeps = 0;
    while (!(await h.store.jobs.record(id))?.finishedAt) {
      const at = Date.now();
      const taken = await h.store.jobs.releaseExpired({ expiredBefore: at, maxAttempts: 3, at });
      expect(taken).toEqual([]);
      sweeps++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(sweeps).toBeGreaterThan(10);
    expect((await h.until(id, terminal)).kind).toBe('succeeded');
    expect((await h.store.jobs.record(id))?.attempts).toBe(1);
  });
});
