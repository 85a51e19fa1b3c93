import { describe, expect, it } from 'vitest';
import type { Store } from '../../../../origin/store/store.ts';
import {
  claimNext,
  createdJob,
  makeUser,
  newJob,
  prng,
  refundsOf,
  succeeded,
  testLeaseMs,
  testOwner,
} from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

/** The ids of the queue in the order it will start. */
const queueIds = async (store: Store) => (await store.jobs.queue()).queued.map((q) => q.id);

/** The conformance suite's part for fair scheduling, per-user caps and deadlines. */
export function jobsFairnessSuite(factory: StoreFactory): void {
  describe('jobs store: the fair order across users', () => {
    it("starts a second user's one job before a first user's backlog", async () => {
      const store = await factory.open();
      const [a, b] = [await makeUser(store), await makeUser(store)];
      const backlog = [];
      for (let i = 0; i < 6; i++) backlog.push(await createdJob(store, a.id));
      // A holds a thread; B's job, newer than all of A's, is next.
      expect((await claimNext(store)).job.id).toBe(backlog[0]?.id);
      const lone = await createdJob(store, b.id);
      expect(lone.queuePosition).toBe(1);
      expect((await store.jobs.get(a.id, backlog[1]?.id ?? ''))?.queuePosition).toBe(2);
      expect(await queueIds(store)).toEqual([lone.id, ...backlog.slice(1).map((j) => j.id)]);
      expect((await claimNext(store)).job.id).toBe(lone.id);
    });

    it('alternates users of equal demand, and lists positions in that order', async () => {
      const store = await factory.open();
      const [a, b] = [await makeUser(store, 50), await makeUser(store, 50)];
      const as = [];
      const bs = [];
      for (let i = 0; i < 3; i++) as.push(await createdJob(store, a.id));
      for (let i = 0; i < 3; i++) bs.push(await createdJob(store, b.id));
      const order = [as[0], bs[0], as[1], bs[1], as[2], bs[2]].map((j) => j?.id);
      expect(await queueIds(store)).toEqual(order);
      const page = await store.jobs.list(b.id, { limit: 10 });
      expect(page.data.map((j) => j.queuePosition)).toEqual([6, 4, 2]);
      for (const id of order) expect((await claimNext(store)).job.id).toBe(id);
    });

    it('a claim for some models takes the first of the fair order among their jobs only', async () => {
      const store = await factory.open();
      const [a, b] = [await makeUser(store, 50), await makeUser(store, 50)];
      const slow = (userId: string) => createdJob(store, userId, { model: 'slow' });
      const fast = (userId: string) => createdJob(store, userId, { model: 'fast' });
      const a1 = await slow(a.id);
      const a2 = await fast(a.id);
      const b1 = await fast(b.id);
      const b2 = await slow(b.id);
      const claimOf = async (models?: string[]) =>
        (await store.jobs.claim(testOwner, Date.now(), testLeaseMs, 0, models))?.job.id;
      // Among `fast` jobs the fair order is a2 (A holds nothing yet, oldest), then b1.
      expect(await claimOf(['fast'])).toBe(a2.id);
      // A now holds a thread: B's fast job is next; no `fast` job is left after it.
      expect(await claimOf(['fast'])).toBe(b1.id);
      expect(await claimOf(['fast'])).toBeUndefined();
      expect(await claimOf([])).toBeUndefined();
      expect(await claimOf(['gone', 'slow'])).toBe(a1.id);
      // Every model when none is named.
      expect(await claimOf()).toBe(b2.id);
      expect((await store.jobs.queue()).queued).toEqual([]);
    });

    it('claims always take the first job of the queue snapshot (a seeded random run)', async () => {
      const store = await factory.open();
      const rand = prng(16);
      const users = [];
      for (let i = 0; i < 4; i++) users.push((await makeUser(store, 1_000)).id);
      const running = [];
      for (let step = 0; step < 120; step++) {
        const op = rand.int(3);
        if (op === 0 || running.length === 0) {
          await store.jobs.create(newJob(rand.pick(users)));
        } else if (op === 1) {
          const [first] = await queueIds(store);
          const claimed = await store.jobs.claim(testOwner, Date.now(), testLeaseMs);
          expect(claimed?.job.id).toBe(first);
          if (claimed) running.push(claimed.claim);
        } else {
          const claim = running.splice(rand.int(running.length), 1)[0];
          if (claim) await store.jobs.finish(claim, succeeded, Date.now());
        }
      }
      expect((await store.jobs.queue()).held).toHaveLength(running.length);
    });

    it('gives three users of equal demand equal shares of the starts (±10%), whoever queued first', async () => {
      const store = await factory.open();
      const users: string[] = [];
      for (let i = 0; i < 3; i++) users.push((await makeUser(store, 1_000)).id);
      // Equal demand, 100 jobs each, queued one user after the other: in arrival order the
      // first 150 starts would be 100 of the first user's and 50 of the second's.
      for (const id of users) {
        for (let n = 0; n < 100; n++) await store.jobs.create(newJob(id));
      }
      const starts = new Map(users.map((id) => [id, 0]));
      // Two threads, fewer than the users; the older of the two running jobs ends first.
      const running = [];
      let clock = Date.now();
      for (let started = 0; started < 150; ) {
        while (running.length < 2) {
          const claimed = await claimNext(store, ++clock);
          starts.set(claimed.job.userId, (starts.get(claimed.job.userId) ?? 0) + 1);
          running.push(claimed.claim);
          started++;
        }
        const oldest = running.shift();
        if (oldest) await store.jobs.finish(oldest, succeeded, Date.now());
      }
      for (const id of users) {
        expect(starts.get(id)).toBeGreaterThanOrEqual(45);
        expect(starts.get(id)).toBeLessThanOrEqual(55);
      }
    });
  });

  describe('jobs store: claims across stores', () => {
    it('spreads two claims made at once through two stores over two users', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      const [a, b] = [await makeUser(store, 100), await makeUser(store, 100)];
      for (let round = 0; round < 8; round++) {
        for (const user of [a, b]) {
          for (let n = 0; n < 3; n++) await createdJob(store, user.id);
        }
        const claims = await Promise.all([
          store.jobs.claim(testOwner, Date.now(), testLeaseMs),
          twin.jobs.claim('origin-twin', Date.now(), testLeaseMs),
        ]);
        // One job each: a job the other store is claiming is skipped for the next user's.
        expect(new Set(claims.map((c) => c?.job.userId)).size, `round ${round}`).toBe(2);
        for (const c of claims) if (c) await store.jobs.finish(c.claim, succeeded, Date.now());
        for (const job of (await store.jobs.queue()).queued)
          await store.jobs.cancel(job.id, Date.now());
      }
    });
  });

  describe('jobs store: per-user caps', () => {
    it('refuses a user past the cap, too_many_jobs, debiting nothing; others are unaffected', async () => {
      const store = await factory.open();
      const [a, b] = [await makeUser(store, 20), await makeUser(store, 20)];
      for (let i = 0; i < 3; i++) await createdJob(store, a.id, { userJobLimit: 3 });
      const before = await store.ledger.balance(a.id);
      const refused = await store.jobs.create(newJob(a.id, { userJobLimit: 3 }));
      expect(refused).toEqual({ kind: 'too_many_jobs', jobs: 3, limit: 3 });
      expect(await store.ledger.balance(a.id)).toBe(before);
      expect((await store.jobs.create(newJob(b.id, { userJobLimit: 3 }))).kind).toBe('created');
      // A running job counts as a queued one does; a finished one no longer does.
      const { claim } = await claimNext(store);
      expect((await store.jobs.create(newJob(a.id, { userJobLimit: 3 }))).kind).toBe(
        'too_many_jobs',
      );
      await store.jobs.finish(claim, succeeded, Date.now());
      expect((await store.jobs.create(newJob(a.id, { userJobLimit: 3 }))).kind).toBe('created');
    });

    it('answers a user at its cap too_many_jobs, not queue_full, when the queue is full too', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 20);
      await createdJob(store, user.id, { userJobLimit: 1, queueLimit: 1 });
      const refused = await store.jobs.create(newJob(user.id, { userJobLimit: 1, queueLimit: 1 }));
      expect(refused.kind).toBe('too_many_jobs');
      const other = await makeUser(store, 20);
      const full = await store.jobs.create(newJob(other.id, { userJobLimit: 1, queueLimit: 1 }));
      expect(full.kind).toBe('queue_full');
    });

    it('holds the cap across two stores creating at once: exactly the cap accepted', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      const user = await makeUser(store, 100);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? store : twin).jobs.create(newJob(user.id, { userJobLimit: 5 })),
        ),
      );
      const kinds = results.map((r) => r.kind);
      expect(kinds.filter((k) => k === 'created')).toHaveLength(5);
      expect(kinds.filter((k) => k === 'too_many_jobs')).toHaveLength(15);
      expect(await store.ledger.balance(user.id)).toBe(95);
      expect(await twin.ledger.sum(user.id)).toBe(95);
    });

    it('counts a job canceled while running until its task left the thread', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 20);
      const first = await createdJob(store, user.id, { userJobLimit: 2 });
      await createdJob(store, user.id, { userJobLimit: 2 });
      const { claim } = await claimNext(store);
      expect(claim.jobId).toBe(first.id);
      const canceled = await store.jobs.cancel(first.id, Date.now());
      expect(canceled?.job.status).toBe('canceled');
      expect(await refundsOf(store, user.id)).toHaveLength(1);
      // Canceled, refunded, yet its task still holds the thread: still counted, still held.
      expect((await store.jobs.create(newJob(user.id, { userJobLimit: 2 }))).kind).toBe(
        'too_many_jobs',
      );
      expect((await store.jobs.queue()).held).toHaveLength(1);
      // A late heartbeat or ending of the canceled attempt changes nothing.
      expect(await store.jobs.heartbeat(claim, Date.now(), testLeaseMs)).toBe(false);
      expect(await store.jobs.finish(claim, succeeded, Date.now())).toBeUndefined();
      await store.jobs.leaveThread(claim);
      expect((await store.jobs.queue()).held).toEqual([]);
      expect((await store.jobs.create(newJob(user.id, { userJobLimit: 2 }))).kind).toBe('created');
      // A queued job canceled leaves at once.
      const queued = await createdJob(store, user.id, { userJobLimit: 10 });
      await store.jobs.cancel(queued.id, Date.now());
      expect((await store.jobs.record(queued.id))?.claimToken).toBeNull();
    });

    it('releases the held claim of a canceled job whose process died, once its lease ended', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 20);
      const job = await createdJob(store, user.id);
      const at = Date.now();
      await claimNext(store, at);
      await store.jobs.cancel(job.id, at);
      await store.jobs.releaseExpired({ expiredBefore: at, maxAttempts: 3, at });
      expect((await store.jobs.queue()).held).toHaveLength(1);
      const later = at + testLeaseMs + 1;
      const events = await store.jobs.releaseExpired({
        expiredBefore: later,
        maxAttempts: 3,
        at: later,
      });
      expect(events).toEqual([]);
      expect((await store.jobs.queue()).held).toEqual([]);
      expect((await store.jobs.record(job.id))?.status).toBe('canceled');
    });
  });

  describe('jobs store: deadlines', () => {
    it('cancels a queued job at its deadline, deadline_exceeded, refunded once; a running one is left', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 20);
      const at = Date.now();
      const running = await createdJob(store, user.id, { deadlineAt: at + 1_000 });
      const waiting = await createdJob(store, user.id, { deadlineAt: at + 1_000 });
      const later = await createdJob(store, user.id, { deadlineAt: at + 60_000 });
      expect(waiting.deadline).toBe(new Date(at + 1_000).toISOString());
      await claimNext(store, at);
      expect(await store.jobs.expireQueued({ maxQueueWaitMs: 0, at: at + 999 })).toEqual([]);
      const events = await store.jobs.expireQueued({ maxQueueWaitMs: 0, at: at + 1_000 });
      expect(events.map((e) => [e.jobId, e.kind, e.job.error?.code])).toEqual([
        [waiting.id, 'canceled', 'deadline_exceeded'],
      ]);
      expect((await store.jobs.get(user.id, waiting.id))?.error?.code).toBe('deadline_exceeded');
      expect((await store.jobs.get(user.id, running.id))?.status).toBe('running');
      expect((await store.jobs.get(user.id, later.id))?.status).toBe('queued');
      expect(await store.jobs.expireQueued({ maxQueueWaitMs: 0, at: at + 2_000 })).toEqual([]);
      expect((await refundsOf(store, user.id)).map((r) => r.reference)).toEqual([waiting.id]);
    });

    it('never starts a job past its deadline or the server-wide wait: a claim passes it over', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 20);
      const at = Date.now();
      const old = await createdJob(store, user.id, { at: at - 10_000 });
      const late = await createdJob(store, user.id, { at, deadlineAt: at + 500 });
      const fresh = await createdJob(store, user.id, { at });
      // At +500 the second is at its deadline and the first has waited past a 5 s bound.
      const claimed = await store.jobs.claim(testOwner, at + 500, testLeaseMs, 5_000);
      expect(claimed?.job.id).toBe(fresh.id);
      expect((await store.jobs.record(late.id))?.status).toBe('queued');
      const events = await store.jobs.expireQueued({ maxQueueWaitMs: 5_000, at: at + 500 });
      expect(events.map((e) => e.jobId).sort()).toEqual([old.id, late.id].sort());
    });

    it('cancels every job queued longer than the server-wide wait', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 20);
      const job = await createdJob(store, user.id);
      const created = Date.parse(job.createdAt);
      expect(await store.jobs.expireQueued({ maxQueueWaitMs: 5_000, at: created + 4_999 })).toEqual(
        [],
      );
      expect(await store.jobs.expireQueued({ maxQueueWaitMs: 0, at: created + 1e9 })).toEqual([]);
      const events = await store.jobs.expireQueued({ maxQueueWaitMs: 5_000, at: created + 5_000 });
      expect(events.map((e) => e.job.error?.code)).toEqual(['deadline_exceeded']);
      expect(await store.ledger.sum(user.id)).toBe(await store.ledger.balance(user.id));
    });
  });
}
