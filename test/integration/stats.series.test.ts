/**
 * `GET /v1/stats` with buckets on a real origin, and the admin flag of `GET /v1/me`: real jobs
 * (succeeded, failed, canceled) through the HTTP API, their series summing to the window, the
 * load now naming this origin, and the query's bounds answered 400 with zod's issues.
 */
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import {
  maxStatsBuckets,
  type StatsAnswer,
  statsAnswerSchema,
} from '../../shared/schemas/stats.ts';
import { runAdmin } from '../helpers/admin-command.ts';
import { expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';

// Only the `steps` fixture model: nothing here needs the ONNX model's warm-up.
it.override({ originOptions: { env: { MODEL_DIR: fixtureModels } } });

const quick = { steps: 1, stepMs: 0 };

describe('GET /v1/stats?bucket= on a real origin', () => {
  let user: { token: string };
  let admin: { email: string; token: string };

  it.beforeAll(async ({ api, origin }) => {
    [user, admin] = await Promise.all([api.signUp(), api.signUp()]);
    const granted = await runAdmin(['grant', admin.email], { DATA_DIR: origin.dataDir });
    expect(granted.code, granted.stderr).toBe(0);
    const long = await submitJob(api, user.token, 'steps', { steps: 200, stepMs: 50 });
    const canceled = await api.call<Job>('POST', `/v1/jobs/${long.id}/cancel`, {
      token: user.token,
    });
    expect(canceled.body.status).toBe('canceled');
    const jobs = [
      await submitJob(api, user.token, 'steps', quick),
      await submitJob(api, user.token, 'steps', quick),
      await submitJob(api, user.token, 'steps', { ...quick, fail: true }),
    ];
    const ended = await Promise.all(jobs.map((j) => api.waitForJob(user.token, j.id)));
    expect(ended.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'failed']);
  });

  it('tells the page who is an administrator (GET /v1/me admin)', async ({ api }) => {
    expect((await api.call('GET', '/v1/me', { token: user.token })).body.admin).toBe(false);
    expect((await api.call('GET', '/v1/me', { token: admin.token })).body.admin).toBe(true);
  });

  it('answers every bucket of the window, which add up to the window, with the load and credits', async ({
    api,
  }) => {
    const res = await api.call<StatsAnswer>('GET', '/v1/stats?window=1h&scope=all&bucket=auto', {
      token: admin.token,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const answer = statsAnswerSchema.parse(res.body);
    expect(answer).toMatchObject({ bucket: '1m', bucketMs: 60_000 });
    const series = answer.overall.series ?? [];
    expect(series.length).toBe(61);
    const sum = (key: 'jobs' | 'succeeded' | 'failed' | 'canceled') =>
      series.reduce((n, b) => n + b[key], 0);
    expect({
      jobs: sum('jobs'),
      succeeded: sum('succeeded'),
      failed: sum('failed'),
      canceled: sum('canceled'),
    }).toEqual({ jobs: 4, succeeded: 2, failed: 1, canceled: 1 });
    expect(answer.overall).toMatchObject({ jobs: 4, succeeded: 2, failed: 1, canceled: 1 });
    // Buckets are consecutive minutes, oldest first, the window inside them.
    const starts = series.map((b) => Date.parse(b.start));
    expect(starts.slice(1).map((t, i) => t - (starts[i] ?? 0))).toEqual(Array(60).fill(60_000));
    expect(starts[0]).toBeLessThanOrEqual(Date.parse(answer.from));
    expect((starts.at(-1) ?? 0) + 60_000).toBeGreaterThan(Date.parse(answer.to));
    // Credits: two signup grants of 20, four jobs debited, the failed and the canceled refunded.
    expect(answer.credits).toMatchObject({ granted: 40, spent: 4, refunded: 2, net: 38 });
    expect((answer.credits.series ?? []).reduce((n, b) => n + b.net, 0)).toBe(38);
    // Nothing runs now; this origin is listed with none.
    const { originId } = (await api.call('GET', '/v1/health')).body;
    expect(answer.now).toMatchObject({
      queued: 0,
      running: 0,
      origins: [{ originId, running: 0 }],
    });
  });

  it("gives a user their own series, without the load, and never another's", async ({ api }) => {
    const own = await api.call<StatsAnswer>('GET', '/v1/stats?window=24h&bucket=1h', {
      token: user.token,
    });
    expect(own.status).toBe(200);
    expect(own.body.overall).toMatchObject({ jobs: 4 });
    expect(own.body.now).toBeUndefined();
    expect(own.body.credits).toMatchObject({ granted: 20, spent: 4, refunded: 2 });
    const ofAdmin = await api.call<StatsAnswer>('GET', '/v1/stats?window=24h&bucket=1h', {
      token: admin.token,
    });
    expect(ofAdmin.body.overall.jobs).toBe(0);
    expect(ofAdmin.body.data).toEqual([]);
  });

  it('answers without `bucket` as before: no series', async ({ api }) => {
    const res = await api.call<StatsAnswer>('GET', '/v1/stats?window=1h', { token: user.token });
    expect(res.body.bucket).toBeUndefined();
    expect(res.body.data[0]?.series).toBeUndefined();
    expect(res.body.overall.series).toBeUndefined();
    expect(res.body.credits.series).toBeUndefined();
  });

  it('refuses scope=all with buckets to a user who is no administrator (403 forbidden)', async ({
    api,
  }) => {
    expectApiError(
      await api.call('GET', '/v1/stats?scope=all&bucket=auto', { token: user.token }),
      403,
      'forbidden',
    );
  });

  it.for([
    ['window=90d&bucket=1h', `at most ${maxStatsBuckets} buckets`],
    ['window=1h&bucket=2h', 'no longer than the window'],
    ['window=1h&bucket=30s', 'a number and a unit'],
    ['window=1h&bucket=', 'a number and a unit'],
    ['bucket=auto&bucket=1h', ''],
  ])('answers 400 invalid_request to %s, naming the bucket', async ([query, says], { api }) => {
    const res = await api.call('GET', `/v1/stats?${query}`, { token: admin.token });
    expectApiError(res, 400, 'invalid_request');
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: 'bucket',
          message: expect.stringContaining(says ?? ''),
        }),
      ]),
    );
  });
});
