/**
 * Chaos: one user floods the queue with everything a hostile user has — ten API keys
 * submitting bursts at once (more jobs together than the whole queue holds), jobs that hold
 * their thread and ignore a cancel, and cancel-and-resubmit in a loop — while two other
 * users submit a job now and then. Nobody else may hear a single 503 or 429; their jobs
 * start within about one of the flooder's job times; the flooder never holds more than its
 * cap of jobs (queued, running, or canceled but still in a thread, read from the origin's
 * database); and every balance is exact afterwards.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import type { Api, ApiAnswer } from '../helpers/api.ts';
import { creditsOf } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { Figures } from './figures.ts';

const cap = 6;
const keys = 10;
/** Each key's burst: 50 at once from the ten keys, more than the queue's 40. */
const burst = 5;
const floodMs = 8_000;
/** The flooder's jobs: 600 ms of a thread each, and a cancel does not stop them early. */
const hog = { steps: 6, stepMs: 100, ignoreAbort: true };
const hogMs = 600;
/** The others' jobs: short. */
const small = { steps: 2, stepMs: 40 };

it.override({
  originOptions: {
    env: {
      POOL_THREADS: '2',
      QUEUE_LIMIT: '40',
      USER_JOB_LIMIT: String(cap),
      FREE_GRANT_CREDITS: '100000',
      ABORT_GRACE_MS: '5000',
      MODEL_DIR: fixtureModels,
    },
  },
});

const figures = new Figures('fair');

const submit = (api: Api, token: string, input: object) =>
  api.call<Job>('POST', '/v1/jobs', { token, body: { model: 'steps', input } });

describe('one user flooding with 10 API keys, cancel and resubmit', () => {
  it('never costs another user a 503 or a 429, nor more than about one of its job times', async ({
    api,
    origin,
  }) => {
    const flooder = await api.signUp();
    const tokens: string[] = [];
    for (let i = 0; i < keys; i++) {
      const created = await api.call('POST', '/v1/api-keys', {
        token: flooder.token,
        body: { name: `flood ${i}` },
      });
      expect(created.status).toBe(201);
      tokens.push(created.body.key as string);
    }
    const others = [await api.signUp(), await api.signUp()];
    const until = Date.now() + floodMs;
    const flood = { answers: new Map<number, number>(), accepted: 0, canceled: 0 };
    const peak = { held: 0 };

    // Each key: a burst of submissions at once; each accepted job is canceled once it runs
    // (or at once, half the time), and the key goes again.
    const floodWith = async (token: string, k: number) => {
      let n = 0;
      while (Date.now() < until) {
        const answers = await Promise.all(
          Array.from({ length: burst }, () => submit(api, token, hog)),
        );
        for (const res of answers) {
          flood.answers.set(res.status, (flood.answers.get(res.status) ?? 0) + 1);
        }
        const accepted = answers.filter((res) => res.status === 202);
        flood.accepted += accepted.length;
        if (accepted.length === 0) await sleep(20);
        await Promise.all(
          accepted.map(async (res) => {
            if ((n++ + k) % 2 === 0) {
              await api.waitForJob(token, res.body.id, (j) => j.status !== 'queued', 10_000);
            }
            const canceled = await api.call('POST', `/v1/jobs/${res.body.id}/cancel`, { token });
            if (canceled.status === 200) flood.canceled++;
          }),
        );
      }
    };

    // The flooder's jobs queued or holding a thread (running, or canceled with the task still
    // in it), read from the origin's database as the cap counts them, sampled.
    const db = new Database(join(origin.dataDir, 'overture.sqlite'), {
      readonly: true,
      fileMustExist: true,
    });
    const holding = db.prepare(
      "select count(*) as n from jobs where user_id = ? and (status = 'queued' or claim_token is not null)",
    );
    let sampling = true;
    const sampled = (async () => {
      while (sampling) {
        const { n } = holding.get(flooder.id) as { n: number };
        peak.held = Math.max(peak.held, n);
        figures.count(
          'the flooder’s jobs queued or holding a thread ≤ its cap (sampled)',
          n <= cap,
        );
        await sleep(100);
      }
    })();

    const victims: { job: Job; wait: number }[] = [];
    const victimAnswers: number[] = [];
    const victim = async (token: string, offset: number) => {
      await sleep(offset);
      while (Date.now() < until) {
        const res = await submit(api, token, small);
        victimAnswers.push(res.status);
        if (res.status === 202) {
          const started = await api.waitForJob(token, res.body.id, (j) => j.startedAt !== null);
          victims.push({
            job: started,
            wait: Date.parse(started.startedAt ?? '') - Date.parse(started.createdAt),
          });
        }
        await sleep(250);
      }
    };

    try {
      await Promise.all([
        ...tokens.map((t, k) => floodWith(t, k)),
        ...others.map((o, i) => victim(o.token, 500 + 100 * i)),
      ]);
    } finally {
      sampling = false;
      await sampled;
      db.close();
    }

    // Everyone's jobs end; nothing is left holding a place.
    const page = await api.call<{ data: Job[] }>('GET', '/v1/jobs?limit=100', {
      token: flooder.token,
    });
    for (const job of page.body.data)
      await api.waitForJob(flooder.token, job.id, undefined, 20_000);

    for (const status of victimAnswers) {
      figures.count('another user’s submissions during the flood → 202', status === 202);
    }
    const worst = Math.max(...victims.map((v) => v.wait));
    for (const { wait } of victims) {
      // One of the flooder's jobs may hold each thread when the job arrives: it waits for
      // the first to end, then goes before the flooder's (the fairness), plus the machine's
      // noise (the other chaos suites share its 2 cores).
      figures.count(
        'another user’s job started within one flood job time (+1 s)',
        wait <= hogMs + 1000,
        `${victims.length} jobs, worst wait ${worst} ms (a flood job holds a thread ${hogMs} ms)`,
      );
    }
    const refusedWrongly = [...flood.answers].filter(([s]) => s !== 202 && s !== 429);
    const floodTotal = [...flood.answers.values()].reduce((a, b) => a + b, 0);
    figures.add(
      'the flooder’s requests → 202 or 429 too_many_jobs, never a 5xx',
      floodTotal,
      floodTotal - refusedWrongly.reduce((a, [, n]) => a + n, 0),
      `${keys} keys, ${floodTotal} submissions: ${flood.accepted} accepted, ${flood.canceled} canceled, ${flood.answers.get(429) ?? 0} × 429 (cap ${cap})`,
    );
    // Every account's balance is its grant less what its jobs that ran to the end cost.
    for (const account of [flooder, ...others]) {
      const jobs: Job[] = [];
      let cursor: string | null = null;
      do {
        const res: ApiAnswer<{ data: Job[]; nextCursor: string | null }> = await api.call(
          'GET',
          `/v1/jobs?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
          { token: account.token },
        );
        jobs.push(...res.body.data);
        cursor = res.body.nextCursor;
      } while (cursor);
      const charged = jobs.filter((j) => j.status === 'succeeded').reduce((a, j) => a + j.cost, 0);
      figures.count(
        'balances exact (grant − succeeded jobs)',
        (await creditsOf(api, account.token)) === 100_000 - charged,
      );
    }
    expect(victims.length).toBeGreaterThan(5);
    expect(peak.held).toBeLessThanOrEqual(cap);
    figures.expectNoneLost('fairness', { atLeast: 4 });
  });
});
