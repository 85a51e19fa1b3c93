/**
 * A flood on one origin with a small queue: bursts of ten times the queue limit, at once,
 * from several users. The excess must be refused with 503 `overloaded` and Retry-After
 * (never another 5xx, never a hang), every accepted job must succeed, nobody may pay for
 * a refused request, and the origin's memory must stay bounded.
 */
import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import type { ErrorBody } from '../../shared/errors.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { creditsOf, expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { figure, recordFigures } from './figures.ts';
import { seededRandom } from './seeded.ts';

const queueLimit = 20;
const grant = 100;
const users = 5;
const rounds = 3;
const burst = queueLimit * 10;
/** The bound on the origin's resident memory during the flood. */
const rssBoundMb = 600;
const random = seededRandom(0x10ad);

it.override({
  originOptions: {
    env: {
      QUEUE_LIMIT: String(queueLimit),
      // The box's backstop is what this suite floods: no user's own cap comes first.
      USER_JOB_LIMIT: String(burst),
      POOL_THREADS: '2',
      FREE_GRANT_CREDITS: String(grant),
      MODEL_DIR: fixtureModels,
    },
  },
});

/** The origin's resident set size, in MB, from /proc. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

describe('a burst of ten times the queue limit', () => {
  it('accepts what the queue holds, refuses the rest with 503 overloaded, charges only the accepted, and stays under the memory bound', async ({
    api,
    origin,
  }) => {
    const started = Date.now();
    const pid = origin.child.pid as number;
    let peakRss = rssMb(pid);
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssMb(pid));
    }, 25);
    try {
      const accounts = await Promise.all(Array.from({ length: users }, () => api.signUp()));
      const accepted = new Map<string, Job[]>(accounts.map((a) => [a.token, []]));
      const answers = { tried: 0, held: 0 };
      const refusals = { tried: 0, held: 0 };
      const jobs = { tried: 0, held: 0 };
      const unexpected: string[] = [];

      for (let round = 0; round < rounds; round++) {
        const input = { steps: random.int(2, 6), stepMs: random.int(20, 60) };
        const sent = Array.from({ length: burst }, (_, i) => {
          const { token } = accounts[i % users] as (typeof accounts)[number];
          return api
            .call<Job>('POST', '/v1/jobs', { token, body: { model: 'steps', input } })
            .then((res) => ({ token, res }));
        });
        const roundAccepted: { token: string; job: Job }[] = [];
        for (const { token, res } of await Promise.all(sent)) {
          answers.tried++;
          if (res.status === 202) {
            answers.held++;
            roundAccepted.push({ token, job: res.body });
            accepted.get(token)?.push(res.body);
          } else if (
            res.status === 503 &&
            (res.body as unknown as ErrorBody)?.error?.code === 'overloaded'
          ) {
            answers.held++;
            refusals.tried++;
            expectApiError(res, 503, 'overloaded');
            if (Number(res.headers.get('retry-after')) > 0) refusals.held++;
          } else {
            unexpected.push(`${res.status} ${JSON.stringify(res.body)}`);
          }
        }
        expect(unexpected).toEqual([]);
        // The queue was filled, and the flood overflowed it.
        expect(roundAccepted.length).toBeGreaterThanOrEqual(queueLimit);
        expect(roundAccepted.length).toBeLessThan(burst / 2);

        for (const { token, job } of roundAccepted) {
          const ended = await api.waitForJob(token, job.id, undefined, 60_000);
          jobs.tried++;
          if (ended.status === 'succeeded') jobs.held++;
          else unexpected.push(`job ${job.id} ended ${ended.status}`);
        }
      }

      // Nobody paid for a refusal, and no refused request left a job behind.
      const balances = { tried: 0, held: 0 };
      for (const { token } of accounts) {
        const mine = accepted.get(token) ?? [];
        const listed = await api.call('GET', '/v1/jobs?limit=100', { token });
        expect(listed.status).toBe(200);
        expect(listed.body.nextCursor).toBeNull();
        balances.tried++;
        const credits = await creditsOf(api, token);
        if (credits === grant - mine.length && listed.body.data.length === mine.length) {
          balances.held++;
        } else {
          unexpected.push(
            `balance ${credits} with ${mine.length} accepted, ${listed.body.data.length} listed`,
          );
        }
      }
      expect(origin.child.exitCode).toBeNull();
      const health = await api.call('GET', '/v1/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ queueLength: 0, activeJobs: 0 });

      expect(unexpected).toEqual([]);
      expect(answers.held).toBe(answers.tried);
      expect(refusals.held).toBe(refusals.tried);
      expect(jobs.held).toBe(jobs.tried);
      expect(balances.held).toBe(balances.tried);
      expect(peakRss).toBeLessThan(rssBoundMb);

      const note = `QUEUE_LIMIT ${queueLimit}, ${rounds} bursts of ${burst}, peak RSS ${Math.round(peakRss)} MB (bound ${rssBoundMb}), ${Date.now() - started} ms`;
      recordFigures('load', [
        figure(
          'load',
          'flood requests answered 202 or 503 overloaded',
          answers.tried,
          answers.held,
          note,
        ),
        figure('load', 'refusals with Retry-After', refusals.tried, refusals.held),
        figure('load', 'accepted jobs succeeded', jobs.tried, jobs.held),
        figure('load', 'balances charged only for accepted', balances.tried, balances.held),
      ]);
    } finally {
      clearInterval(sampler);
    }
  });
});
