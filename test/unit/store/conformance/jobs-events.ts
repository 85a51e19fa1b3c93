import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../../origin/store/store.ts';
import type { Job } from '../../../../shared/schemas/jobs.ts';
import {
  claimNext,
  createdJob,
  failed,
  makeUser,
  newJob,
  succeeded,
  waitFor,
} from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

/** The conformance suite's part for this concern; every store implementation runs it. */
export function jobsEventsSuite(factory: StoreFactory): void {
  describe('jobs store: events', () => {
    it('eventsSince answers ordered, gapless seqs that end at the job seq', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const job = await createdJob(store, user.id);
      const { claim } = await claimNext(store);
      for (const p of [0.2, 0.4, 0.6]) await store.jobs.progress(claim, p, Date.now());
      await store.jobs.finish(claim, succeeded, Date.now());

      const all = await store.jobs.eventsSince(job.id, 0);
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(all.map((e) => e.kind)).toEqual([
        'queued',
        'started',
        'progress',
        'progress',
        'progress',
        'succeeded',
      ]);
      for (const e of all) {
        expect(e.job.seq).toBe(e.seq);
        expect(e).toMatchObject({ jobId: job.id, userId: user.id });
      }
      expect((await store.jobs.get(user.id, job.id))?.seq).toBe(6);
      expect((await store.jobs.eventsSince(job.id, 3)).map((e) => e.seq)).toEqual([4, 5, 6]);
      expect(await store.jobs.eventsSince(job.id, 6)).toEqual([]);
      expect(await store.jobs.eventsSince('job_missing', 0)).toEqual([]);
      // A limit answers the first events after `since`, as a replay reads them page by page.
      expect((await store.jobs.eventsSince(job.id, 1, 2)).map((e) => e.seq)).toEqual([2, 3]);
      expect((await store.jobs.eventsSince(job.id, 4, 10)).map((e) => e.seq)).toEqual([5, 6]);
      expect(await store.jobs.eventsSince(job.id, 0, 0)).toEqual([]);
    });

    it('onCommit and the event feed hear each committed event exactly once, in order, and nothing else', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 3);
      const heard: JobEvent[] = [];
      const fed: JobEvent[] = [];
      const stop = store.jobs.onCommit((e) => heard.push(e));
      const unlisten = store.events.listen((e) => fed.push(e));

      const a = await createdJob(store, user.id, { idempotencyKey: 'a' });
      const b = await createdJob(store, user.id);
      // Refused or idle operations commit no event.
      await store.jobs.create(newJob(user.id, { idempotencyKey: 'a', requestHash: 'other' }));
      await store.jobs.create(newJob(user.id, { cost: 100 }));
      await store.jobs.create(newJob(user.id, { queueLimit: 1 }));
      const first = await claimNext(store, Date.now(), 'origin-a', 1);
      await store.jobs.progress(first.claim, 0.5, Date.now());
      await store.jobs.cancel(b.id, Date.now());
      await store.jobs.cancel(b.id, Date.now());
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store.jobs.releaseExpired({
        expiredBefore: Date.now(),
        maxAttempts: 3,
        at: Date.now(),
      });
      await store.jobs.progress(first.claim, 0.7, Date.now());
      const second = await claimNext(store);
      await store.jobs.finish(second.claim, failed, Date.now());

      const stored = [
        ...(await store.jobs.eventsSince(a.id, 0)),
        ...(await store.jobs.eventsSince(b.id, 0)),
      ];
      const key = (e: JobEvent) => `${e.jobId}#${e.seq}:${e.kind}`;
      expect(heard.map(key).sort()).toEqual(stored.map(key).sort());
      expect(heard.map((e) => [e.jobId === a.id ? 'a' : 'b', e.kind])).toEqual([
        ['a', 'queued'],
        ['b', 'queued'],
        ['a', 'started'],
        ['a', 'progress'],
        ['b', 'canceled'],
        ['a', 'queued'],
        ['a', 'started'],
        ['a', 'failed'],
      ]);
      for (const e of heard) expect(e.userId).toBe(user.id);
      // The feed hears the same; on a shared database it may hear them later (notifications).
      await waitFor(() => fed.length >= heard.length, 5_000, 'the feed to catch up');
      expect(fed.map(key)).toEqual(heard.map(key));

      stop();
      unlisten();
      await createdJob(store, user.id);
      expect(heard).toHaveLength(8);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(fed).toHaveLength(8);
    });
  });

  describe('jobs store: reading', () => {
    it("get answers undefined for another user's job", async () => {
      const store = await factory.open();
      const alice = await makeUser(store);
      const bob = await makeUser(store);
      const job = await createdJob(store, alice.id);
      expect(await store.jobs.get(bob.id, job.id)).toBeUndefined();
      expect((await store.jobs.get(alice.id, job.id))?.id).toBe(job.id);
      expect(await store.jobs.get(alice.id, 'job_missing')).toBeUndefined();
    });

    it('list walks every job once, newest first, page by page with the cursor', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const other = await makeUser(store);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push((await createdJob(store, user.id)).id);
        await createdJob(store, other.id);
      }
      const seen: string[] = [];
      const pages: number[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const page = await store.jobs.list(user.id, { limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...page.data.map((j) => j.id));
        pages.push(page.data.length);
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(pages).toEqual([3, 3, 1]);
      expect(seen).toEqual([...ids].reverse());
    });

    it('list answers no cursor when the last page is exactly full', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      for (let i = 0; i < 4; i++) await createdJob(store, user.id);
      const first = await store.jobs.list(user.id, { limit: 2 });
      expect(first.nextCursor).not.toBeNull();
      const second = await store.jobs.list(user.id, { limit: 2, cursor: first.nextCursor ?? '' });
      expect(second.data).toHaveLength(2);
      expect(second.nextCursor).toBeNull();
    });

    it('list filters by status and shows queue positions', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const jobs: Job[] = [];
      for (let i = 0; i < 5; i++) jobs.push(await createdJob(store, user.id));
      await claimNext(store);
      await claimNext(store);
      await store.jobs.cancel(jobs[4]?.id ?? '', Date.now());

      const running = await store.jobs.list(user.id, { status: 'running', limit: 10 });
      expect(running.data.map((j) => j.id)).toEqual([jobs[1]?.id, jobs[0]?.id]);
      const queued = await store.jobs.list(user.id, { status: 'queued', limit: 10 });
      expect(queued.data.map((j) => [j.id, j.queuePosition])).toEqual([
        [jobs[3]?.id, 2],
        [jobs[2]?.id, 1],
      ]);
      const canceled = await store.jobs.list(user.id, { status: 'canceled', limit: 10 });
      expect(canceled.data.map((j) => j.id)).toEqual([jobs[4]?.id]);
      expect((await store.jobs.list(user.id, { status: 'succeeded', limit: 10 })).data).toEqual([]);
    });
  });
}
