/**
 * The edge in front of two origins, one SIGKILLed under a steady load of job creations sent
 * through the edge: no client sees a 5xx that a retry on the other origin would have avoided
 * (a job creation is retried by the edge, with the Idempotency-Key it attaches), every 202
 * ends terminal, and no job or debit exists twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { it } from '../helpers/fixtures.ts';
import { allTerminal, isTerminal, type LedgerRow, listJobs, type User } from './crash-kit.ts';
import { figure, recordFigures } from './figures.ts';
import { seededRandom } from './seeded.ts';

const grant = 200;
it.override({
  clusterOptions: {
    origins: 2,
    env: { POOL_THREADS: '1', FREE_GRANT_CREDITS: String(grant), MAX_ATTEMPTS: '10' },
    edge: { vars: { ORIGIN_TIMEOUT_MS: '5000' } },
  },
});

describe('the edge over two origins, one killed under load', () => {
  it('answers every job creation without a 5xx; every accepted job ends once, charged once', async ({
    cluster,
  }) => {
    const random = seededRandom(0xed9e);
    const api = cluster.edgeApi;
    const users: User[] = [];
    for (let u = 0; u < 4; u++) users.push(await api.signUp());
    const answers: { user: User; status: number; job?: Job; code?: string }[] = [];
    let stop = false;
    // Four clients, each creating a short job and waiting for its end before the next (a
    // steady load the two threads keep up with), some with a key of their own.
    const client = async (user: User, n: number) => {
      for (let i = 0; !stop; i++) {
        const keyed = random.int(0, 3) === 0;
        const res = await api.call<Job>('POST', '/v1/jobs', {
          token: user.token,
          body: { model: 'steps', input: { steps: random.int(1, 4), stepMs: random.int(5, 40) } },
          ...(keyed ? { headers: { 'idempotency-key': `client-${n}-${i}` } } : {}),
        });
        const code = (res.body as unknown as { error?: { code: string } }).error?.code;
        answers.push({
          user,
          status: res.status,
          ...(res.status === 202 ? { job: res.body } : {}),
          ...(code ? { code } : {}),
        });
        if (res.status === 202) await api.waitForJob(user.token, res.body.id, undefined, 30_000);
        await sleep(random.int(5, 30));
      }
    };
    const running = users.map((user, n) => client(user, n));
    await sleep(random.int(800, 1500));
    const victim = cluster.origins[random.int(0, 1)];
    const killedAt = answers.length;
    await victim?.kill('SIGKILL');
    await sleep(3_000);
    stop = true;
    await Promise.all(running);

    const problems: string[] = [];
    const tally = { sent: answers.length, accepted: 0, refused: 0, failed: 0 };
    for (const a of answers) {
      if (a.status === 202) tally.accepted++;
      else if (a.status === 402 || a.status === 429) tally.refused++;
      else {
        tally.failed++;
        problems.push(`${a.status} ${a.code ?? ''}`);
      }
    }
    expect(problems).toEqual([]);
    expect(killedAt).toBeGreaterThan(0);
    expect(tally.accepted).toBeGreaterThan(20);

    // Every accepted job is there once, terminal; one debit each, a refund iff not succeeded.
    const lists = await allTerminal({ api, kills: [] }, users);
    const ledgerProblems: string[] = [];
    for (const [u, user] of users.entries()) {
      const jobs = lists[u] as Job[];
      const accepted = answers.filter((a) => a.user === user && a.job).map((a) => a.job?.id);
      // A retried create answers the same job: exactly one job per accepted answer.
      expect(new Set(accepted).size).toBe(accepted.length);
      const unanswered = jobs.filter((j) => !accepted.includes(j.id));
      const notAccepted = answers.filter((a) => a.user === user && !a.job);
      expect(
        unanswered,
        `jobs no client was answered 202 for; answers: ${JSON.stringify(notAccepted)}`,
      ).toEqual([]);
      expect(jobs.map((j) => j.id).sort()).toEqual([...accepted].sort());
      for (const job of jobs) if (!isTerminal(job)) ledgerProblems.push(`${job.id} ${job.status}`);
      const ledger = await api.call('GET', '/v1/billing/ledger', { token: user.token });
      const rows = ledger.body.data as LedgerRow[];
      for (const job of jobs) {
        const debits = rows.filter((r) => r.reason === 'job' && r.reference === job.id);
        const refunds = rows.filter((r) => r.reason === 'refund' && r.reference === job.id);
        const refundOk = job.status === 'succeeded' ? refunds.length === 0 : refunds.length === 1;
        if (debits.length !== 1 || !refundOk) ledgerProblems.push(`ledger of ${job.id}`);
      }
      const spent = jobs.filter((j) => j.status === 'succeeded').length;
      expect(ledger.body.balance).toBe(grant - spent);
      expect(await listJobs(api, user.token)).toHaveLength(jobs.length);
    }
    expect(problems).toEqual([]);
    expect(ledgerProblems).toEqual([]);
    recordFigures('edge-failover', [
      figure(
        'edge',
        'job creations through the edge, one origin killed: no 5xx',
        tally.sent,
        tally.sent - tally.failed,
        `seed ${random.seed}; ${tally.accepted} accepted, ${tally.refused} refused (402/429), kill after ${killedAt} answers`,
      ),
      figure(
        'edge',
        'accepted jobs terminal once, one debit, refund iff not succeeded',
        tally.accepted,
        tally.accepted - ledgerProblems.length,
      ),
    ]);
  });
});
