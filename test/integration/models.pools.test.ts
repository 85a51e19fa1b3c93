/**
 * A pool per model through a real origin: each model's pool settings from MODELS_FILE over
 * the defaults, reported per model by `/v1/models` and `/v1/health`; a model that loads
 * slowly refuses only its own jobs (503 `not_ready`) while the others serve; and deployments
 * that cannot run (over MODEL_MEMORY_BUDGET, more inference threads than cores, a bad
 * MODELS_FILE) refused at start with a message naming the models and the figures.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Health } from '../../shared/schemas/health.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import type { ModelList } from '../../shared/schemas/models.ts';
import { apiClient } from '../helpers/api.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { jsModel } from '../helpers/model-folders.ts';
import { testModelDir } from '../helpers/origin-process.ts';

/** A model whose warm-up (its load) takes `ms`; its jobs answer at once. */
const slowLoading = (ms: number) => `
  import { setTimeout as sleep } from 'node:timers/promises';
  export default {
    async run(input) {
      if (input.markers === 'warm-up') await sleep(${ms});
      return { bytes: new TextEncoder().encode('loaded at last') };
    },
  };`;

const deploymentFile = (dir: string, models: Record<string, unknown>) => {
  const file = join(dir, 'models.json');
  writeFileSync(file, JSON.stringify({ models }));
  return file;
};

describe('a pool per model', () => {
  it('gives each model the threads MODELS_FILE says, and reports each pool', async ({
    origins,
  }) => {
    const dir = origins.dataDir();
    const origin = await origins.start({
      env: {
        MODELS_FILE: deploymentFile(dir, {
          steps: { threads: 3 },
          'tone-diffusion': { threads: 1, intraOpThreads: 1 },
        }),
      },
    });
    const api = apiClient(origin.url);
    const models = await api.call<ModelList>('GET', '/v1/models');
    const pools = Object.fromEntries(models.body.data.map((m) => [m.id, m.pool]));
    expect(pools.steps).toMatchObject({ status: 'ready', threads: 3, device: 'cpu' });
    expect(pools['tone-diffusion']).toMatchObject({
      status: 'ready',
      threads: 1,
      intraOpThreads: 1,
      device: 'cpu',
      memory: { estimatedFrom: 'files' },
    });
    expect(pools['tone-diffusion']?.memory.measuredBytes).toBeGreaterThan(0);
    const health = await api.call<Health>('GET', '/v1/health');
    expect(health.body.modelsLoaded).toBe(true);
    expect(health.body.models.map((m) => [m.id, m.threads]).sort()).toEqual([
      ['steps', 3],
      ['tone-diffusion', 1],
    ]);
    // The three steps threads run three jobs at once.
    const { token } = await api.signUp();
    const jobs = await Promise.all(
      [1, 2, 3].map(() => submitJob(api, token, 'steps', { steps: 8, stepMs: 100 })),
    );
    const running = async () =>
      (
        await Promise.all(jobs.map((j) => api.call<Job>('GET', `/v1/jobs/${j.id}`, { token })))
      ).filter((r) => r.body.status === 'running').length;
    let most = 0;
    for (let i = 0; i < 40 && most < 3; i++) {
      most = Math.max(most, await running());
      await sleep(25);
    }
    expect(most).toBe(3);
  });

  it('serves the models that are loaded while one still loads, refusing only its jobs', async ({
    origins,
  }) => {
    const dir = origins.dataDir();
    const models = join(dir, 'models');
    jsModel(models, 'slow-load', slowLoading(4_000), { markers: 'warm-up' }, { cost: 1 });
    const origin = await origins.start({
      waitReady: false,
      env: { MODEL_DIR: `${models}:${testModelDir}` },
    });
    const api = apiClient(origin.url);
    let health = await api.call<Health>('GET', '/v1/health');
    for (let i = 0; i < 400 && health.status !== 200; i++) {
      await sleep(25);
      health = await api.call<Health>('GET', '/v1/health');
    }
    // Ready for the models that loaded: the origin serves (200), saying which one is not.
    expect(health.status).toBe(200);
    const byId = Object.fromEntries(health.body.models.map((m) => [m.id, m]));
    expect(byId['slow-load']?.status).toBe('loading');
    expect(byId.steps?.status).toBe('ready');
    expect(health.body.modelsLoaded).toBe(false);

    const { token } = await api.signUp();
    const refused = await api.call('POST', '/v1/jobs', {
      token,
      body: { model: 'slow-load', input: {} },
    });
    expectApiError(refused, 503, 'not_ready');
    expect(refused.body).toMatchObject({
      error: {
        details: [{ path: 'model', message: expect.stringMatching(/^loading for \d+ s$/) }],
      },
    });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const listed = await api.call<ModelList>('GET', '/v1/models');
    expect(listed.body.data.find((m) => m.id === 'slow-load')).toMatchObject({
      ready: false,
      pool: { status: 'loading' },
    });

    // Another model's job, meanwhile: accepted and done.
    const quick = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 });
    expect((await api.waitForJob(token, quick.id)).status).toBe('succeeded');
    expect((await api.call<Health>('GET', '/v1/health')).body.models).toContainEqual(
      expect.objectContaining({ id: 'slow-load', status: 'loading' }),
    );

    // Once loaded, its jobs are taken like any other.
    for (let i = 0; i < 400; i++) {
      const now = await api.call<Health>('GET', '/v1/health');
      if (now.body.modelsLoaded) break;
      await sleep(25);
    }
    const loaded = (await api.call<Health>('GET', '/v1/health')).body.models.find(
      (m) => m.id === 'slow-load',
    );
    expect(loaded).toMatchObject({ status: 'ready' });
    expect(loaded?.loadMs).toBeGreaterThanOrEqual(4_000);
    const late = await submitJob(api, token, 'slow-load', {});
    expect((await api.waitForJob(token, late.id)).status).toBe('succeeded');
  });
});

describe('a model that fails to load while the others serve', () => {
  it("stops the origin as a stop does: the others' running jobs go back to the queue, exit 1", async ({
    origins,
  }) => {
    const dir = origins.dataDir();
    const models = join(dir, 'models');
    jsModel(
      models,
      'late-failure',
      `import { setTimeout as sleep } from 'node:timers/promises';
       export default {
         async run(input) {
           if (input.markers === 'warm-up') {
             await sleep(2_500);
             throw new Error('weights corrupt');
           }
           return { bytes: new Uint8Array([1]) };
         },
       };`,
      { markers: 'warm-up' },
    );
    const env = { MODEL_DIR: `${models}:${testModelDir}`, SHUTDOWN_GRACE_MS: '200' };
    const origin = await origins.start({ waitReady: false, env });
    const exited = new Promise<number | null>((resolve) =>
      origin.child.once('exit', (code) => resolve(code)),
    );
    const api = apiClient(origin.url);
    for (let i = 0; i < 400 && (await api.call('GET', '/v1/health')).status !== 200; i++) {
      await sleep(25);
    }
    const { token } = await api.signUp();
    // Runs about 6 s: still running when the other model fails.
    const job = await submitJob(api, token, 'steps', { steps: 60, stepMs: 100 });
    await api.waitForJob(token, job.id, (j) => j.status === 'running');
    expect(await exited).toBe(1);
    const said = origin.output();
    expect(said).toMatch(/weights corrupt/);
    // Stopped as SIGTERM stops: the running job was put back in the queue before the exit.
    expect(said).toMatch(/"signal":"a model failed to load"/);
    expect(said).toMatch(/"requeued":1,"msg":"grace period over: running jobs re-queued"/);
    expect(said).toMatch(/"msg":"stopped"/);

    // Back without the broken model: the job, put back in the queue, runs to its end once.
    const again = await origins.start({
      dataDir: origin.dataDir,
      env: { SHUTDOWN_GRACE_MS: '200' },
    });
    const back = apiClient(again.url);
    const ended = await back.waitForJob(token, job.id, undefined, 30_000);
    expect(ended).toMatchObject({ status: 'succeeded' });
    expect(await creditsOf(back, token)).toBe(20 - 1);
  });
});

describe('deployments that cannot run are refused at start', () => {
  it('over MODEL_MEMORY_BUDGET, naming the models and what each would take', async ({
    origins,
  }) => {
    await expect(
      origins.start({ env: { MODEL_MEMORY_BUDGET: '50MB', POOL_THREADS: '2' } }),
    ).rejects.toThrow(
      /origin: failed to start: the models would need \d+\.\d MB, over MODEL_MEMORY_BUDGET 50\.0 MB: tone-diffusion 101\.7 MB \(2 threads, from its ONNX files\), steps 75\.5 MB \(2 threads, from its ONNX files\); give them fewer threads in MODELS_FILE, or a larger budget/,
    );
    // Within it: starts.
    const origin = await origins.start({ env: { MODEL_MEMORY_BUDGET: '1GiB' } });
    expect((await apiClient(origin.url).call('GET', '/v1/health')).status).toBe(200);
  });

  it('more inference threads than cores, or a MODELS_FILE naming an unknown model', async ({
    origins,
  }) => {
    const dir = origins.dataDir();
    const cores = availableParallelism();
    await expect(
      origins.start({
        env: {
          MODELS_FILE: deploymentFile(dir, {
            'tone-diffusion': { threads: cores, intraOpThreads: 2 },
          }),
        },
      }),
    ).rejects.toThrow(
      `the CPU pools would run ${cores * 2} inference threads on ${cores} cores (threads × intra-op threads: tone-diffusion ${cores} × 2)`,
    );
    await expect(
      origins.start({ env: { MODELS_FILE: deploymentFile(dir, { 'no-such-model': {} }) } }),
    ).rejects.toThrow(/names no-such-model, which no MODEL_DIR folder holds/);
    await expect(origins.start({ env: { MODEL_MEMORY_BUDGET: 'lots' } })).rejects.toThrow(
      /MODEL_MEMORY_BUDGET: bytes, or a number and a unit/,
    );
  });
});
