/**
 * An origin killed again and again while it works: dozens of jobs from several users,
 * queued and running, some failing, some canceled, while Stripe events arrive. The
 * origin is SIGKILLed at seeded random points (right after a burst of job creations hits
 * the database, in the middle of a burst of Stripe events, while jobs run) and restarted
 * on the same data directory; then the same with SIGTERM. Afterwards every job must be
 * terminal, every success readable, every ledger exact: one debit per job, a refund for
 * each job that did not succeed, each Stripe session credited once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { type Api, apiClient } from '../helpers/api.ts';
import { it, type OriginLauncher } from '../helpers/fixtures.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { stripeModeEnv } from '../helpers/stripe.ts';
import {
  acknowledged,
  burstOfJobs,
  cancelQueued,
  deliverStripe,
  type Killable,
  killMidBurst,
  killMidStripeBurst,
  listJobs,
  maybe,
  type Session,
  topUpJobs,
  type User,
  usersWithCheckouts,
  verify,
} from './crash-kit.ts';
import { type Figure, figure, recordFigures } from './figures.ts';
import { seededRandom } from './seeded.ts';

const figures: Figure[] = [];
/**
 * An origin restarted on one data directory; `api` always talks to the live one. Its
 * origins are the test's: SIGKILLed, and the directory removed, when the test ends.
 */
class Restarting implements Killable {
  origin!: OriginProcess;
  api!: Api;
  readonly kills: string[] = [];
  readonly origins: OriginLauncher;
  readonly dataDir: string;
  readonly env: Record<string, string>;
  constructor(origins: OriginLauncher, env: Record<string, string>) {
    this.origins = origins;
    this.dataDir = origins.dataDir();
    this.env = env;
  }
  async start() {
    this.origin = await this.origins.start({ dataDir: this.dataDir, env: this.env });
    this.api = apiClient(this.origin.url);
  }
  /** Signals the origin, waits for it to exit, and starts it again on the same data. */
  async kill(signal: 'SIGKILL' | 'SIGTERM', what: string) {
    const code = await this.origin.kill(signal);
    if (signal === 'SIGKILL') expect(this.origin.child.signalCode).toBe('SIGKILL');
    else expect(code, this.origin.output().slice(-2000)).toBe(0);
    this.kills.push(what);
    await this.start();
  }
}

it.afterAll(() => {
  if (figures.length > 0) recordFigures('crash', figures);
});

describe('an origin killed at random points while jobs run and Stripe events arrive', () => {
  it('SIGKILL ×6: every job ends, every success is readable, every balance and ledger is exact', async ({
    stripe,
    origins,
  }) => {
    const random = seededRandom(0xc0ffee);
    const started = Date.now();
    const o = new Restarting(origins, {
      ...stripeModeEnv(stripe),
      MODEL_DIR: fixtureModels,
      POOL_THREADS: '2',
      // Six kills must not use up a job's attempts.
      MAX_ATTEMPTS: '10',
    });
    await o.start();

    // Six users, two checkouts each; Stripe mode: no grant, credits come from purchases.
    const { users, sessions } = await usersWithCheckouts(() => o.api, 6, random);
    const deliver = (s: Session) => deliverStripe(o.api, s);

    // Kill 1: in the middle of a burst of Stripe events. Then Stripe delivers them all again:
    // an event answered 200 before the kill was on disk, its redelivery a duplicate.
    const { redelivered, acked: stripeAcked } = await killMidStripeBurst(o, sessions, random);
    for (const res of redelivered) expect(['credited', 'duplicate']).toContain(res.body.outcome);

    // Kill 2: right after a burst of job creations reached the database.
    const acked: { user: User; job: Job }[] = [];
    let sent = await burstOfJobs(o.api, users, 5, random);
    await killMidBurst(o, sent, random, 'job burst');
    acked.push(...(await acknowledged(sent)));
    const burstCreated = (await Promise.all(users.map((u) => listJobs(o.api, u.token)))).flat()
      .length;

    // Everyone up to ten jobs (counted on what exists), then two canceled while queued.
    acked.push(...(await topUpJobs(() => o.api, users, 10, random)));
    const canceled = await cancelQueued(o.api, users.slice().reverse(), 2);

    // Kills 3 to 6: while jobs run; one of them just after another burst of creations
    // and a redelivery of every Stripe event.
    let runningAtKill = 0;
    for (let k = 3; k <= 6; k++) {
      if (k === 5) {
        sent = await burstOfJobs(o.api, users.slice(0, 3), 2, random);
        const redelivered = sessions.map((s) => maybe(deliver(s)));
        await killMidBurst(o, [...sent, ...redelivered], random, 'job and Stripe burst');
        acked.push(...(await acknowledged(sent)));
        continue;
      }
      const delay = random.int(150, 1200);
      await sleep(delay);
      const health = await o.api.call('GET', '/v1/health');
      runningAtKill += health.body.activeJobs as number;
      await o.kill(
        'SIGKILL',
        `running +${delay}ms (${health.body.activeJobs} running, ${health.body.queueLength} queued)`,
      );
    }

    // The kills while jobs ran did hit running jobs.
    expect(runningAtKill).toBeGreaterThan(0);
    const note = `seed ${random.seed}; ${o.kills.join(', ')}; first burst made ${burstCreated}/30 jobs; ${Math.round((Date.now() - started) / 1000)} s`;
    const measured = await verify('crash', o, users, 0, sessions, acked, canceled, note);
    expect(stripeAcked.held).toBe(stripeAcked.tried);
    figures.push(
      ...measured,
      figure(
        'crash',
        'Stripe events acked before kill were durable',
        stripeAcked.tried,
        stripeAcked.held,
      ),
    );
  });

  it('SIGTERM ×3 with a short grace: the same promises hold', async ({ origins }) => {
    const random = seededRandom(0x7e57);
    const started = Date.now();
    const grant = 30;
    const o = new Restarting(origins, {
      MODEL_DIR: fixtureModels,
      POOL_THREADS: '2',
      MAX_ATTEMPTS: '10',
      SHUTDOWN_GRACE_MS: '300',
      FREE_GRANT_CREDITS: String(grant),
    });
    await o.start();
    const users: User[] = [];
    for (let u = 0; u < 4; u++) users.push(await o.api.signUp());

    const acked: { user: User; job: Job }[] = [];
    // Stop 1: right after a burst of creations.
    const sent = await burstOfJobs(o.api, users, 4, random);
    await killMidBurst(o, sent, random, 'job burst', 'SIGTERM');
    acked.push(...(await acknowledged(sent)));

    // Everyone up to eight jobs, counted on what exists.
    for (const user of users) {
      const have = (await listJobs(o.api, user.token)).length;
      const topUp = await burstOfJobs(o.api, [user], 8 - have, random);
      const made = await acknowledged(topUp);
      expect(made).toHaveLength(8 - have);
      acked.push(...made);
    }
    const canceled = await cancelQueued(o.api, users, 2);
    // Stops 2 and 3: while jobs run.
    for (let k = 2; k <= 3; k++) {
      const delay = random.int(150, 1000);
      await sleep(delay);
      await o.kill('SIGTERM', `running +${delay}ms`);
    }
    const note = `seed ${random.seed}; ${o.kills.join(', ')}; ${Math.round((Date.now() - started) / 1000)} s`;
    figures.push(...(await verify('crash-term', o, users, grant, [], acked, canceled, note)));
  });
});
