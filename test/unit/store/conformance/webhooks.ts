import { describe, expect, it } from 'vitest';
import type { DeliveryClaim, Store } from '../../../../origin/store/store.ts';
import { claimNext, createdJob, makeUser } from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

const hook = {
  url: 'https://hooks.example.test/overture',
  events: ['queued', 'canceled'] as const,
};

/** A job whose `queued` and `canceled` events are delivered by webhook; answers its id. */
async function hookedJob(store: Store): Promise<string> {
  const user = await makeUser(store);
  const job = await createdJob(store, user.id, { webhook: { ...hook, events: [...hook.events] } });
  return job.id;
}

/** A claim at `now` of up to 10 deliveries for 5 s, bounds wide unless `bounds` says. */
const claimAt = (now: number, bounds: Partial<DeliveryClaim> = {}): DeliveryClaim => ({
  now,
  limit: 10,
  claimMs: 5_000,
  maxInFlightPerUser: 10,
  maxAttempts: 10,
  ...bounds,
});

/** `count` jobs of one user, each with a `queued` delivery; answers the user's id. */
async function userWithDeliveries(store: Store, count: number): Promise<string> {
  const user = await makeUser(store);
  for (let i = 0; i < count; i++) {
    await createdJob(store, user.id, { webhook: { url: hook.url, events: ['queued'] } });
  }
  return user.id;
}

/** The conformance suite's part for outbound webhook deliveries. */
export function webhooksSuite(factory: StoreFactory): void {
  describe('webhook store: deliveries are claimed, then their outcome recorded', () => {
    it('writes a delivery with each event the job asked for, due at once', async () => {
      const store = await factory.open();
      const jobId = await hookedJob(store);
      await store.jobs.cancel(jobId, Date.now());
      const deliveries = await store.webhooks.forJob(jobId);
      expect(deliveries.map((d) => [d.event, d.seq, d.status, d.attempts])).toEqual([
        ['queued', 1, 'pending', 0],
        ['canceled', 2, 'pending', 0],
      ]);
      expect(JSON.parse(deliveries[1]?.payload ?? '{}')).toMatchObject({
        type: 'job.canceled',
        data: { id: jobId, status: 'canceled', seq: 2 },
      });
      expect(await store.webhooks.nextDue(0)).toBe(deliveries[0]?.nextAttemptAt);
    });

    it('claims a due delivery once: counted as an attempt and not due again before the claim ends', async () => {
      const store = await factory.open();
      const jobId = await hookedJob(store);
      const now = Date.now() + 10;
      const [claimed, ...rest] = await store.webhooks.claimDue(claimAt(now));
      expect(rest).toEqual([]);
      expect(claimed).toMatchObject({
        jobId,
        event: 'queued',
        attempts: 1,
        nextAttemptAt: now + 5_000,
      });
      expect(await store.webhooks.claimDue(claimAt(now + 4_999))).toEqual([]);
      // The claim's process died mid-attempt: after the claim, another takes it, as attempt 2.
      const [again] = await store.webhooks.claimDue(claimAt(now + 5_000));
      expect(again).toMatchObject({ id: claimed?.id, attempts: 2 });
      expect(again?.token).not.toBe(claimed?.token);
      // The first attempt's late outcome is stale; the live one is recorded.
      const delivered = { result: 'delivered', statusCode: 200 } as const;
      expect(
        await store.webhooks.recordAttempt(
          { id: claimed?.id ?? '', token: claimed?.token ?? '' },
          delivered,
          now,
        ),
      ).toBe(false);
      expect(
        await store.webhooks.recordAttempt(
          { id: again?.id ?? '', token: again?.token ?? '' },
          delivered,
          now + 5_001,
        ),
      ).toBe(true);
      expect((await store.webhooks.forJob(jobId))[0]).toMatchObject({
        status: 'delivered',
        attempts: 2,
        lastStatusCode: 200,
        finishedAt: now + 5_001,
      });
      expect(await store.webhooks.nextDue(0)).toBeUndefined();
    });

    it('records a retry as pending at its next time, and a failure as done', async () => {
      const store = await factory.open();
      const jobId = await hookedJob(store);
      await store.jobs.cancel(jobId, Date.now());
      const now = Date.now() + 10;
      const [first, second] = await store.webhooks.claimDue(claimAt(now));
      if (!first || !second) throw new Error('expected two due deliveries');
      const retry = {
        result: 'retry',
        statusCode: 503,
        error: 'answered 503',
        nextAttemptAt: now + 60_000,
      } as const;
      expect(await store.webhooks.recordAttempt(first, retry, now)).toBe(true);
      const failure = { result: 'failed', statusCode: 410, error: 'answered 410' } as const;
      expect(await store.webhooks.recordAttempt(second, failure, now)).toBe(true);
      const [a, b] = await store.webhooks.forJob(jobId);
      expect(a).toMatchObject({
        status: 'pending',
        attempts: 1,
        nextAttemptAt: now + 60_000,
        lastError: 'answered 503',
        lastStatusCode: 503,
      });
      expect(b).toMatchObject({
        status: 'failed',
        attempts: 1,
        lastError: 'answered 410',
        finishedAt: now,
      });
      expect(await store.webhooks.nextDue(now)).toBe(now + 60_000);
      expect(await store.webhooks.nextDue(now + 60_000)).toBeUndefined();
      // A recorded outcome ends the claim: its token writes nothing more.
      expect(
        await store.webhooks.recordAttempt(second, { result: 'delivered', statusCode: 200 }, now),
      ).toBe(false);
    });

    it('never hands one delivery to two stores claiming at once', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      for (let i = 0; i < 10; i++) await hookedJob(store);
      const now = Date.now() + 10;
      const batches = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? twin : store).webhooks.claimDue(claimAt(now, { limit: 3, claimMs: 60_000 })),
        ),
      );
      const ids = batches.flat().map((d) => d.id);
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
    });

    it('lets a user have at most maxInFlightPerUser claims under way, and serves the others in turns', async () => {
      const store = await factory.open();
      const flooder = await userWithDeliveries(store, 6);
      const other = await userWithDeliveries(store, 2);
      const now = Date.now() + 10;
      const bounds = { maxInFlightPerUser: 2, limit: 3 };
      // Users take turns: each one's oldest first, though the flooder's are all older.
      const first = await store.webhooks.claimDue(claimAt(now, bounds));
      expect(first.map((d) => d.userId).sort()).toEqual([flooder, flooder, other].sort());
      const second = await store.webhooks.claimDue(claimAt(now, bounds));
      expect(second.map((d) => d.userId)).toEqual([other]);
      // Both users have two under way: nothing more, whatever is due.
      expect(await store.webhooks.claimDue(claimAt(now, bounds))).toEqual([]);

      // An attempt recorded frees its user's turn.
      const done = first.find((d) => d.userId === flooder);
      if (!done) throw new Error('expected a claim of the flooder');
      const retry = {
        result: 'retry',
        statusCode: 503,
        error: 'x',
        nextAttemptAt: now + 1e6,
      } as const;
      expect(await store.webhooks.recordAttempt(done, retry, now)).toBe(true);
      expect((await store.webhooks.claimDue(claimAt(now, bounds))).map((d) => d.userId)).toEqual([
        flooder,
      ]);
      // Claims whose time ended (their process died) are under way no more.
      const later = await store.webhooks.claimDue(claimAt(now + 5_000, { ...bounds, limit: 10 }));
      expect(later.filter((d) => d.userId === flooder)).toHaveLength(2);
    });

    it('keeps the bound per user when two stores claim at once', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      const flooder = await userWithDeliveries(store, 8);
      const now = Date.now() + 10;
      const bounds = { maxInFlightPerUser: 2, claimMs: 60_000 };
      const batches = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? twin : store).webhooks.claimDue(claimAt(now, bounds)),
        ),
      );
      expect(batches.flat().map((d) => d.userId)).toEqual([flooder, flooder]);
    });

    it('fails, without claiming it, a delivery whose last allowed attempt never recorded an outcome', async () => {
      const store = await factory.open();
      const jobId = await hookedJob(store);
      const now = Date.now() + 10;
      const bounds = { maxAttempts: 2 };
      expect(await store.webhooks.claimDue(claimAt(now, bounds))).toHaveLength(1);
      expect(await store.webhooks.claimDue(claimAt(now + 5_000, bounds))).toHaveLength(1);
      // Both claims ran out unrecorded (a receiver that kills its origin, say).
      expect(await store.webhooks.claimDue(claimAt(now + 10_000, bounds))).toEqual([]);
      const [d] = await store.webhooks.forJob(jobId);
      expect(d).toMatchObject({ status: 'failed', attempts: 2, finishedAt: now + 10_000 });
      expect(d?.lastError).toMatch(/no outcome/);
      expect(await store.webhooks.nextDue(0)).toBeUndefined();
    });

    it('puts a delivery whose process died mid-attempt behind those due before its claim ended', async () => {
      const store = await factory.open();
      const stuck = await hookedJob(store);
      const now = Date.now() + 10;
      const [claimed] = await store.webhooks.claimDue(claimAt(now, { claimMs: 1_000 }));
      expect(claimed?.jobId).toBe(stuck);
      const waiting = await hookedJob(store);
      // A restart after the claim ended, with one slot: the delivery due first goes first.
      const [next] = await store.webhooks.claimDue(claimAt(now + 2_000, { limit: 1 }));
      expect(next?.jobId).toBe(waiting);
      const [again] = await store.webhooks.claimDue(claimAt(now + 2_000, { limit: 1 }));
      expect(again).toMatchObject({ jobId: stuck, attempts: 2 });
    });

    it('writes at most the budget of progress deliveries per job, one per passed step, across attempts', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const job = await createdJob(store, user.id, {
        webhook: { url: hook.url, events: ['progress', 'succeeded'] },
      });
      const { claim } = await claimNext(store);
      for (let i = 1; i <= 50; i++) await store.jobs.progress(claim, i / 100, Date.now());
      const progressOf = async () =>
        (await store.webhooks.forJob(job.id))
          .filter((d) => d.event === 'progress')
          .map((d) => JSON.parse(d.payload).data.progress as number);
      // The default budget is 10: one at each tenth passed.
      expect(await progressOf()).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
      // Run again from the start (a graceful stop gave the attempt back): the steps already
      // sent are not sent again.
      await store.jobs.requeue(claim, Date.now());
      const { claim: second } = await claimNext(store);
      for (let i = 1; i <= 100; i++) await store.jobs.progress(second, i / 100, Date.now());
      expect(await progressOf()).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
      const events = await store.jobs.eventsSince(job.id, 0);
      expect(events.filter((e) => e.kind === 'progress')).toHaveLength(150);
    });
  });
}
