import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';

// Two pool threads, room for two queued jobs, and one credit per new account.
it.override({ originOptions: { env: { QUEUE_LIMIT: '2', FREE_GRANT_CREDITS: '1' } } });

/** Holds a thread long enough for the requests that follow to see the queue full. */
const slow = { steps: 15, stepMs: 100 };
const quick = { steps: 1, stepMs: 0 };

describe('the queue bound', () => {
  it('refuses jobs past QUEUE_LIMIT with 503 overloaded and Retry-After, uncharged', async ({
    api,
  }) => {
    const signUp = () => api.signUp().then((u) => u.token);
    const [u1, u2, u3, u4, u5] = await Promise.all([
      signUp(),
      signUp(),
      signUp(),
      signUp(),
      signUp(),
    ]);
    const isRunning = (j: Job) => j.status === 'running';
    const r1 = await submitJob(api, u1, 'steps', slow);
    const r2 = await submitJob(api, u2, 'steps', slow);
    await api.waitForJob(u1, r1.id, isRunning);
    await api.waitForJob(u2, r2.id, isRunning);
    const q3 = await submitJob(api, u3, 'steps', quick);
    const q4 = await submitJob(api, u4, 'steps', quick);
    expect([q3.queuePosition, q4.queuePosition]).toEqual([1, 2]);

    const refused = await api.call('POST', '/v1/jobs', {
      token: u5,
      body: { model: 'steps', input: quick },
    });
    expectApiError(refused, 503, 'overloaded');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await creditsOf(api, u5)).toBe(1);

    const ended = await Promise.all([
      api.waitForJob(u1, r1.id),
      api.waitForJob(u2, r2.id),
      api.waitForJob(u3, q3.id),
      api.waitForJob(u4, q4.id),
    ]);
    expect(ended.map((j) => j.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    // Room again: the refused user gets in.
    await submitJob(api, u5, 'steps', { steps: 1, stepMs: 0 });
  });
});

describe('credits', () => {
  it('refuses a job beyond the balance with 402 insufficient_credits', async ({ api }) => {
    const { token } = await api.signUp();
    const first = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 });
    const second = await api.call('POST', '/v1/jobs', {
      token,
      body: { model: 'steps', input: { steps: 1, stepMs: 0 } },
    });
    expectApiError(second, 402, 'insufficient_credits');
    expect(second.body.error.details).toEqual({ balance: 0, cost: 1 });
    expect((await api.waitForJob(token, first.id)).status).toBe('succeeded');
    expect(await creditsOf(api, token)).toBe(0);
  });

  it('lets exactly one of 20 concurrent requests spend the last credit', async ({ api }) => {
    const { token } = await api.signUp();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        api.call<Job>('POST', '/v1/jobs', {
          token,
          body: { model: 'steps', input: { steps: 1, stepMs: 0 } },
        }),
      ),
    );
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 202)) {
      expectApiError(a, 402, 'insufficient_credits');
    }
    expect(await creditsOf(api, token)).toBe(0);
    const list = await api.call('GET', '/v1/jobs', { token });
    expect(list.body.data.map((j: Job) => j.id)).toEqual([accepted[0]?.body.id]);
  });

  it('gives a failed job its credit back, so it can be spent again', async ({ api }) => {
    const { token } = await api.signUp();
    const failing = await submitJob(api, token, 'steps', {
      steps: 1,
      stepMs: 0,
      fail: true,
    });
    expect((await api.waitForJob(token, failing.id)).status).toBe('failed');
    expect(await creditsOf(api, token)).toBe(1);
    await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 });
    expect(await creditsOf(api, token)).toBe(0);
  });
});
