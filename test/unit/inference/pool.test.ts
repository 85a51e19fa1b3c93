import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { decodeWav } from '../../../models/tone-diffusion/wav.ts';
import { loadModels } from '../../../origin/inference/models/registry.ts';
import { createInferencePool } from '../../../origin/inference/pool.ts';
import { intraOpThreads } from '../../../origin/inference/pool-plan.ts';
import { jsModel } from '../../helpers/model-folders.ts';
import { fixtureModels, shippedModels, tempDir, waitFor } from '../support.ts';

type PoolOptions = Omit<Parameters<typeof createInferencePool>[0], 'intraOpThreads'>;

function startPool(options: PoolOptions) {
  const pool = createInferencePool({ intraOpThreads: 1, ...options });
  // A pool whose warm-up fails rejects `ready`; the test that expects it awaits it.
  pool.ready.catch(() => undefined);
  onTestFinished(() => pool.close());
  return pool;
}

/** Runs one task and collects every progress message it sent. */
async function runTask(
  pool: ReturnType<typeof createInferencePool>,
  modelId: string,
  input: unknown,
) {
  const progress: { done: number; total: number }[] = [];
  const abort = new Int32Array(new SharedArrayBuffer(4));
  const result = await pool.run(
    { modelId, input, abort },
    new AbortController().signal,
    (done, total) => progress.push({ done, total }),
  );
  return { result, progress };
}

describe('intraOpThreads', () => {
  it('never lets pool threads × intra-op threads exceed the cores', () => {
    for (const cores of [1, 2, 3, 4, 6, 8, 12, 16, 64]) {
      for (let threads = 1; threads <= cores; threads++) {
        const intra = intraOpThreads(threads, cores);
        expect(intra).toBeGreaterThanOrEqual(1);
        expect(intra * threads).toBeLessThanOrEqual(cores);
        // And uses what it may: one more intra-op thread each would be too many.
        expect((intra + 1) * threads).toBeGreaterThan(cores);
      }
    }
  });

  it('defaults to the machine cores', () => {
    expect(intraOpThreads(1)).toBe(availableParallelism());
  });
});

describe('createInferencePool', () => {
  it('resolves ready only once every thread has finished its warm-up', async () => {
    const root = tempDir();
    const markers = join(root, 'markers');
    mkdirSync(markers);
    // Odd and even threads warm up at different speeds, so a pool that answered after the
    // first thread would be caught with one marker.
    jsModel(
      root,
      'slow-warmup',
      `import { writeFileSync } from 'node:fs';
       import { join } from 'node:path';
       import { setTimeout as sleep } from 'node:timers/promises';
       import { threadId } from 'node:worker_threads';
       export default {
         async run(input) {
           if (input.markers) {
             await sleep(threadId % 2 === 0 ? 600 : 50);
             writeFileSync(join(input.markers, String(threadId)), 'warm');
           }
           return { bytes: new Uint8Array([1]) };
         },
       };`,
      { markers },
    );
    const pool = startPool({
      models: loadModels(root).list(),
      threads: 2,
      executionProvider: 'cpu',
    });
    expect(pool.isReady).toBe(false);
    expect(pool.size).toBe(2);
    await pool.ready;
    expect(readdirSync(markers)).toHaveLength(2);
    expect(pool.isReady).toBe(true);
    expect(pool.device).toBe('cpu');
  });

  it('rejects ready when a processor throws at warm-up, without crashing the process', async () => {
    const root = tempDir();
    jsModel(
      root,
      'broken-warmup',
      `export default { async run() { throw new Error('warm-up exploded'); } };`,
      {},
    );
    const pool = startPool({
      models: loadModels(root).list(),
      threads: 2,
      executionProvider: 'cpu',
    });
    await expect(pool.ready).rejects.toThrow(/inference worker failed to load: warm-up exploded/);
    expect(pool.isReady).toBe(false);
    // Give the failing threads time to be reported and replaced; nothing may escape.
    await new Promise((resolve) => setTimeout(resolve, 500));
  });

  it('rejects ready when a processor does not export run', async () => {
    const root = tempDir();
    jsModel(root, 'no-run', 'export default { notRun() {} };', {});
    const pool = startPool({
      models: loadModels(root).list(),
      threads: 1,
      executionProvider: 'cpu',
    });
    await expect(pool.ready).rejects.toThrow(
      /no-run: processor\.mjs does not default-export \{ run \}/,
    );
  });

  it('runs a fixture task with progress in order, and rejects a failing one', async () => {
    const models = loadModels(fixtureModels);
    const pool = startPool({ models: models.list(), threads: 1, executionProvider: 'cpu' });
    await pool.ready;
    const input = models.check('steps', { steps: 4, stepMs: 1 });
    if (!input.ok) throw new Error('fixture input refused');
    const { result, progress } = await runTask(pool, 'steps', input.input);
    const text = 'done 4 steps\n';
    expect(new TextDecoder().decode(result.bytes ?? new Uint8Array())).toBe(text);
    expect(result.sha256).toBe(createHash('sha256').update(text).digest('hex'));
    expect(result.runMs).toBeGreaterThan(0);
    await waitFor(() => progress.length === 4, 5000, 'four progress messages');
    expect(progress).toEqual([1, 2, 3, 4].map((done) => ({ done, total: 4 })));

    const failing = models.check('steps', { steps: 1, stepMs: 0, fail: true });
    if (!failing.ok) throw new Error('fixture input refused');
    await expect(runTask(pool, 'steps', failing.input)).rejects.toThrow(/fixture failure/);
    const garbage = models.check('steps', { steps: 1, stepMs: 0, garbage: true });
    if (!garbage.ok) throw new Error('fixture input refused');
    expect((await runTask(pool, 'steps', garbage.input)).result).toMatchObject({
      bytes: null,
      sha256: '',
    });
    await expect(runTask(pool, 'no-such-model', {})).rejects.toThrow(/not loaded/);
  });

  it('asked for CUDA on a machine without it, runs on the CPU and says so', async () => {
    const models = loadModels(shippedModels);
    const pool = startPool({ models: models.list(), threads: 1, executionProvider: 'cuda' });
    await pool.ready;
    // This machine has no CUDA build of onnxruntime: the device reported is the one in use.
    expect(pool.device).toBe('cpu');
    const input = models.check('tone-diffusion', { prompt: 'cpu after all', duration: 1 });
    if (!input.ok) throw new Error('tone-diffusion input refused');
    const { result } = await runTask(pool, 'tone-diffusion', input.input);
    expect(result.bytes?.byteLength).toBeGreaterThan(44);
  });

  it('runs the real tone-diffusion model: a WAV whose sha256 is answered, progress in order', async () => {
    const models = loadModels(shippedModels);
    const pool = startPool({ models: models.list(), threads: 1, executionProvider: 'cpu' });
    await pool.ready;
    expect(pool.device).toBe('cpu');
    const input = models.check('tone-diffusion', { prompt: 'slow rain, warm pads', duration: 2 });
    if (!input.ok) throw new Error('tone-diffusion input refused');
    const { result, progress } = await runTask(pool, 'tone-diffusion', input.input);
    const bytes = result.bytes;
    if (!bytes) throw new Error('no output');
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('RIFF');
    expect(Buffer.from(bytes.subarray(8, 12)).toString('latin1')).toBe('WAVE');
    expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const wav = decodeWav(bytes);
    expect(wav.samples.length / wav.sampleRate).toBeCloseTo(2, 2);

    // 12 denoiser steps + 2 one-second decoder chunks.
    await waitFor(() => progress.length === 14, 5000, 'fourteen progress messages');
    expect(progress).toEqual(Array.from({ length: 14 }, (_, i) => ({ done: i + 1, total: 14 })));

    // The same input gives the same audio: the session is reused, not rebuilt differently.
    const again = await runTask(pool, 'tone-diffusion', input.input);
    expect(again.result.sha256).toBe(result.sha256);
  });
});
