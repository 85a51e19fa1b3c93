import { describe, expect, it } from 'vitest';
import { inlineOutputKey } from '../../../../origin/outputs/inline-outputs.ts';
import type { Job } from '../../../../shared/schemas/jobs.ts';
import {
  anOutput,
  claimNext,
  createdJob,
  failed,
  makeUser,
  refundsOf,
  succeeded,
  testOwner,
} from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

/** The conformance suite's part for this concern; every store implementation runs it. */
export function jobsLifecycleSuite(factory: StoreFactory): void {
  describe('jobs store: the queue', () => {
    it('numbers queue positions from 1 (next) and shifts them as jobs leave the queue', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const jobs: Job[] = [];
      for (let i = 0; i < 4; i++) jobs.push(await createdJob(store, user.id));
      expect(jobs.map((j) => j.queuePosition)).toEqual([1, 2, 3, 4]);
      const positions = async () =>
        Promise.all(jobs.map(async (j) => (await store.jobs.get(user.id, j.id))?.queuePosition));
      expect(await positions()).toEqual([1, 2, 3, 4]);

      const { job: claimed } = await claimNext(store);
      expect(claimed.id).toBe(jobs[0]?.id);
      expect(await positions()).toEqual([null, 1, 2, 3]);

      await store.jobs.cancel(jobs[2]?.id ?? '', Date.now());
      expect(await positions()).toEqual([null, 1, null, 2]);
      expect(await store.jobs.countQueued()).toBe(2);
      expect(await store.jobs.countRunning()).toBe(1);
      expect((await store.jobs.queue()).queued.map((q) => q.id)).toEqual([
        jobs[1]?.id,
        jobs[3]?.id,
      ]);
    });

    it('counts positions across users, since the queue is shared', async () => {
      const store = await factory.open();
      const alice = await makeUser(store);
      const bob = await makeUser(store);
      await createdJob(store, alice.id);
      const b = await createdJob(store, bob.id);
      expect(b.queuePosition).toBe(2);
    });

    it('claim takes the oldest queued job, starts it for its owner and records a started event', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const first = await createdJob(store, user.id);
      const second = await createdJob(store, user.id);
      const at = Date.now() + 1234;
      const { job, claim } = await claimNext(store, at, 'origin-a', 5_000);
      expect(job).toMatchObject({
        id: first.id,
        status: 'running',
        attempts: 1,
        startedAt: at,
        seq: 2,
        claimedBy: 'origin-a',
        claimToken: claim.token,
        leaseUntil: at + 5_000,
      });
      expect(claim.jobId).toBe(first.id);
      expect(await store.jobs.record(first.id)).toEqual(job);
      const events = await store.jobs.eventsSince(first.id, 1);
      expect(events.map((e) => e.kind)).toEqual(['started']);
      expect(events[0]?.job).toMatchObject({ status: 'running', queuePosition: null, seq: 2 });
      expect((await claimNext(store)).job.id).toBe(second.id);
      expect(await store.jobs.claim(testOwner, Date.now(), 1_000)).toBeUndefined();
    });

    it('records progress only while the claim holds', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const job = await createdJob(store, user.id);
      const { claim } = await claimNext(store);
      const event = await store.jobs.progress(claim, 0.25, Date.now());
      expect(event).toMatchObject({ kind: 'progress', seq: 3, job: { progress: 0.25, seq: 3 } });
      expect((await store.jobs.get(user.id, job.id))?.progress).toBe(0.25);

      await store.jobs.finish(claim, succeeded, Date.now());
      expect(await store.jobs.progress(claim, 0.75, Date.now())).toBeUndefined();
      expect(await store.jobs.get(user.id, job.id)).toMatchObject({ progress: 1, seq: 4 });
      const missing = { jobId: 'job_missing', token: claim.token };
      expect(await store.jobs.progress(missing, 0.5, Date.now())).toBeUndefined();
    });
  });

  describe('jobs store: endings and refunds', () => {
    it('finishes a running job as succeeded with its output, without a refund', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 5);
      const job = await createdJob(store, user.id, { cost: 2 });
      const { claim } = await claimNext(store);
      const at = Date.now();
      const event = await store.jobs.finish(claim, succeeded, at);
      expect(event).toMatchObject({ kind: 'succeeded', seq: 3, userId: user.id, createdAt: at });
      expect(event?.job).toMatchObject({
        status: 'succeeded',
        progress: 1,
        error: null,
        output: { url: `/v1/jobs/${job.id}/output`, contentType: 'text/plain', bytes: 3 },
        finishedAt: new Date(at).toISOString(),
      });
      expect(await store.jobs.record(job.id)).toMatchObject({
        outputFile: 'x.txt',
        outputEtag: 'abc',
        runMs: 5,
        claimToken: null,
        claimedBy: null,
        leaseUntil: null,
      });
      expect(await refundsOf(store, user.id)).toEqual([]);
      expect(await store.ledger.balance(user.id)).toBe(3);
    });

    it('keeps a small output with its job: written by the finish that ends it, read back, removed', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const job = await createdJob(store, user.id);
      const { claim } = await claimNext(store);
      const bytes = new TextEncoder().encode('a small output');
      const ending = {
        status: 'succeeded',
        output: {
          ...anOutput,
          file: 'named-otherwise.txt',
          bytes: bytes.length,
          inline: bytes,
        },
      } as const;
      expect(await store.jobs.finish(claim, ending, Date.now())).toMatchObject({
        kind: 'succeeded',
      });
      expect(new TextDecoder().decode(await store.jobs.inlineOutput(job.id))).toBe(
        'a small output',
      );
      expect(await store.jobs.record(job.id)).toMatchObject({
        outputFile: inlineOutputKey(job.id),
      });
      await store.jobs.removeInlineOutput(job.id);
      expect(await store.jobs.inlineOutput(job.id)).toBeUndefined();
      await store.jobs.removeInlineOutput(job.id);
    });

    it('keeps no output for a finish that changes nothing: a stale claim, a canceled job', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const job = await createdJob(store, user.id);
      const { claim } = await claimNext(store);
      await store.jobs.cancel(job.id, Date.now());
      const bytes = new Uint8Array([1, 2, 3]);
      const ending = {
        status: 'succeeded',
        output: { ...anOutput, file: inlineOutputKey(job.id), bytes: 3, inline: bytes },
      } as const;
      expect(await store.jobs.finish(claim, ending, Date.now())).toBeUndefined();
      expect(await store.jobs.inlineOutput(job.id)).toBeUndefined();
      expect((await store.jobs.get(user.id, job.id))?.status).toBe('canceled');
    });

    it.each([
      ['queued', 'canceled'],
      ['running', 'canceled'],
      ['running', 'failed'],
    ] as const)('refunds a %s job that is %s, once, as refund:<job id>', async (from, status) => {
      const store = await factory.open();
      const user = await makeUser(store, 5);
      const job = await createdJob(store, user.id, { cost: 2 });
      const claim = from === 'running' ? (await claimNext(store)).claim : undefined;
      const event =
        status === 'failed' && claim
          ? await store.jobs.finish(claim, failed, Date.now())
          : await store.jobs.cancel(job.id, Date.now());
      expect(event?.job.status).toBe(status);
      if (status === 'failed') expect(event?.job.error).toEqual(failed.error);
      expect(await store.ledger.balance(user.id)).toBe(5);
      const rows = await refundsOf(store, user.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ delta: 2, reference: job.id });
    });

    it('ends a job only once: a second ending answers undefined and changes nothing', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 5);
      const job = await createdJob(store, user.id, { cost: 2 });
      const { claim } = await claimNext(store);
      await store.jobs.finish(claim, failed, Date.now());
      const before = await store.jobs.record(job.id);
      const ledgerBefore = await store.ledger.entries(user.id, 100);
      for (const ending of [{ status: 'canceled' } as const, failed, succeeded]) {
        expect(await store.jobs.finish(claim, ending, Date.now())).toBeUndefined();
      }
      expect(await store.jobs.cancel(job.id, Date.now())).toBeUndefined();
      expect(await store.jobs.record(job.id)).toEqual(before);
      expect(await store.ledger.entries(user.id, 100)).toEqual(ledgerBefore);
      expect(await store.jobs.eventsSince(job.id, 0)).toHaveLength(3);
      expect(await store.jobs.cancel('job_missing', Date.now())).toBeUndefined();
    });

    it('writes no refund row for a free job', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      const job = await createdJob(store, user.id, { cost: 0 });
      await store.jobs.cancel(job.id, Date.now());
      expect(await store.ledger.entries(user.id, 10)).toEqual([]);
      expect(await store.ledger.balance(user.id)).toBe(0);
    });

    it('requeue gives a running job back to the queue with its attempt, refunding nothing', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 5);
      const job = await createdJob(store, user.id, { cost: 2 });
      const { claim } = await claimNext(store);
      const event = await store.jobs.requeue(claim, Date.now());
      expect(event).toMatchObject({ kind: 'queued', job: { status: 'queued', queuePosition: 1 } });
      expect(await store.jobs.record(job.id)).toMatchObject({
        status: 'queued',
        attempts: 0,
        startedAt: null,
        claimToken: null,
      });
      expect(await store.jobs.requeue(claim, Date.now())).toBeUndefined();
      expect(await refundsOf(store, user.id)).toEqual([]);
      expect((await claimNext(store)).job.attempts).toBe(1);
    });
  });

  describe('jobs store: abandoned claims', () => {
    it('re-queues running jobs whose lease ended under maxAttempts, and fails them interrupted at it', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 10);
      const a = await createdJob(store, user.id, { cost: 2 });
      const b = await createdJob(store, user.id, { cost: 2 });
      const waiting = await createdJob(store, user.id, { cost: 2 });
      const t0 = Date.now();
      const first = await claimNext(store, t0, 'dead-origin', 1_000);
      await claimNext(store, t0, 'dead-origin', 1_000);
      await store.jobs.progress(first.claim, 0.5, t0);

      // Not yet expired: nothing moves.
      expect(
        await store.jobs.releaseExpired({ expiredBefore: t0 + 999, maxAttempts: 2, at: t0 }),
      ).toEqual([]);
      const at = t0 + 1_001;
      const released = await store.jobs.releaseExpired({ expiredBefore: at, maxAttempts: 2, at });
      expect(released.map((e) => [e.jobId, e.kind])).toEqual([
        [a.id, 'queued'],
        [b.id, 'queued'],
      ]);
      expect(await store.jobs.record(a.id)).toMatchObject({
        status: 'queued',
        startedAt: null,
        progress: 0,
        attempts: 1,
        seq: 4,
        claimToken: null,
        claimedBy: null,
      });
      // Back in the queue in id order, ahead of the job that never started.
      expect((await store.jobs.get(user.id, waiting.id))?.queuePosition).toBe(3);
      expect(released.map((e) => e.job.queuePosition)).toEqual([1, 2]);
      expect(await refundsOf(store, user.id)).toEqual([]);
      // The dead attempt's claim is stale: its writes change nothing.
      expect(await store.jobs.finish(first.claim, succeeded, at)).toBeUndefined();
      expect(await store.jobs.heartbeat(first.claim, at, 1_000)).toBe(false);

      const again = await claimNext(store, at, 'dead-origin', 1_000);
      expect(again.job).toMatchObject({ id: a.id, attempts: 2 });
      const later = at + 2_000;
      const second = await store.jobs.releaseExpired({
        expiredBefore: later,
        maxAttempts: 2,
        at: later,
      });
      expect(second.map((e) => [e.jobId, e.kind])).toEqual([[a.id, 'failed']]);
      expect(second[0]?.job.error).toMatchObject({ code: 'interrupted' });
      expect(await refundsOf(store, user.id)).toMatchObject([{ reference: a.id, delta: 2 }]);
      expect(await store.ledger.balance(user.id)).toBe(6);
      expect((await store.jobs.record(waiting.id))?.status).toBe('queued');
      expect(
        await store.jobs.releaseExpired({ expiredBefore: later, maxAttempts: 2, at: later }),
      ).toEqual([]);
    });

    it('keeps a renewed claim: a heartbeat moves the lease forward', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const job = await createdJob(store, user.id);
      const t0 = Date.now();
      const { claim } = await claimNext(store, t0, testOwner, 1_000);
      expect(await store.jobs.heartbeat(claim, t0 + 900, 1_000)).toBe(true);
      expect((await store.jobs.record(job.id))?.leaseUntil).toBe(t0 + 1_900);
      const at = t0 + 1_500;
      expect(await store.jobs.releaseExpired({ expiredBefore: at, maxAttempts: 3, at })).toEqual(
        [],
      );
      expect((await store.jobs.record(job.id))?.status).toBe('running');
      const stale = { jobId: job.id, token: 'not-the-token' };
      expect(await store.jobs.heartbeat(stale, at, 1_000)).toBe(false);
    });
  });
}
