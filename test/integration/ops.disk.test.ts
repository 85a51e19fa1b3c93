/**
 * The disk guard on real origin processes: a data directory's file system below a
 * threshold refuses new jobs (503 `disk_full`) and makes health say `degraded`; reads and
 * accounts keep working and nothing is debited.
 */
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect } from 'vitest';
import { apiClient } from '../helpers/api.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { test } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';

const quick = { steps: 1, stepMs: 0 };
const base = { MODEL_DIR: fixtureModels, POOL_THREADS: '1' };

/** The two origins of this file, as clients. */
const it = test
  .extend('fullApi', { scope: 'file' }, async ({ fileOrigins }) => {
    // Always "full": no file system has 100% free.
    const full = await fileOrigins.start({ env: { ...base, DISK_MIN_FREE_PERCENT: '100' } });
    return apiClient(full.url);
  })
  .extend('roomyApi', { scope: 'file' }, async ({ fileOrigins }) => {
    // Thresholds at half of what is free now.
    const fs = statfsSync(tmpdir());
    const roomy = await fileOrigins.start({
      env: {
        ...base,
        DISK_MIN_FREE_BYTES: String(Math.floor((fs.bavail * fs.bsize) / 2)),
        DISK_MIN_FREE_PERCENT: String(Math.floor((fs.bavail / fs.blocks) * 50)),
      },
    });
    return apiClient(roomy.url);
  });

describe('a data directory below the free-space threshold', () => {
  it('answers health 200 degraded with disk.low', async ({ fullApi: api }) => {
    const health = await api.call('GET', '/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'degraded',
      modelsLoaded: true,
      stopping: false,
      disk: { low: true, freeBytes: expect.any(Number), freePercent: expect.any(Number) },
    });
    expect(health.body.disk.freeBytes).toBeGreaterThan(0);
    expect(health.body.disk.freePercent).toBeLessThan(100);
  });

  it('refuses new jobs with 503 disk_full and Retry-After, and debits nothing', async ({
    fullApi: api,
  }) => {
    const user = await api.signUp();
    const refused = await api.call('POST', '/v1/jobs', {
      token: user.token,
      body: { model: 'steps', input: quick },
      headers: { 'idempotency-key': 'disk-full-1' },
    });
    expectApiError(refused, 503, 'disk_full');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    expect(await creditsOf(api, user.token)).toBe(20);
    const ledger = await api.call('GET', '/v1/billing/ledger', { token: user.token });
    expect(ledger.body.data.map((e: { reason: string }) => e.reason)).toEqual(['grant']);
    const jobs = await api.call('GET', '/v1/jobs', { token: user.token });
    expect(jobs.status).toBe(200);
    expect(jobs.body.data).toEqual([]);
    expect((await api.call('GET', '/v1/models')).status).toBe(200);
  });
});

describe('a data directory with room to spare', () => {
  it('is healthy and accepts jobs', async ({ roomyApi: api }) => {
    const health = await api.call('GET', '/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'healthy', disk: { low: false } });
    const user = await api.signUp();
    const job = await submitJob(api, user.token, 'steps', quick);
    expect((await api.waitForJob(user.token, job.id)).status).toBe('succeeded');
    expect(await creditsOf(api, user.token)).toBe(19);
  });
});
