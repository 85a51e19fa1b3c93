import { describe, expect, it } from 'vitest';
import type { JobEnding, Store } from '../../../../origin/store/store.ts';
import { jobDriver, makeUser, newJob, prng } from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

const endings: JobEnding[] = [
  {
    status: 'succeeded',
    output: { file: 'f.txt', contentType: 'text/plain', bytes: 1, etag: 'e', runMs: 1 },
  },
  { status: 'failed', error: { code: 'model_error', message: 'boom' } },
  { status: 'canceled' },
];

async function expectBalancesMatchLedger(store: Store, userIds: string[]): Promise<void> {
  for (const id of userIds) {
    expect(await store.ledger.balance(id)).toBe(await store.ledger.sum(id));
  }
}

/** The conformance suite's part for this concern; every store implementation runs it. */
export function ledgerSuite(factory: StoreFactory): void {
  describe('ledger store', () => {
    it('writes a grant row when a user is created with a grant, and none for zero', async () => {
      const store = await factory.open();
      const granted = await makeUser(store, 20);
      expect(granted.balance).toBe(20);
      expect(await store.ledger.entries(granted.id, 10)).toMatchObject([
        { delta: 20, reason: 'grant', reference: granted.id },
      ]);
      const none = await makeUser(store, 0);
      expect(await store.ledger.entries(none.id, 10)).toEqual([]);
      expect(await store.ledger.balance(none.id)).toBe(0);
      expect(await store.ledger.sum(none.id)).toBe(0);
    });

    it('lists entries newest first, bounded by the limit', async () => {
      const store = await factory.open();
      const user = await makeUser(store, 10);
      const a = await store.jobs.create(newJob(user.id, { cost: 1 }));
      const b = await store.jobs.create(newJob(user.id, { cost: 2 }));
      if (a.kind !== 'created' || b.kind !== 'created') throw new Error('jobs were refused');
      await store.jobs.cancel(a.job.id, Date.now());
      const entries = await store.ledger.entries(user.id, 3);
      expect(entries.map((e) => [e.reason, e.reference, e.delta])).toEqual([
        ['refund', a.job.id, 1],
        ['job', b.job.id, -2],
        ['job', a.job.id, -1],
      ]);
      expect(entries[0]?.id).toBeGreaterThan(entries[1]?.id ?? Number.POSITIVE_INFINITY);
    });

    it('answers 0 for an unknown user', async () => {
      const store = await factory.open();
      expect(await store.ledger.balance('usr_missing')).toBe(0);
      expect(await store.ledger.sum('usr_missing')).toBe(0);
    });

    it('keeps the cached balance equal to the ledger sum through a random run of job operations', async () => {
      const store = await factory.open();
      const rand = prng(20_261_122);
      const users = [];
      for (const grant of [0, 3, 10, 40]) users.push((await makeUser(store, grant)).id);
      const jobIds: string[] = [];
      const driver = jobDriver(store);
      const tally = { created: 0, refused: 0, finished: 0, replayed: 0 };

      for (let step = 0; step < 300; step++) {
        const op = rand.int(10);
        if (op < 4) {
          const userId = rand.pick(users);
          const key = rand.int(3) === 0 ? `key-${rand.int(5)}` : undefined;
          const result = await store.jobs.create(
            newJob(userId, {
              cost: rand.int(5),
              idempotencyKey: key,
              requestHash: key ? `h-${rand.int(2)}` : `h-${step}`,
              queueLimit: 25,
            }),
          );
          if (result.kind === 'created') {
            tally.created++;
            jobIds.push(result.job.id);
          } else if (result.kind === 'replayed') tally.replayed++;
          else tally.refused++;
        } else if (op < 6) {
          await driver.claim();
        } else if (op < 9 && jobIds.length > 0) {
          // Any job, often one that already ended: a second ending must change nothing.
          const ended = await driver.end(rand.pick(jobIds), rand.pick(endings));
          if (ended) tally.finished++;
        } else {
          // Every claim abandoned at once, as a restart of the only origin sees them.
          const at = Date.now();
          await store.jobs.releaseExpired({ expiredBefore: at + 1e9, maxAttempts: 2, at });
        }
        await expectBalancesMatchLedger(store, users);
        for (const id of users) expect(await store.ledger.balance(id)).toBeGreaterThanOrEqual(0);
      }
      // The run exercised every path, not just one.
      expect(tally.created).toBeGreaterThan(30);
      expect(tally.refused).toBeGreaterThan(5);
      expect(tally.finished).toBeGreaterThan(15);
      expect(tally.replayed).toBeGreaterThan(0);

      // Each job: one debit if it cost anything, one refund at most, none if it succeeded.
      for (const userId of users) {
        const entries = await store.ledger.entries(userId, 10_000);
        for (const entry of entries.filter((e) => e.reason === 'refund')) {
          const row = await store.jobs.record(entry.reference);
          expect(row?.status === 'failed' || row?.status === 'canceled').toBe(true);
          expect(entry.delta).toBe(row?.cost);
        }
        const refs = entries.map((e) => `${e.reason}:${e.reference}`);
        expect(new Set(refs).size).toBe(refs.length);
      }
    });

    it('never takes a balance below zero through job debits (seeded property)', async () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const store = await factory.open();
        const driver = jobDriver(store);
        const rand = prng(seed);
        const user = await makeUser(store, rand.int(12));
        let spent = 0;
        for (let i = 0; i < 40; i++) {
          const before = await store.ledger.balance(user.id);
          const cost = rand.int(4);
          const result = await store.jobs.create(newJob(user.id, { cost }));
          const after = await store.ledger.balance(user.id);
          expect(after).toBeGreaterThanOrEqual(0);
          if (result.kind === 'created') {
            expect(before).toBeGreaterThanOrEqual(cost);
            expect(after).toBe(before - cost);
            spent += cost;
          } else {
            expect(result).toEqual({ kind: 'insufficient_credits', balance: before, cost });
            expect(after).toBe(before);
          }
          if (rand.int(4) === 0) {
            const next = await driver.claim();
            if (next) await driver.end(next.id, rand.pick(endings));
          }
        }
        expect(spent).toBeGreaterThan(0);
        expect(await store.ledger.balance(user.id)).toBe(await store.ledger.sum(user.id));
      }
    });

    it('lets only as many jobs through as there are credits when two stores race for them', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      const user = await makeUser(store, 20);
      // 40 one-credit requests for 20 credits, half through each store, all at once.
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? twin : store).jobs.create(newJob(user.id))),
      );
      expect(results.filter((r) => r.kind === 'created')).toHaveLength(20);
      expect(await store.ledger.balance(user.id)).toBe(0);
      expect(await twin.ledger.sum(user.id)).toBe(0);
      expect(await store.jobs.countQueued()).toBe(20);
    });
  });
}
