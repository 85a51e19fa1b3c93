import { describe, expect, it } from 'vitest';
import type { Store } from '../../../../origin/store/store.ts';
import { createdJob, makeUser } from '../../support.ts';
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
      expect(await store.webhooks.nextDue()).toBe(deliveries[0]?.nextAttemptAt);
    });

    it('claims a due delivery once: counted as an attempt and not due again before the claim ends', async () => {
      const store = await factory.open();
      const jobId = await hookedJob(store);
      const now = Date.now() + 10;
      const [claimed, ...rest] = await store.webhooks.claimDue(now, 10, 5_000);
      expect(rest).toEqual([]);
      expect(claimed).toMatchObject({
        jobId,
        event: 'queued',
        attempts: 1,
        nextAttemptAt: now + 5_000,
      });
      expect(await store.webhooks.claimDue(now + 4_999, 10, 5_000)).toEqual([]);
      // The claim's process died mid-attempt: after the claim, another takes it, as attempt 2.
      const [again] = await store.webhooks.claimDue(now + 5_000, 10, 5_000);
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
      expect(await store.webhooks.nextDue()).toBeUndefined();
    });

    it('records a retry as pending at its next time, and a failure as done', async () => {
      const store = await factory.open();
      const jobId = await hookedJob(store);
      await store.jobs.cancel(jobId, Date.now());
      const now = Date.now() + 10;
      const [first, second] = await store.webhooks.claimDue(now, 10, 5_000);
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
      expect(await store.webhooks.nextDue()).toBe(now + 60_000);
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
          (i % 2 ? twin : store).webhooks.claimDue(now, 3, 60_000),
        ),
      );
      const ids = batches.flat().map((d) => d.id);
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
    });
  });
}
