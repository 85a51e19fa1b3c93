import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { apiClient } from '../helpers/api.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it, type OriginLauncher } from '../helpers/fixtures.ts';
import type { OriginProcess, StartOptions } from '../helpers/origin-process.ts';
import { fixtureModels } from '../helpers/paths.ts';

const isRunning = (j: Job) => j.status === 'running';

/** Starts an origin on `dataDir`: SIGKILLed, if still alive, when the test ends. */
async function start(origins: OriginLauncher, dataDir: string, options: StartOptions = {}) {
  const origin = await origins.start({ ...options, dataDir });
  return { origin, api: apiClient(origin.url) };
}

/**
 * A model folder holding only the `steps` fixture, whose warm-up takes `warmupMs`: an
 * origin on it stays `starting` that long, deterministically.
 */
function slowWarmupModels(origins: OriginLauncher, warmupMs: number): string {
  const root = origins.dataDir();
  const dir = join(root, 'steps');
  cpSync(join(fixtureModels, 'steps'), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  manifest.warmup = { steps: 1, stepMs: warmupMs };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return root;
}

async function kill(origin: OriginProcess): Promise<void> {
  await origin.kill('SIGKILL');
  expect(origin.child.signalCode).toBe('SIGKILL');
}

describe('an origin killed mid-job', () => {
  it('re-queues the running jobs on restart; every job then succeeds with a readable output', async ({
    origins,
  }) => {
    const dataDir = origins.dataDir();
    const first = await start(origins, dataDir);
    const { token } = await first.api.signUp();
    const input = { steps: 10, stepMs: 100 };
    const jobs: Job[] = [];
    for (let i = 0; i < 4; i++) jobs.push(await submitJob(first.api, token, 'steps', input));
    const [a, b, c, d] = jobs as [Job, Job, Job, Job];
    await first.api.waitForJob(token, a.id, isRunning);
    await first.api.waitForJob(token, b.id, isRunning);
    expect((await first.api.call<Job>('GET', `/v1/jobs/${c.id}`, { token })).body.status).toBe(
      'queued',
    );
    await kill(first.origin);
    const killedAt = Date.now();

    const second = await start(origins, dataDir);
    // The session token outlives the restart (the secret is kept in the data directory).
    for (const job of [a, b, c, d]) {
      const ended = await second.api.waitForJob(token, job.id);
      expect(ended).toMatchObject({ status: 'succeeded', error: null, progress: 1 });
      // Every job, the interrupted ones included, ran (again) after the restart.
      expect(Date.parse(ended.startedAt ?? '')).toBeGreaterThanOrEqual(killedAt);
      const output = await second.api.call('GET', `/v1/jobs/${job.id}/output`, { token });
      expect(output.status).toBe(200);
      expect(output.text).toBe('done 10 steps\n');
    }
    expect(await creditsOf(second.api, token)).toBe(16);
  });

  it('with MAX_ATTEMPTS=1, fails the interrupted job as interrupted and refunds it once', async ({
    origins,
  }) => {
    const dataDir = origins.dataDir();
    const env = { MAX_ATTEMPTS: '1' };
    const first = await start(origins, dataDir, { env });
    const { token } = await first.api.signUp();
    const running = await submitJob(first.api, token, 'steps', { steps: 100, stepMs: 100 });
    await first.api.waitForJob(token, running.id, isRunning);
    const done = await submitJob(first.api, token, 'steps', { steps: 1, stepMs: 0 });
    expect((await first.api.waitForJob(token, done.id)).status).toBe('succeeded');
    expect(await creditsOf(first.api, token)).toBe(18);
    await kill(first.origin);

    const second = await start(origins, dataDir, { env });
    const ended = await second.api.waitForJob(token, running.id);
    expect(ended).toMatchObject({ status: 'failed', output: null, error: { code: 'interrupted' } });
    expect((await second.api.call<Job>('GET', `/v1/jobs/${done.id}`, { token })).body.status).toBe(
      'succeeded',
    );
    expect(await creditsOf(second.api, token)).toBe(19);
  });
});

describe('an origin whose models are still warming up', () => {
  it('answers health 503 starting and jobs 503 not_ready, then accepts jobs once ready', async ({
    origins,
  }) => {
    const dataDir = origins.dataDir();
    const { api } = await start(origins, dataDir, {
      env: { MODEL_DIR: slowWarmupModels(origins, 3_000) },
      waitReady: false,
    });
    const health = await api.call('GET', '/v1/health');
    expect(health.status).toBe(503);
    expect(health.headers.get('retry-after')).toBeTruthy();
    expect(health.body).toMatchObject({
      status: 'starting',
      modelsLoaded: false,
      device: expect.any(String),
      queueLength: 0,
      activeJobs: 0,
      version: expect.any(String),
    });
    const models = await api.call('GET', '/v1/models');
    expect(models.body.data).toMatchObject([{ id: 'steps', ready: false }]);

    // Accounts work while the models load; jobs wait for them.
    const { token } = await api.signUp();
    const refused = await api.call('POST', '/v1/jobs', {
      token,
      body: { model: 'steps', input: { steps: 1, stepMs: 0 } },
    });
    expectApiError(refused, 503, 'not_ready');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await creditsOf(api, token)).toBe(20);

    const deadline = Date.now() + 20_000;
    while ((await api.call('GET', '/v1/health')).status !== 200 && Date.now() < deadline) {
      await sleep(50);
    }
    const job = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 });
    expect((await api.waitForJob(token, job.id)).status).toBe('succeeded');
  });
});
