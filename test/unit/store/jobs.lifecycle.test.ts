import { describe, expect, it } from 'vitest';
import type { Job } from '../../../shared/schemas/jobs.ts';
import { createdJob, failed, makeUser, refundsOf, succeeded, tempStore } from '../support.ts';

describe('jobs store: the queue', () => {
  it('numbers queue positions from 1 (next) and shifts them as jobs leave the queue', async () => {
    const store = tempStore();
    const user = await makeUser(store);
    const jobs: Job[] = [];
    for (let i = 0; i < 4; i++) jobs.push(await createdJob(store, user.id));
    expect(jobs.map((j) => j.queuePosition)).toEqual([1, 2, 3, 4]);
    const positions = async () =>
      Promise.all(jobs.map(async (j) => (await store.jobs.get(user.id, j.id))?.queuePosition));
    expect(await positions()).toEqual([1, 2, 3, 4]);

    const claimed = await store.jobs.claimNext(Date.now());
    expect(claimed?.id).toBe(jobs[0]?.id);
    expect(await positions()).toEqual([null, 1, 2, 3]);

    await store.jobs.finish(jobs[2]?.id ?? '', { status: 'canceled' }, Date.now());
    expect(await positions()).toEqual([null, 1, null, 2]);
    expect(await store.jobs.countQueued()).toBe(2);
    expect(await store.jobs.countRunning()).toBe(1);
  });

  it('counts positions across users, since the queue is shared', async () => {
    const store = tempStore();
    const alice = await makeUser(store);
    const bob = await makeUser(store);
    await createdJob(store, alice.id);
    const b = await createdJob(store, bob.id);
    expect(b.queuePosition).toBe(2);
  });

  it('claimNext takes the oldest queued job, starts it and records a started event', async () => {
    const store = tempStore();
    const user = await makeUser(store);
    const first = await createdJob(store, user.id);
    const second = await createdJob(store, user.id);
    const at = Date.now() + 1234;
    const row = await store.jobs.claimNext(at);
    expect(row).toMatchObject({
      id: first.id,
      status: 'running',
      attempts: 1,
      startedAt: at,
      seq: 2,
    });
    const events = await store.jobs.eventsSince(first.id, 1);
    expect(events.map((e) => e.kind)).toEqual(['started']);
    expect(events[0]?.job).toMatchObject({ status: 'running', queuePosition: null, seq: 2 });
    expect((await store.jobs.claimNext(Date.now()))?.id).toBe(second.id);
    expect(await store.jobs.claimNext(Date.now())).toBeUndefined();
  });

  it('records progress only while the job runs', async () => {
    const store = tempStore();
    const user = await makeUser(store);
    const job = await createdJob(store, user.id);
    expect(await store.jobs.progress(job.id, 0.5)).toBeUndefined();
    expect((await store.jobs.row(job.id))?.seq).toBe(1);

    await store.jobs.claimNext(Date.now());
    const event = await store.jobs.progress(job.id, 0.25);
    expect(event).toMatchObject({ kind: 'progress', seq: 3, job: { progress: 0.25, seq: 3 } });
    expect((await store.jobs.get(user.id, job.id))?.progress).toBe(0.25);

    await store.jobs.finish(job.id, succeeded, Date.now());
    expect(await store.jobs.progress(job.id, 0.75)).toBeUndefined();
    expect(await store.jobs.get(user.id, job.id)).toMatchObject({ progress: 1, seq: 4 });
    expect(await store.jobs.progress('job_missing', 0.5)).toBeUndefined();
  });
});

describe('jobs store: endings and refunds', () => {
  it('finishes a running job as succeeded with its output, without a refund', async () => {
    const store = tempStore();
    const user = await makeUser(store, 5);
    const job = await createdJob(store, user.id, { cost: 2 });
    await store.jobs.claimNext(Date.now());
    const at = Date.now();
    const event = await store.jobs.finish(job.id, succeeded, at);
    expect(event).toMatchObject({ kind: 'succeeded', seq: 3, userId: user.id, createdAt: at });
    expect(event?.job).toMatchObject({
      status: 'succeeded',
      progress: 1,
      error: null,
      output: { url: `/v1/jobs/${job.id}/output`, contentType: 'text/plain', bytes: 3 },
      finishedAt: new Date(at).toISOString(),
    });
    expect(await store.jobs.row(job.id)).toMatchObject({
      outputFile: 'x.txt',
      outputEtag: 'abc',
      runMs: 5,
    });
    expect(await refundsOf(store, user.id)).toEqual([]);
    expect(await store.ledger.balance(user.id)).toBe(3);
  });

  it.each([
    ['queued', 'canceled'],
    ['queued', 'failed'],
    ['running', 'canceled'],
    ['running', 'failed'],
  ] as const)('refunds a %s job that is %s, once, as refund:<job id>', async (from, status) => {
    const store = tempStore();
    const user = await makeUser(store, 5);
    const job = await createdJob(store, user.id, { cost: 2 });
    if (from === 'running') await store.jobs.claimNext(Date.now());
    const ending = status === 'failed' ? failed : ({ status: 'canceled' } as const);
    const event = await store.jobs.finish(job.id, ending, Date.now());
    expect(event?.job.status).toBe(status);
    if (status === 'failed') expect(event?.job.error).toEqual(failed.error);
    expect(await store.ledger.balance(user.id)).toBe(5);
    const rows = await refundsOf(store, user.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ delta: 2, reference: job.id });
  });

  it('ends a job only once: a second finish answers undefined and changes nothing', async () => {
    const store = tempStore();
    const user = await makeUser(store, 5);
    const job = await createdJob(store, user.id, { cost: 2 });
    await store.jobs.finish(job.id, failed, Date.now());
    const before = await store.jobs.row(job.id);
    const ledgerBefore = await store.ledger.entries(user.id, 100);
    for (const ending of [{ status: 'canceled' } as const, failed, succeeded]) {
      expect(await store.jobs.finish(job.id, ending, Date.now())).toBeUndefined();
    }
    expect(await store.jobs.row(job.id)).toEqual(before);
    expect(await store.ledger.entries(user.id, 100)).toEqual(ledgerBefore);
    expect(await store.jobs.eventsSince(job.id, 0)).toHaveLength(2);
    expect(await store.jobs.finish('job_missing', { status: 'canceled' }, Date.now())).toBe(
      undefined,
    );
  });

  it('writes no refund row for a free job', async () => {
    const store = tempStore();
    const user = await makeUser(store, 0);
    const job = await createdJob(store, user.id, { cost: 0 });
    await store.jobs.finish(job.id, { status: 'canceled' }, Date.now());
    expect(await store.ledger.entries(user.id, 10)).toEqual([]);
    expect(await store.ledger.balance(user.id)).toBe(0);
  });
});

describe('jobs store: recoverInterrupted', () => {
  it('re-queues running jobs under maxAttempts and fails them with interrupted at it', async () => {
    const store = tempStore();
    const user = await makeUser(store, 10);
    const a = await createdJob(store, user.id, { cost: 2 });
    const b = await createdJob(store, user.id, { cost: 2 });
    const waiting = await createdJob(store, user.id, { cost: 2 });
    await store.jobs.claimNext(Date.now());
    await store.jobs.claimNext(Date.now());
    await store.jobs.progress(a.id, 0.5);

    const at = Date.now();
    const first = await store.jobs.recoverInterrupted(2, at);
    expect(first.map((e) => [e.jobId, e.kind])).toEqual([
      [a.id, 'queued'],
      [b.id, 'queued'],
    ]);
    expect(await store.jobs.row(a.id)).toMatchObject({
      status: 'queued',
      startedAt: null,
      progress: 0,
      attempts: 1,
      seq: 4,
    });
    // Back in the queue in id order, ahead of the job that never started.
    expect((await store.jobs.get(user.id, waiting.id))?.queuePosition).toBe(3);
    expect(first.map((e) => e.job.queuePosition)).toEqual([1, 2]);
    expect(await refundsOf(store, user.id)).toEqual([]);

    expect((await store.jobs.claimNext(Date.now()))?.attempts).toBe(2);
    const second = await store.jobs.recoverInterrupted(2, at);
    expect(second.map((e) => [e.jobId, e.kind])).toEqual([[a.id, 'failed']]);
    expect(second[0]?.job.error).toMatchObject({ code: 'interrupted' });
    expect(await refundsOf(store, user.id)).toMatchObject([{ reference: a.id, delta: 2 }]);
    expect(await store.ledger.balance(user.id)).toBe(6);
    expect((await store.jobs.row(waiting.id))?.status).toBe('queued');
    expect(await store.jobs.recoverInterrupted(2, at)).toEqual([]);
  });
});
