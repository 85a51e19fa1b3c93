import { describe, expect, it } from 'vitest';
import { claimNext, createdJob, makeUser, newJob } from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

const pack = { credits: 5, amount: 500, currency: 'usd' };

/** The conformance suite's part for this concern; every store implementation runs it. */
export function jobsCreateSuite(factory: StoreFactory): void {
  describe('jobs store: create', () => {
    it('queues the job with seq 1, debits it and records a queued event', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 10);
      const job = await createdJob(store, user.id, { cost: 3 });
      expect(job).toMatchObject({
        status: 'queued',
        seq: 1,
        progress: 0,
        queuePosition: 1,
        cost: 3,
      });
      expect(job.startedAt).toBeNull();
      expect(job.output).toBeNull();
      expect(await store.ledger.balance(user.id)).toBe(7);
      const debit = (await store.ledger.entries(user.id, 10)).find((e) => e.reason === 'job');
      expect(debit).toMatchObject({ delta: -3, reference: job.id });
      const events = await store.jobs.eventsSince(job.id, 0);
      expect(events.map((e) => [e.seq, e.kind])).toEqual([[1, 'queued']]);
      expect(events[0]?.job).toEqual(job);
    });

    it('answers the queue it read, in the fair order, the new job in it', async () => {
      const store = await factory.open();
      const a = await makeUser(store, 10);
      const b = await makeUser(store, 10);
      const first = await createdJob(store, a.id, { cost: 1 });
      await createdJob(store, a.id, { cost: 1 });
      const result = await store.jobs.create(newJob(b.id, { cost: 1 }));
      if (result.kind !== 'created') throw new Error(`expected a create, got ${result.kind}`);
      // b's first job comes before a's second: the fair order, as queue() answers it.
      expect(result.queue?.queued.map((row) => row.id)).toEqual(
        (await store.jobs.queue()).queued.map((row) => row.id),
      );
      expect(result.queue?.queued.map((row) => row.id).slice(0, 2)).toEqual([
        first.id,
        result.job.id,
      ]);
      expect(result.job.queuePosition).toBe(2);
    });

    it('replays the same idempotency key and request without a second debit', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 10);
      const first = newJob(user.id, { idempotencyKey: 'key-1', cost: 2 });
      const one = await store.jobs.create(first);
      const two = await store.jobs.create({ ...first });
      expect(one.kind).toBe('created');
      expect(two.kind).toBe('replayed');
      if (one.kind !== 'created' || two.kind !== 'replayed') return;
      expect(two.job).toEqual(one.job);
      expect(await store.ledger.balance(user.id)).toBe(8);
      expect(await store.jobs.countQueued()).toBe(1);
      expect((await store.jobs.eventsSince(one.job.id, 0)).length).toBe(1);
    });

    it('replays a job that has moved on, showing it as it is now', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const request = newJob(user.id, { idempotencyKey: 'key-later' });
      const one = await createdJob(store, user.id, request);
      await claimNext(store);
      const again = await store.jobs.create(request);
      expect(again).toMatchObject({ kind: 'replayed', job: { id: one.id, status: 'running' } });
    });

    it('answers idempotency_conflict for the same key with another request, changing nothing', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 10);
      const job = await createdJob(store, user.id, { idempotencyKey: 'key-2' });
      const other = await store.jobs.create(
        newJob(user.id, { idempotencyKey: 'key-2', requestHash: 'different' }),
      );
      expect(other).toEqual({ kind: 'idempotency_conflict', jobId: job.id });
      expect(await store.ledger.balance(user.id)).toBe(9);
      expect(await store.jobs.countQueued()).toBe(1);
    });

    it('keeps idempotency keys apart between users', async () => {
      const store = await factory.open();
      const alice = await makeUser(store);
      const bob = await makeUser(store);
      const a = await createdJob(store, alice.id, { idempotencyKey: 'shared', requestHash: 'h' });
      const b = await store.jobs.create(
        newJob(bob.id, { idempotencyKey: 'shared', requestHash: 'h' }),
      );
      expect(b.kind).toBe('created');
      if (b.kind === 'created') expect(b.job.id).not.toBe(a.id);
    });

    it('refuses with queue_full at the queue limit, without a debit', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 10);
      await createdJob(store, user.id, { queueLimit: 2 });
      await createdJob(store, user.id, { queueLimit: 2 });
      expect(await store.jobs.create(newJob(user.id, { queueLimit: 2 }))).toEqual({
        kind: 'queue_full',
        queued: 2,
      });
      expect(await store.ledger.balance(user.id)).toBe(8);
      // A running job leaves the queue, so there is room again.
      await claimNext(store);
      expect((await store.jobs.create(newJob(user.id, { queueLimit: 2 }))).kind).toBe('created');
    });

    it('still replays an idempotent request when the queue is full', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const request = newJob(user.id, { idempotencyKey: 'k', queueLimit: 1 });
      await createdJob(store, user.id, request);
      expect((await store.jobs.create(request)).kind).toBe('replayed');
    });

    it('refuses with insufficient_credits when the balance is below the cost', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 2);
      expect(await store.jobs.create(newJob(user.id, { cost: 3 }))).toEqual({
        kind: 'insufficient_credits',
        balance: 2,
        cost: 3,
      });
      expect(await store.ledger.balance(user.id)).toBe(2);
      expect(await store.jobs.countQueued()).toBe(0);
      // Exactly the balance is enough, and leaves zero.
      expect((await store.jobs.create(newJob(user.id, { cost: 2 }))).kind).toBe('created');
      expect(await store.ledger.balance(user.id)).toBe(0);
      expect((await store.jobs.create(newJob(user.id, { cost: 1 }))).kind).toBe(
        'insufficient_credits',
      );
    });

    it('refuses even a free job while the balance is negative', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 0);
      // Five credits bought and spent, then the payment disputed: the balance is -5.
      const session = {
        sessionId: `cs_negative_${user.id}`,
        userId: user.id,
        packId: 'five',
        amount: pack.amount,
        currency: pack.currency,
        paymentIntent: `pi_negative_${user.id}`,
        pack,
      };
      const effect = { kind: 'session_paid', session } as const;
      await store.billing.applyEvent({ id: `evt_paid_${user.id}`, type: 'x', effect }, Date.now());
      expect((await store.jobs.create(newJob(user.id, { cost: 5 }))).kind).toBe('created');
      expect((await store.jobs.create(newJob(user.id, { cost: 0 }))).kind).toBe('created');
      const dispute = {
        kind: 'reversal',
        reason: 'dispute',
        chargeId: `ch_${user.id}`,
        paymentIntent: session.paymentIntent,
      } as const;
      await store.billing.applyEvent(
        { id: `evt_dispute_${user.id}`, type: 'x', effect: dispute },
        Date.now(),
      );
      expect(await store.jobs.create(newJob(user.id, { cost: 0 }))).toEqual({
        kind: 'insufficient_credits',
        balance: -5,
        cost: 0,
      });
    });

    it('accepts exactly one of two creates for the last credit, made through two stores at once', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      const user = await makeUser(store, 1);
      const results = await Promise.all([
        store.jobs.create(newJob(user.id)),
        twin.jobs.create(newJob(user.id)),
      ]);
      expect(results.map((r) => r.kind).sort()).toEqual(['created', 'insufficient_credits']);
      expect(await store.ledger.balance(user.id)).toBe(0);
      expect(await twin.ledger.sum(user.id)).toBe(0);
    });

    it('answers one job for an Idempotency-Key replayed through another store at once', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      const user = await makeUser(store, 10);
      const request = newJob(user.id, { idempotencyKey: 'twice' });
      const [one, two] = await Promise.all([
        store.jobs.create(request),
        twin.jobs.create({ ...request }),
      ]);
      const ids = [one, two].map((r) =>
        r.kind === 'created' || r.kind === 'replayed' ? r.job.id : r.kind,
      );
      expect(ids[0]).toBe(request.id);
      expect(ids[1]).toBe(request.id);
      expect([one.kind, two.kind].sort()).toEqual(['created', 'replayed']);
      expect(await store.ledger.balance(user.id)).toBe(9);
      expect(await twin.jobs.countQueued()).toBe(1);
    });
  });
}
