import { describe, expect } from 'vitest';
import { OvertureClient } from '../../shared/client.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import {
  type ModelStats,
  type StatsAnswer,
  statsAnswerSchema,
} from '../../shared/schemas/stats.ts';
import { runAdmin } from '../helpers/admin-command.ts';
import type { Api } from '../helpers/api.ts';
import { expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';

// Only the `steps` fixture model: nothing here needs the ONNX model's warm-up.
it.override({ originOptions: { env: { MODEL_DIR: fixtureModels } } });

const quick = { steps: 1, stepMs: 0 };

describe('GET /v1/stats on a real origin', () => {
  let a: { token: string };
  let b: { token: string };
  let admin: { email: string; token: string };

  /** The answer for `query`, checked against its schema; the `steps` model's entry. */
  async function stepsStats(
    api: Api,
    token: string,
    query: string,
  ): Promise<ModelStats | undefined> {
    const res = await api.call<StatsAnswer>('GET', `/v1/stats?${query}`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return statsAnswerSchema.parse(res.body).data.find((m) => m.model === 'steps');
  }

  it.beforeAll(async ({ api, origin }) => {
    [a, b, admin] = await Promise.all([api.signUp(), api.signUp(), api.signUp()]);
    const granted = await runAdmin(['grant', admin.email], { DATA_DIR: origin.dataDir });
    expect(granted.code, granted.stderr).toBe(0);
    const long = await submitJob(api, a.token, 'steps', { steps: 200, stepMs: 50 });
    const canceled = await api.call<Job>('POST', `/v1/jobs/${long.id}/cancel`, { token: a.token });
    expect(canceled.body.status).toBe('canceled');
    const jobs = [
      await submitJob(api, a.token, 'steps', quick),
      await submitJob(api, a.token, 'steps', quick),
      await submitJob(api, a.token, 'steps', { ...quick, fail: true }),
    ];
    const ofB = await submitJob(api, b.token, 'steps', quick);
    const ended = await Promise.all([
      ...jobs.map((j) => api.waitForJob(a.token, j.id)),
      api.waitForJob(b.token, ofB.id),
    ]);
    expect(ended.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'failed', 'succeeded']);
  });

  it("summarises the caller's own jobs: 2 succeeded, 1 failed, 1 canceled", async ({ api }) => {
    const steps = await stepsStats(api, a.token, 'window=1h');
    // Opportunities: 2 + 1 = 3 (the canceled job is not one). successRate 2/3;
    // dpmo = 1/3 · 1e6 = 333,333.33; sigma = 1.5 − NORMSINV(1/3) = 1.5 + 0.43073 = 1.93.
    expect(steps).toMatchObject({
      jobs: 4,
      succeeded: 2,
      failed: 1,
      canceled: 1,
      open: 0,
      failedByCode: { model_error: 1 },
      sigma: 1.93,
    });
    expect(steps?.successRate).toBeCloseTo(2 / 3, 10);
    expect(steps?.dpmo).toBeCloseTo(333_333.33, 1);
    // Runs of the 3 jobs that succeeded or failed; waits of those and maybe the canceled one.
    expect(steps?.runTimeMs.samples).toBe(3);
    expect(steps?.runTimeMs.p50).toBeGreaterThanOrEqual(0);
    expect(steps?.queueWaitMs.samples).toBeGreaterThanOrEqual(3);
    expect(steps?.queueWaitMs.p99).toBeGreaterThanOrEqual(steps?.queueWaitMs.p50 ?? 0);
  });

  it('is what the typed client answers, errors included', async ({ api, origin }) => {
    const client = new OvertureClient({ baseUrl: origin.url, token: a.token });
    const answer = await client.stats({ window: '1h' });
    expect(answer.data.find((m) => m.model === 'steps')).toEqual(
      await stepsStats(api, a.token, 'window=1h'),
    );
    await expect(client.stats({ scope: 'all' })).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
    });
  });

  it('shows another user only their own jobs', async ({ api }) => {
    expect(await stepsStats(api, b.token, 'window=24h')).toMatchObject({
      jobs: 1,
      succeeded: 1,
      failed: 0,
      successRate: 1,
      dpmo: 0,
      sigma: 6,
    });
    // The administrator ran no job: nothing of their own.
    expect(await stepsStats(api, admin.token, 'window=24h&scope=own')).toBeUndefined();
  });

  it('answers every user’s jobs to an administrator, with scope=all', async ({ api }) => {
    const steps = await stepsStats(api, admin.token, 'window=90d&scope=all');
    // A's 4 and B's 1: 3 succeeded, 1 failed → dpmo 250,000; sigma = 1.5 − NORMSINV(0.25)
    // = 1.5 + 0.67449 = 2.17.
    expect(steps).toMatchObject({ jobs: 5, succeeded: 3, failed: 1, canceled: 1, sigma: 2.17 });
    expect(steps?.dpmo).toBe(250_000);
  });

  it('refuses scope=all to other accounts (403 forbidden), and anonymous callers (401)', async ({
    api,
  }) => {
    expectApiError(
      await api.call('GET', '/v1/stats?scope=all', { token: a.token }),
      403,
      'forbidden',
    );
    expectApiError(await api.call('GET', '/v1/stats'), 401, 'unauthorized');
  });

  it.for([
    ['window=0h'],
    ['window=91d'],
    ['window=2y'],
    ['window=24'],
    ['window=1.5h'],
    ['window=-1h'],
    ['window='],
    ['scope=everyone'],
    ['since=1h'],
  ])('answers 400 invalid_request to %s', async ([query], { api }) => {
    const res = await api.call('GET', `/v1/stats?${query}`, { token: a.token });
    expectApiError(res, 400, 'invalid_request');
    expect(res.body.error.details).toEqual(expect.any(Array));
  });
});
