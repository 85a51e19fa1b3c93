/**
 * A cluster losing origins: two origins on one PostgreSQL, jobs and Stripe events sent to
 * either, and one of them SIGKILLed at seeded random points (in the middle of a burst of job
 * creations, of Stripe events, while jobs run), then started again, several times. The
 * survivor takes every job back from the dead one's lapsed claims. Afterwards every job is
 * terminal, every success readable, one debit per job, a refund iff it did not succeed,
 * every acknowledged job and Stripe event there, each session credited once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { type Api, apiClient } from '../helpers/api.ts';
import { type Cluster, jobsFinishedBy, jobsStartedBy } from '../helpers/cluster.ts';
import { it } from '../helpers/fixtures.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
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
import { figure, recordFigures } from './figures.ts';
import { type Random, seededRandom } from './seeded.ts';

it.override('clusterOptions', ({ stripe }) => ({
  origins: 2,
  // One inference thread each (two cores), and enough attempts for the kills.
  env: { ...stripeModeEnv(stripe), POOL_THREADS: '1', MAX_ATTEMPTS: '10' },
}));

/** The two live origins of a cluster: one is killed and started again (as a new process). */
class Losing implements Killable {
  readonly cluster: Cluster;
  readonly random: Random;
  readonly kills: string[] = [];
  /** Jobs a killed origin was running when it died. */
  readonly orphans = new Set<string>();
  #restarts = 0;

  constructor(cluster: Cluster, random: Random) {
    this.cluster = cluster;
    this.random = random;
  }

  get live(): OriginProcess[] {
    return this.cluster.origins.filter(
      (o) => o.child.exitCode === null && o.child.signalCode === null,
    );
  }

  /** A client of a random live origin: requests land anywhere, as an edge spreads them. */
  get api(): Api {
    return apiClient(this.random.pick(this.live).url);
  }

  /** SIGKILLs a live origin (the one running more, when they differ) and starts a new one. */
  async kill(_signal: 'SIGKILL' | 'SIGTERM', what: string): Promise<void> {
    const [a, b] = this.live as [OriginProcess, OriginProcess];
    const victim = this.random.int(0, 1) === 0 ? a : b;
    await victim.kill('SIGKILL');
    const finished = new Set(jobsFinishedBy(victim));
    for (const id of jobsStartedBy(victim)) if (!finished.has(id)) this.orphans.add(id);
    this.kills.push(`${what} (${victim === a ? 'first' : 'second'})`);
    await this.cluster.add(`origin-restart-${++this.#restarts}`);
  }
}

describe('a cluster of two origins, one killed at random points', () => {
  it('SIGKILL ×5: the survivor finishes every job; nothing is charged twice or lost', async ({
    cluster,
  }) => {
    const random = seededRandom(0xc1a55);
    const started = Date.now();
    const o = new Losing(cluster, random);

    const { users, sessions } = await usersWithCheckouts(() => o.api, 5, random);
    const deliver = (s: Session) => deliverStripe(o.api, s);

    // Kill 1: mid Stripe burst (to both origins); Stripe then delivers every event again.
    const { acked: stripeAcked } = await killMidStripeBurst(o, sessions, random);

    // Kill 2: mid burst of job creations, spread over both origins.
    const acked: { user: User; job: Job }[] = [];
    const spread = async (count: number, who = users) => {
      const sent = [];
      for (const user of who) sent.push(...(await burstOfJobs(o.api, [user], count, random)));
      return sent;
    };
    let sent = await spread(4);
    await killMidBurst(o, sent, random, 'job burst');
    acked.push(...(await acknowledged(sent)));

    // Everyone up to eight jobs, then two canceled while queued.
    acked.push(...(await topUpJobs(() => o.api, users, 8, random)));
    const canceled = await cancelQueued(o.api, users.slice().reverse(), 2);

    // Kills 3 to 5: while jobs run, one of them mid burst of creations and redeliveries.
    let runningAtKill = 0;
    for (let k = 3; k <= 5; k++) {
      if (k === 4) {
        sent = await spread(2, users.slice(0, 3));
        const redelivered = sessions.map((s) => maybe(deliver(s)));
        await killMidBurst(o, [...sent, ...redelivered], random, 'job and Stripe burst');
        acked.push(...(await acknowledged(sent)));
        continue;
      }
      const delay = random.int(200, 1200);
      await sleep(delay);
      for (const origin of o.live) {
        const health = await apiClient(origin.url).call('GET', '/v1/health');
        runningAtKill += (health.body.activeJobs as number) ?? 0;
      }
      await o.kill('SIGKILL', `running +${delay}ms`);
    }
    expect(runningAtKill).toBeGreaterThan(0);

    const note = `seed ${random.seed}; ${o.kills.join(', ')}; ${Math.round((Date.now() - started) / 1000)} s`;
    const figures = await verify('cluster', o, users, 0, sessions, acked, canceled, note);
    // Every job a killed origin was running went back to the queue and was run again by
    // another origin (or was canceled meanwhile).
    const byId = new Map(
      (await Promise.all(users.map((u) => listJobs(o.api, u.token)))).flat().map((j) => [j.id, j]),
    );
    const rerun = { tried: 0, held: 0 };
    const notRerun: unknown[] = [];
    for (const id of o.orphans) {
      rerun.tried++;
      const elsewhere = cluster.origins.some(
        (origin) => jobsStartedBy(origin).includes(id) && jobsFinishedBy(origin).includes(id),
      );
      if (elsewhere || byId.get(id)?.status === 'canceled') rerun.held++;
      else notRerun.push({ id, status: byId.get(id)?.status, error: byId.get(id)?.error });
    }
    expect(rerun.tried).toBeGreaterThan(0);
    expect(rerun.held, JSON.stringify(notRerun)).toBe(rerun.tried);
    expect(stripeAcked.held).toBe(stripeAcked.tried);
    recordFigures('cluster', [
      ...figures,
      figure(
        'cluster',
        "a killed origin's running jobs run again elsewhere",
        rerun.tried,
        rerun.held,
      ),
      figure(
        'cluster',
        'Stripe events acked before a kill were durable',
        stripeAcked.tried,
        stripeAcked.held,
      ),
    ]);
  });
});
