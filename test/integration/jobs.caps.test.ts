/**
 * Per-user caps and deadlines through a real origin (one pool thread, a fast sweep): past
 * the cap a user hears 429 `too_many_jobs` (never the box's 503), a job canceled while it
 * runs counts until its task has left the thread, and a job still queued at its deadline
 * ends canceled `deadline_exceeded`, refunded.
 */
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';

it.override({
  originOptions: {
    env: {
      POOL_THREADS: '1',
      USER_JOB_LIMIT: '3',
      FREE_GRANT_CREDITS: '20',
      LEASE_SWEEP_MS: '100',
      ABORT_GRACE_MS: '5000',
    },
  },
});

/** Holds the thread about 2 s, and does not stop for a cancel. */
const stubborn = { steps: 10, stepMs: 200, ignoreAbort: true };
/** Holds it about 4 s: long after a 1 s Cancel-After, however slow the machine. */
const blocker = { steps: 20, stepMs: 200, ignoreAbort: true };
const quick = { steps: 1, stepMs: 0 };
/** About a second each: three of them outlast the requests that follow. */
const slow = { steps: 10, stepMs: 100 };

const post = (api: Parameters<typeof submitJob>[0], token: string, body: object, headers = {}) =>
  api.call<Job>('POST', '/v1/jobs', { token, body, headers });

describe('the per-user cap', () => {
  it('answers 429 too_many_jobs with Retry-After past it, uncharged; another user is served', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    // One holds the thread, two wait behind it: three jobs, none ends meanwhile.
    const jobs = [];
    for (let i = 0; i < 3; i++) jobs.push(await submitJob(api, token, 'steps', slow));
    const refused = await post(api, token, { model: 'steps', input: quick });
    expectApiError(refused, 429, 'too_many_jobs');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body).toMatchObject({ error: { details: { jobs: 3, limit: 3 } } });
    expect(await creditsOf(api, token)).toBe(17);
    const other = (await api.signUp()).token;
    await submitJob(api, other, 'steps', quick);
    for (const job of jobs) await api.waitForJob(token, job.id);
    await submitJob(api, token, 'steps', quick);
  });

  it('counts a job canceled while running until its task has left the thread', async ({ api }) => {
    const { token } = await api.signUp();
    const running = await submitJob(api, token, 'steps', stubborn);
    await api.waitForJob(token, running.id, (j) => j.status === 'running');
    await submitJob(api, token, 'steps', quick);
    await submitJob(api, token, 'steps', quick);
    const canceled = await api.call<Job>('POST', `/v1/jobs/${running.id}/cancel`, { token });
    expect(canceled.body.status).toBe('canceled');
    // Canceled and refunded, but its task still holds the thread: still counted.
    expectApiError(await post(api, token, { model: 'steps', input: quick }), 429, 'too_many_jobs');
    // Once the task ended (about two seconds after it started), the slot is free.
    const deadline = Date.now() + 10_000;
    let answer = await post(api, token, { model: 'steps', input: quick });
    while (answer.status === 429 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      answer = await post(api, token, { model: 'steps', input: quick });
    }
    expect(answer.status).toBe(202);
    const freedAfter = Date.now() - Date.parse(canceled.body.finishedAt ?? '');
    expect(freedAfter).toBeGreaterThan(300);
  });
});

describe('deadlines', () => {
  it('cancels a job still queued at its deadline, deadline_exceeded, refunded; the running one runs on', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    // Started long before its deadline, which passes while it runs.
    const soon = new Date(Date.now() + 1_500).toISOString();
    const running = await post(api, token, { model: 'steps', input: blocker, deadline: soon });
    expect(running.status).toBe(202);
    expect(running.body.deadline).toBe(soon);
    await api.waitForJob(token, running.body.id, (j) => j.status === 'running');
    const waiting = await post(
      api,
      token,
      { model: 'steps', input: quick },
      { 'cancel-after': '1s' },
    );
    expect(waiting.status).toBe(202);
    expect(waiting.body.status).toBe('queued');
    const ended = await api.waitForJob(token, waiting.body.id);
    expect(ended.status).toBe('canceled');
    expect(ended.error?.code).toBe('deadline_exceeded');
    expect(ended.startedAt).toBeNull();
    expect(Date.parse(ended.finishedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(waiting.body.createdAt) + 1_000,
    );
    expect((await api.waitForJob(token, running.body.id)).status).toBe('succeeded');
    // The canceled job's credit came back; the one that ran was charged.
    expect(await creditsOf(api, token)).toBe(19);
  });

  it('takes the deadline as part of the request: the same Idempotency-Key with another is a 409', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const body = { model: 'steps', input: quick };
    const key = { 'idempotency-key': 'with-a-deadline' };
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    const first = await post(api, token, { ...body, deadline: at(60_000) }, key);
    expect(first.status).toBe(202);
    const other = await post(api, token, { ...body, deadline: at(120_000) }, key);
    expectApiError(other, 409, 'conflict');
    const again = await post(api, token, { ...body, deadline: first.body.deadline }, key);
    expect([again.status, again.body.id]).toEqual([200, first.body.id]);
    expect(await creditsOf(api, token)).toBe(19);
  });

  it('answers a retry made after the deadline passed with the job it created, not a 400', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const body = {
      model: 'steps',
      input: quick,
      deadline: new Date(Date.now() + 1_000).toISOString(),
    };
    const key = { 'idempotency-key': 'retried-late' };
    const first = await post(api, token, body, key);
    expect(first.status).toBe(202);
    await api.waitForJob(token, first.body.id);
    await new Promise((r) =>
      setTimeout(r, 1_100 - (Date.now() - Date.parse(first.body.createdAt))),
    );
    const retry = await post(api, token, body, key);
    expect([retry.status, retry.body.id]).toEqual([200, first.body.id]);
    // A new request with that deadline, now past, is refused.
    expectApiError(await post(api, token, body), 400, 'invalid_request');
    expect(await creditsOf(api, token)).toBe(19);
  });

  it('refuses a bad deadline with 400 invalid_request, charging nothing', async ({ api }) => {
    const { token } = await api.signUp();
    const body = { model: 'steps', input: quick };
    const past = new Date(Date.now() - 1_000).toISOString();
    expectApiError(await post(api, token, { ...body, deadline: past }), 400, 'invalid_request');
    expectApiError(
      await post(api, token, { ...body, deadline: 'tomorrow' }),
      400,
      'invalid_request',
    );
    for (const bad of ['soon', '5', '0s', '500ms', '169h', '1m1h']) {
      expectApiError(await post(api, token, body, { 'cancel-after': bad }), 400, 'invalid_request');
    }
    const later = new Date(Date.now() + 60_000).toISOString();
    expectApiError(
      await post(api, token, { ...body, deadline: later }, { 'cancel-after': '5m' }),
      400,
      'invalid_request',
    );
    expect(await creditsOf(api, token)).toBe(20);
  });
});
