/**
 * Statistics on a real database, every dialect: the window reads of jobs and ledger rows, the
 * load now, and what `readStats` (with buckets) and `readUsage` answer over jobs created,
 * claimed, ended and paid for through the store itself at known instants.
 */
import { describe, expect, it } from 'vitest';
import { signupCredits } from '../../../../origin/billing/signup-credits.ts';
import type { SessionFacts } from '../../../../origin/billing/stripe-reconciliation.ts';
import { newId } from '../../../../origin/lib/ids.ts';
import { readStats } from '../../../../origin/stats/read-stats.ts';
import { readUsage } from '../../../../origin/stats/read-usage.ts';
import type { Claim, Store } from '../../../../origin/store/store.ts';
import { statsAnswerSchema } from '../../../../shared/schemas/stats.ts';
import { usageAnswerSchema } from '../../../../shared/schemas/usage.ts';
import { failed, newJob, succeeded } from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

/** The "now" of every read: 2025-01-01T12:00:00Z. */
const T = Date.UTC(2025, 0, 1, 12);
const s = 1_000;
const min = 60 * s;
/** 11:mm:ss of 2025-01-01, UTC. */
const at = (mm: number, ss = 0, ms = 0) => T - 60 * min + mm * min + ss * s + ms;

let users = 0;

/** A user created at `createdAt` with a signup grant then. */
async function userAt(store: Store, createdAt: number, grant: number) {
  const id = newId('usr', createdAt);
  const user = {
    id,
    email: `stats${++users}-${process.pid}@example.test`,
    passwordHash: 'not-a-real-hash',
    balance: grant,
    webhookSecret: 'whsec_test',
    createdAt,
    sessionVersion: 0,
    isAdmin: false,
    lastStartedAt: null,
  };
  const created = await store.accounts.createUser(user, signupCredits(id, grant, createdAt));
  if (created === 'email_taken') throw new Error('emails here are unique');
  return created;
}

/** Creates a job at `createdAt`; answers its id. */
async function createAt(store: Store, userId: string, createdAt: number, model = 'steps') {
  const result = await store.jobs.create(
    newJob(userId, { id: newId('job', createdAt), at: createdAt, model }),
  );
  if (result.kind !== 'created') throw new Error(`expected a created job, got ${result.kind}`);
  return result.job.id;
}

/** Claims the only queued job at `startedAt` for `owner`. */
async function claimAt(store: Store, jobId: string, startedAt: number, owner: string) {
  const claimed = await store.jobs.claim(owner, startedAt, 600_000);
  expect(claimed?.job.id).toBe(jobId);
  return claimed?.claim as Claim;
}

/**
 * Users A (created 10:30, 20 credits), B (11:15, 20 credits, buys 50 at 11:30, disputed at
 * 11:35) and an administrator, and their jobs (created → started → ended):
 *
 * | job | user | model | created  | wait   | run    | end                        |
 * | a0  | A    | steps | 10:50:00 | 1 s    | 1 s    | succeeded (outside 1h)     |
 * | a1  | A    | steps | 11:10:00 | 2 s    | 3 s    | succeeded                  |
 * | a2  | A    | steps | 11:10:30 | 4 s    | 1 s    | failed, refunded 11:10:35  |
 * | a3  | A    | steps | 11:40:00 | –      | –      | canceled queued 11:40:05   |
 * | a4  | A    | other | 11:40:10 | 1 s    | 5 s    | succeeded                  |
 * | b1  | B    | steps | 11:50:00 | 100 ms | 100 ms | succeeded (origin-b)       |
 * | b2  | B    | steps | 11:58:00 | 1 s    | …      | running on origin-b        |
 * | a5  | A    | steps | 11:59:00 | 500 ms | …      | running on origin-a        |
 * | a6  | A    | steps | 11:59:30 | …      |        | queued                     |
 */
async function seeded(store: Store) {
  const a = await userAt(store, at(-30), 20);
  const admin = await userAt(store, at(-90), 0);
  await store.accounts.setAdmin(admin.email, true);

  const run = async (
    userId: string,
    createdAt: number,
    waitMs: number,
    runMs: number,
    ending: 'succeeded' | 'failed',
    options: { model?: string; owner?: string } = {},
  ) => {
    const id = await createAt(store, userId, createdAt, options.model);
    const claim = await claimAt(store, id, createdAt + waitMs, options.owner ?? 'origin-a');
    const end = await store.jobs.finish(
      claim,
      ending === 'succeeded' ? succeeded : failed,
      createdAt + waitMs + runMs,
    );
    expect(end?.job.status).toBe(ending);
  };
  await run(a.id, at(-10), s, s, 'succeeded');
  await run(a.id, at(10), 2 * s, 3 * s, 'succeeded');
  await run(a.id, at(10, 30), 4 * s, s, 'failed');
  const b = await userAt(store, at(15), 20);
  const purchase: SessionFacts = {
    sessionId: `cs_stats_${process.pid}_${users}`,
    userId: b.id,
    packId: 'starter',
    amount: 500,
    currency: 'usd',
    paymentIntent: `pi_stats_${process.pid}_${users}`,
    pack: { credits: 50, amount: 500, currency: 'usd' },
  };
  await store.billing.recordCheckout({
    sessionId: purchase.sessionId,
    userId: b.id,
    packId: 'starter',
    credits: 50,
    amount: 500,
    currency: 'usd',
  });
  const paid = { kind: 'session_paid', session: purchase } as const;
  expect(
    await store.billing.applyEvent({ id: `evt_p${users}`, type: 'x', effect: paid }, at(30)),
  ).toBe('credited');
  const dispute = {
    kind: 'reversal',
    reason: 'dispute',
    chargeId: `ch_stats_${users}`,
    paymentIntent: purchase.paymentIntent,
  } as const;
  expect(
    await store.billing.applyEvent({ id: `evt_d${users}`, type: 'x', effect: dispute }, at(35)),
  ).toBe('reversed');
  const a3 = await createAt(store, a.id, at(40));
  expect((await store.jobs.cancel(a3, at(40, 5)))?.job.status).toBe('canceled');
  await run(a.id, at(40, 10), s, 5 * s, 'succeeded', { model: 'other' });
  await run(b.id, at(50), 100, 100, 'succeeded', { owner: 'origin-b' });
  const b2 = await createAt(store, b.id, at(58));
  await claimAt(store, b2, at(58, 1), 'origin-b');
  const a5 = await createAt(store, a.id, at(59));
  await claimAt(store, a5, at(59, 0, 500), 'origin-a');
  await createAt(store, a.id, at(59, 30));
  return { a, b, admin };
}

/** The conformance suite's part for this concern; every store implementation runs it. */
export function statsSuite(factory: StoreFactory): void {
  describe('stats store: windows by creation time, and the load now', () => {
    it('reads the jobs and ledger rows of a window, its edges included, of one user or all', async () => {
      const store = await factory.open();
      const { a, b } = await seeded(store);
      const window = { from: at(0), to: T };
      expect((await store.stats.jobSamples(window)).length).toBe(8);
      expect((await store.stats.jobSamples({ ...window, userId: b.id })).length).toBe(2);
      // A's grant at 10:30 is the first instant of this window; 1 ms later it is out.
      const grant = { from: at(-30), to: T, userId: a.id };
      const rows = await store.stats.ledgerSamples(grant);
      expect(rows.filter((r) => r.reason === 'grant')).toEqual([
        { reason: 'grant', delta: 20, createdAt: at(-30) },
      ]);
      const later = await store.stats.ledgerSamples({ ...grant, from: at(-30) + 1 });
      expect(later.filter((r) => r.reason === 'grant')).toEqual([]);
      expect(rows.length - later.length).toBe(1);
      // B's rows: grant, purchase, chargeback, and two job debits.
      const ofB = await store.stats.ledgerSamples({ ...window, userId: b.id });
      expect(ofB.map((r) => `${r.reason} ${r.delta}`).sort()).toEqual([
        'chargeback -50',
        'grant 20',
        'job -1',
        'job -1',
        'purchase 50',
      ]);
    });

    it('counts queued jobs per model and running ones per model and origin', async () => {
      const store = await factory.open();
      await seeded(store);
      const load = await store.stats.load();
      expect(load.queued).toEqual([{ model: 'steps', jobs: 1 }]);
      expect(
        load.running.sort((x, y) => ((x.originId ?? '') < (y.originId ?? '') ? -1 : 1)),
      ).toEqual([
        { model: 'steps', originId: 'origin-a', jobs: 1 },
        { model: 'steps', originId: 'origin-b', jobs: 1 },
      ]);
    });
  });

  describe('readStats with buckets, over the store', () => {
    it('answers every bucket of 5 minutes of the last hour: outcomes, rates, percentiles, credits, load', async () => {
      const store = await factory.open();
      const { admin } = await seeded(store);
      const answer = statsAnswerSchema.parse(
        await readStats(
          { store, originId: 'origin-c' },
          { userId: admin.id },
          { window: '1h', scope: 'all', bucket: '5m' },
          T,
        ),
      );
      expect(answer).toMatchObject({
        bucket: '5m',
        bucketMs: 5 * min,
        from: '2025-01-01T11:00:00.000Z',
      });
      // 11:00, 11:05, … 12:00: the last bucket holds only the window's last instant.
      const series = answer.overall.series ?? [];
      expect(series.map((b) => b.start.slice(11, 16))).toEqual(
        ['00', '05', '10', '15', '20', '25', '30', '35', '40', '45', '50', '55']
          .map((m) => `11:${m}`)
          .concat('12:00'),
      );
      expect(series.map((b) => b.jobs)).toEqual([0, 0, 2, 0, 0, 0, 0, 0, 2, 0, 1, 3, 0]);
      // 11:10: a1 succeeded, a2 failed. Waits 2000, 4000; runs 3000, 1000 (nearest rank).
      expect(series[2]).toMatchObject({
        succeeded: 1,
        failed: 1,
        successRate: 0.5,
        dpmo: 500_000,
        sigma: 1.5,
        queueWaitMs: { samples: 2, p50: 2_000, p95: 4_000, p99: 4_000 },
        runTimeMs: { samples: 2, p50: 1_000, p95: 3_000, p99: 3_000 },
      });
      // 11:40: a3 canceled before it started, a4 succeeded; 11:55: three open.
      expect(series[8]).toMatchObject({ canceled: 1, succeeded: 1, successRate: 1, sigma: 6 });
      expect(series[11]).toMatchObject({ open: 3, successRate: null, sigma: null });
      expect(series[0]).toMatchObject({ jobs: 0, queueWaitMs: { samples: 0, p50: null } });

      // The window: 3 succeeded, 1 failed → dpmo 250,000, sigma 1.5 − NORMSINV(0.25) = 2.17.
      // Waits 100 500 1000 1000 2000 4000: p50 rank 3 → 1000; runs 100 1000 3000 5000: p50 1000.
      expect(answer.overall).toMatchObject({
        jobs: 8,
        succeeded: 3,
        failed: 1,
        canceled: 1,
        open: 3,
        sigma: 2.17,
        queueWaitMs: { samples: 6, p50: 1_000, p95: 4_000, p99: 4_000 },
        runTimeMs: { samples: 4, p50: 1_000, p95: 5_000, p99: 5_000 },
      });
      expect(answer.data.map((m) => [m.model, m.jobs, m.series?.length])).toEqual([
        ['other', 1, 13],
        ['steps', 7, 13],
      ]);
      const steps = answer.data[1]?.series ?? [];
      expect(steps[8]).toMatchObject({ jobs: 1, canceled: 1, successRate: null });

      // Credits of the window's ledger rows: B's grant (11:15), purchase (11:30) and its
      // dispute (11:35); 8 jobs debited, a2 and a3 refunded. A's grant (10:30) and a0 are older.
      expect(answer.credits).toMatchObject({
        purchased: 50,
        granted: 20,
        spent: 8,
        refunded: 2,
        takenBack: 50,
        adjusted: 0,
        net: 20 + 50 - 50 - 8 + 2,
      });
      const credits = answer.credits.series ?? [];
      expect(credits.map((b) => b.net)).toEqual([0, 0, -1, 20, 0, 0, 50, -50, -1, 0, -1, -3, 0]);
      expect(credits[2]).toMatchObject({ spent: 2, refunded: 1 });

      // Now: a6 queued; b2 and a5 running on two origins; the answering origin-c runs none.
      expect(answer.now).toMatchObject({
        at: '2025-01-01T12:00:00.000Z',
        queued: 1,
        running: 2,
        models: [{ model: 'steps', queued: 1, running: 2 }],
        origins: [
          { originId: 'origin-a', running: 1 },
          { originId: 'origin-b', running: 1 },
          { originId: 'origin-c', running: 0 },
        ],
      });
    });

    it("keeps to the caller's own jobs and ledger rows under scope=own, without the load", async () => {
      const store = await factory.open();
      const { b } = await seeded(store);
      const answer = await readStats(
        { store, originId: 'origin-a' },
        { userId: b.id },
        { window: '1h', scope: 'own', bucket: 'auto' },
        T,
      );
      // auto: 1h → 1-minute buckets, 11:00 … 12:00.
      expect(answer).toMatchObject({ bucket: '1m', bucketMs: min });
      expect(answer.overall.series).toHaveLength(61);
      expect(answer.overall).toMatchObject({ jobs: 2, succeeded: 1, open: 1 });
      expect(answer.credits).toMatchObject({ granted: 20, purchased: 50, takenBack: 50, spent: 2 });
      expect(answer.now).toBeUndefined();
    });
  });

  describe('readUsage over the store', () => {
    it("answers the caller's jobs and credits per day, days from the caller's offset, as the ledger has them", async () => {
      const store = await factory.open();
      const { a } = await seeded(store);
      const usage = usageAnswerSchema.parse(
        await readUsage({ store }, { userId: a.id }, { days: 3, utcOffset: 0 }, T),
      );
      expect(usage.data.map((d) => [d.date, d.start])).toEqual([
        ['2024-12-30', '2024-12-30T00:00:00.000Z'],
        ['2024-12-31', '2024-12-31T00:00:00.000Z'],
        ['2025-01-01', '2025-01-01T00:00:00.000Z'],
      ]);
      // A's a0 … a6: a0, a1, a4 succeeded; a2 failed; a3 canceled; a5 running, a6 queued.
      const today = { jobs: 7, succeeded: 3, failed: 1, canceled: 1, open: 2 };
      expect(usage.data[2]).toMatchObject(today);
      expect(usage.data[2]?.credits).toEqual({
        purchased: 0,
        granted: 20,
        spent: 7,
        refunded: 2,
        takenBack: 0,
        adjusted: 0,
        net: 15,
      });
      expect(usage.data[0]).toMatchObject({ jobs: 0, credits: { net: 0 } });
      expect(usage.total).toMatchObject({ ...today, credits: { net: 15 } });
      // Row for row what the ledger holds: its sum is the balance.
      const ledger = await store.ledger.entries(a.id, 1_000);
      expect(ledger.reduce((n, e) => n + e.delta, 0)).toBe(usage.total.credits.net);
      expect(await store.ledger.balance(a.id)).toBe(usage.total.credits.net);

      // UTC−12: 12:00 UTC is local midnight, so every row so far falls on local Dec 31.
      const west = await readUsage({ store }, { userId: a.id }, { days: 2, utcOffset: -720 }, T);
      expect(west.data.map((d) => [d.date, d.start, d.jobs])).toEqual([
        ['2024-12-31', '2024-12-31T12:00:00.000Z', 7],
        ['2025-01-01', '2025-01-01T12:00:00.000Z', 0],
      ]);
      // UTC+1: the local day began at 23:00 UTC the day before.
      const east = await readUsage({ store }, { userId: a.id }, { days: 1, utcOffset: 60 }, T);
      expect(east.data).toMatchObject([
        { date: '2025-01-01', start: '2024-12-31T23:00:00.000Z', jobs: 7 },
      ]);
    });
  });
}
