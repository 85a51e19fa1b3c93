import { describe, expect, it } from 'vitest';
import { claimNext, createdJob, failed, makeUser, refundsOf, succeeded } from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

/** The conformance suite's part for claims: owners, fences and races between stores. */
export function jobsClaimsSuite(factory: StoreFactory): void {
  describe('jobs store: claims are fenced by their token', () => {
    it('a stale claim (the job canceled) changes nothing: no progress, no ending, no output', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 5);
      const job = await createdJob(store, user.id, { cost: 2 });
      const { claim } = await claimNext(store);
      expect((await store.jobs.cancel(job.id, Date.now()))?.kind).toBe('canceled');
      const before = await store.jobs.record(job.id);
      expect(await store.jobs.progress(claim, 0.5, Date.now())).toBeUndefined();
      expect(await store.jobs.finish(claim, succeeded, Date.now())).toBeUndefined();
      expect(await store.jobs.finish(claim, failed, Date.now())).toBeUndefined();
      expect(await store.jobs.requeue(claim, Date.now())).toBeUndefined();
      expect(await store.jobs.heartbeat(claim, Date.now(), 1_000)).toBe(false);
      expect(await store.jobs.record(job.id)).toEqual(before);
      expect(await refundsOf(store, user.id)).toHaveLength(1);
    });

    it("a claim's token is its own: another attempt's token cannot write the job", async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const job = await createdJob(store, user.id);
      const first = await claimNext(store);
      await store.jobs.requeue(first.claim, Date.now());
      const second = await claimNext(store);
      expect(second.claim.token).not.toBe(first.claim.token);
      expect(await store.jobs.finish(first.claim, succeeded, Date.now())).toBeUndefined();
      expect((await store.jobs.record(job.id))?.status).toBe('running');
      expect((await store.jobs.finish(second.claim, succeeded, Date.now()))?.kind).toBe(
        'succeeded',
      );
    });
  });

  describe('jobs store: two stores on one database', () => {
    it('never gives one job to two claimers, however they race', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      const user = await makeUser(store, 100);
      const ids = new Set<string>();
      for (let i = 0; i < 20; i++) ids.add((await createdJob(store, user.id)).id);
      const claimAll = async (s: typeof store, owner: string) => {
        const mine: string[] = [];
        for (;;) {
          const claimed = await s.jobs.claim(owner, Date.now(), 60_000);
          if (!claimed) return mine;
          mine.push(claimed.job.id);
        }
      };
      const [a, b] = await Promise.all([claimAll(store, 'origin-a'), claimAll(twin, 'origin-b')]);
      expect([...a, ...b].sort()).toEqual([...ids].sort());
      expect(new Set([...a, ...b]).size).toBe(20);
      for (const id of a) expect((await twin.jobs.record(id))?.claimedBy).toBe('origin-a');
      for (const id of b) expect((await store.jobs.record(id))?.claimedBy).toBe('origin-b');
    });

    it('refunds a job once when a cancel and a failure race from two stores', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      const user = await makeUser(store, 5);
      const job = await createdJob(store, user.id, { cost: 2 });
      const { claim } = await claimNext(store);
      const [fail, cancel] = await Promise.all([
        store.jobs.finish(claim, failed, Date.now()),
        twin.jobs.cancel(job.id, Date.now()),
      ]);
      expect([fail, cancel].filter((e) => e !== undefined)).toHaveLength(1);
      expect(await refundsOf(store, user.id)).toHaveLength(1);
      expect(await store.ledger.balance(user.id)).toBe(5);
    });

    it('a sweep from another store takes back an expired claim once, however many sweep', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      const user = await makeUser(store, 5);
      const job = await createdJob(store, user.id);
      const t0 = Date.now();
      await claimNext(store, t0, 'dead-origin', 100);
      const at = t0 + 200;
      const sweeps = await Promise.all([
        twin.jobs.releaseExpired({ expiredBefore: at, maxAttempts: 3, at }),
        store.jobs.releaseExpired({ expiredBefore: at, maxAttempts: 3, at }),
        twin.jobs.releaseExpired({ expiredBefore: at, maxAttempts: 3, at }),
      ]);
      expect(sweeps.flat().map((e) => [e.jobId, e.kind])).toEqual([[job.id, 'queued']]);
      expect(await store.jobs.eventsSince(job.id, 0)).toHaveLength(3);
    });
  });
}
