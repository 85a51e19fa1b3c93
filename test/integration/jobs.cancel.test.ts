import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { type Api, apiClient } from '../helpers/api.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { test } from '../helpers/fixtures.ts';

/** How long a stopped task may keep its thread in the main origin of this file. */
const abortGraceMs = 1_000;
const jobTimeoutMs = 400;

const it = test.extend('timingApi', { scope: 'file' }, async ({ fileOrigins }) => {
  /** A second origin whose jobs time out quickly. */
  const timing = await fileOrigins.start({ env: { JOB_TIMEOUT_MS: String(jobTimeoutMs) } });
  return apiClient(timing.url);
});
it.override({ originOptions: { env: { ABORT_GRACE_MS: String(abortGraceMs) } } });

const isRunning = (j: Job) => j.status === 'running';

async function cancel(api: Api, token: string, jobId: string) {
  return api.call<Job>('POST', `/v1/jobs/${jobId}/cancel`, { token });
}

/** Two slow jobs that hold both pool threads until canceled. */
async function occupyThreads(api: Api, token: string): Promise<Job[]> {
  const blockers = [
    await submitJob(api, token, 'steps', { steps: 200, stepMs: 50 }),
    await submitJob(api, token, 'steps', { steps: 200, stepMs: 50 }),
  ];
  for (const b of blockers) await api.waitForJob(token, b.id, isRunning);
  return blockers;
}

describe('canceling a queued job', () => {
  it('cancels at once, refunds it, and it never runs', async ({ api }) => {
    const { token } = await api.signUp();
    const blockers = await occupyThreads(api, token);
    const queued = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 });
    expect(await creditsOf(api, token)).toBe(17);

    const res = await cancel(api, token, queued.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: queued.id, status: 'canceled', startedAt: null });
    expect(res.body.finishedAt).not.toBeNull();
    expect(await creditsOf(api, token)).toBe(18);

    for (const b of blockers) expect((await cancel(api, token, b.id)).body.status).toBe('canceled');
    // Both threads free up at the blockers' next step; a job queued after them still runs.
    const after = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 });
    expect((await api.waitForJob(token, after.id)).status).toBe('succeeded');
    const again = await api.call<Job>('GET', `/v1/jobs/${queued.id}`, { token });
    expect(again.body).toMatchObject({ status: 'canceled', startedAt: null, output: null });
    expect(await creditsOf(api, token)).toBe(19);
  });
});

describe('canceling a running job', () => {
  it('cancels it, discards the late result of a worker that finishes anyway, refunds once', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    // The worker ignores the abort and returns a result well within the grace period.
    const input = { steps: 3, stepMs: 100, ignoreAbort: true };
    const job = await submitJob(api, token, 'steps', input);
    await api.waitForJob(token, job.id, isRunning);

    const res = await cancel(api, token, job.id);
    expect(res.body).toMatchObject({ status: 'canceled', output: null });
    expect(await creditsOf(api, token)).toBe(20);

    await sleep(input.steps * input.stepMs + 500);
    const later = await api.call<Job>('GET', `/v1/jobs/${job.id}`, { token });
    expect(later.body).toMatchObject({ status: 'canceled', output: null, error: null });
    expect(later.body.seq).toBe(res.body.seq);
    expectApiError(await api.call('GET', `/v1/jobs/${job.id}/output`, { token }), 409, 'conflict');
    expect(await creditsOf(api, token)).toBe(20);
  });

  it('answers the same canceled job to a second cancel, without a second refund', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const job = await submitJob(api, token, 'steps', { steps: 100, stepMs: 50 });
    await api.waitForJob(token, job.id, isRunning);
    const first = await cancel(api, token, job.id);
    const second = await cancel(api, token, job.id);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await creditsOf(api, token)).toBe(20);
  });

  it('ends a job whose worker ignores the abort at once, and frees its thread after the grace', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const stuck = await submitJob(api, token, 'steps', {
      steps: 600,
      stepMs: 100,
      ignoreAbort: true,
    });
    await api.waitForJob(token, stuck.id, isRunning);
    const res = await cancel(api, token, stuck.id);
    expect(res.body.status).toBe('canceled');
    expect(await creditsOf(api, token)).toBe(20);

    // Once the stuck thread is replaced, two jobs run side by side again.
    await sleep(abortGraceMs + 500);
    const pair = [
      await submitJob(api, token, 'steps', { steps: 5, stepMs: 100 }),
      await submitJob(api, token, 'steps', { steps: 5, stepMs: 100 }),
    ];
    const [a, b] = await Promise.all(pair.map((j) => api.waitForJob(token, j.id)));
    expect(a?.status).toBe('succeeded');
    expect(b?.status).toBe('succeeded');
    const time = (iso: string | null | undefined) => Date.parse(iso ?? '');
    expect(time(b?.startedAt)).toBeLessThan(time(a?.finishedAt));
  });
});

describe('canceling an ended job', () => {
  it('is a 409 conflict once the job succeeded', async ({ api }) => {
    const { token } = await api.signUp();
    const job = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 });
    expect((await api.waitForJob(token, job.id)).status).toBe('succeeded');
    expectApiError(await cancel(api, token, job.id), 409, 'conflict');
    const now = await api.call<Job>('GET', `/v1/jobs/${job.id}`, { token });
    expect(now.body.status).toBe('succeeded');
    expect(await creditsOf(api, token)).toBe(19);
  });
});

describe('jobs that fail', () => {
  it('time out: failed with code timeout, refunded', async ({ timingApi }) => {
    const { token } = await timingApi.signUp();
    const job = await submitJob(timingApi, token, 'steps', { steps: 100, stepMs: 100 });
    const ended = await timingApi.waitForJob(token, job.id);
    expect(ended).toMatchObject({ status: 'failed', output: null, error: { code: 'timeout' } });
    expect(ended.error?.message).toContain(String(jobTimeoutMs));
    expect(await creditsOf(timingApi, token)).toBe(20);
  });

  it('fail in the model: failed with code model_error, refunded', async ({ api, origin }) => {
    const { token } = await api.signUp();
    const job = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0, fail: true });
    const ended = await api.waitForJob(token, job.id);
    expect(ended).toMatchObject({ status: 'failed', output: null, error: { code: 'model_error' } });
    // The model's own words are for the operator's log, not for the client.
    expect(ended.error?.message).not.toContain('fixture failure');
    expect(origin.output()).toContain('fixture failure on request');
    expect(await creditsOf(api, token)).toBe(20);
    expectApiError(await api.call('GET', `/v1/jobs/${job.id}/output`, { token }), 409, 'conflict');
  });

  it('answer garbage: failed with code invalid_output, refunded', async ({ api }) => {
    const { token } = await api.signUp();
    const job = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0, garbage: true });
    const ended = await api.waitForJob(token, job.id);
    expect(ended).toMatchObject({
      status: 'failed',
      output: null,
      error: { code: 'invalid_output' },
    });
    expect(await creditsOf(api, token)).toBe(20);
  });
});
