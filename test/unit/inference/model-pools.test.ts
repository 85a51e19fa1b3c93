import { describe, expect, it, onTestFinished } from 'vitest';
import { createModelPools } from '../../../origin/inference/model-pools.ts';
import { loadModels } from '../../../origin/inference/models/registry.ts';
import { planPools } from '../../../origin/inference/pool-plan.ts';
import { jsModel } from '../../helpers/model-folders.ts';
import { shippedModels, tempDir, waitFor } from '../support.ts';

/** A processor that answers the id of the thread it ran in; its warm-up waits `loadMs`. */
const threadReporter = (loadMs: number) => `
  import { setTimeout as sleep } from 'node:timers/promises';
  import { threadId } from 'node:worker_threads';
  export default {
    async run(input) {
      if (input.warm) await sleep(${loadMs});
      return { bytes: new TextEncoder().encode(String(threadId)) };
    },
  };`;

function start(dirs: string, deployment: Parameters<typeof planPools>[1]) {
  const plans = planPools(loadModels(dirs).list(), deployment, {
    threads: 2,
    device: 'cpu',
    cores: 2,
  });
  const pools = createModelPools(plans);
  pools.ready.catch(() => undefined);
  onTestFinished(() => pools.close());
  return pools;
}

const abort = () => new Int32Array(new SharedArrayBuffer(4));
const threadOf = async (pools: ReturnType<typeof start>, modelId: string) => {
  const result = await pools.run(
    { modelId, input: {}, abort: abort() },
    new AbortController().signal,
  );
  return Number(new TextDecoder().decode(result.bytes ?? new Uint8Array()));
};

describe('createModelPools', () => {
  it('gives each model its own threads, as its settings say, and loads it only there', async () => {
    const root = tempDir();
    const input = { type: 'object', properties: { warm: { type: 'boolean' } } };
    jsModel(root, 'one-thread', threadReporter(0), { warm: true }, { input });
    jsModel(root, 'three-threads', threadReporter(0), { warm: true }, { input });
    const pools = start(`${root}:${shippedModels}`, {
      models: { 'one-thread': { threads: 1 }, 'three-threads': { threads: 3 } },
    });
    await pools.ready;
    const states = Object.fromEntries(pools.states().map((s) => [s.id, s]));
    expect(states['one-thread']).toMatchObject({ status: 'ready', threads: 1, device: 'cpu' });
    expect(states['three-threads']).toMatchObject({ status: 'ready', threads: 3 });
    // tone-diffusion alone has ONNX sessions: it takes POOL_THREADS (2), 1 intra-op each.
    expect(states['tone-diffusion']).toMatchObject({ threads: 2, intraOpThreads: 1 });
    expect(pools.size).toBe(6);

    // Which thread loaded what, as each thread reported it: one model per thread, and the
    // sessions counted there (tone-diffusion's two in each of its own threads, none elsewhere).
    const threads = pools.threads();
    const byModel = (id: string) => threads.filter((t) => t.models.join() === id);
    expect(byModel('one-thread')).toHaveLength(1);
    expect(byModel('three-threads')).toHaveLength(3);
    expect(byModel('tone-diffusion')).toHaveLength(2);
    expect(threads).toHaveLength(6);
    expect(threads.every((t) => t.models.length === 1)).toBe(true);
    expect(byModel('tone-diffusion').map((t) => t.sessions)).toEqual([2, 2]);
    expect([...byModel('one-thread'), ...byModel('three-threads')].map((t) => t.sessions)).toEqual([
      0, 0, 0, 0,
    ]);

    // A job runs in its own model's threads, and only there.
    const ids = (id: string) => new Set(byModel(id).map((t) => t.threadId));
    const ran = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? 'one-thread' : 'three-threads')).map(
        async (model) => ({ model, thread: await threadOf(pools, model) }),
      ),
    );
    for (const { model, thread } of ran) expect(ids(model).has(thread)).toBe(true);
    expect(
      new Set(ran.filter((r) => r.model === 'three-threads').map((r) => r.thread)).size,
    ).toBeGreaterThan(1);
  });

  it('serves a model that loaded while another is still loading, and says so', async () => {
    const root = tempDir();
    const input = { type: 'object', properties: { warm: { type: 'boolean' } } };
    jsModel(root, 'quick', threadReporter(0), { warm: true }, { input });
    jsModel(root, 'slow', threadReporter(1_500), { warm: true }, { input });
    const pools = start(root, { models: { quick: { threads: 1 }, slow: { threads: 1 } } });
    const heard: string[] = [];
    pools.onModelReady((model) => heard.push(model));
    await waitFor(() => pools.isModelReady('quick'), 5_000, 'the quick model to load');
    expect(pools.isReady).toBe(true);
    expect(pools.isModelReady('slow')).toBe(false);
    expect(pools.readyModels()).toEqual(['quick']);
    const slow = pools.states().find((s) => s.id === 'slow');
    expect(slow).toMatchObject({ status: 'loading', memory: { measuredBytes: null } });
    // The quick model runs jobs meanwhile.
    expect(await threadOf(pools, 'quick')).toBeGreaterThan(0);
    expect(pools.isModelReady('slow')).toBe(false);
    await pools.ready;
    expect(heard).toEqual(['quick', 'slow']);
    const loaded = pools.states().find((s) => s.id === 'slow');
    expect(loaded?.status).toBe('ready');
    expect(loaded?.loadMs).toBeGreaterThanOrEqual(1_500);
    expect(loaded?.memory.measuredBytes).toBeGreaterThan(0);
    // Both loaded at once: each one's RSS growth counts the other's in.
    expect(loaded?.memory.measuredAlone).toBe(false);
  });

  it('refuses a task for a model it has no pool for', async () => {
    const root = tempDir();
    jsModel(root, 'only', threadReporter(0), {});
    const pools = start(root, { models: {} });
    await pools.ready;
    await expect(threadOf(pools, 'other')).rejects.toThrow(/model other has no pool/);
    expect(pools.threadsOf('other')).toBe(0);
    expect(pools.isModelReady('other')).toBe(false);
  });
});
