import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LoadedModel, loadModels } from '../../../origin/inference/models/registry.ts';
import {
  type DeploymentFile,
  onnxRuntimeBytes,
  PoolPlanError,
  planPools,
  readDeploymentFile,
  threadBaseBytes,
} from '../../../origin/inference/pool-plan.ts';
import { fixtureModels, shippedModels, tempDir } from '../support.ts';

const [toneDiffusion] = loadModels(shippedModels).list() as [LoadedModel];
const [steps] = loadModels(fixtureModels).list() as [LoadedModel];
/** A second model with ONNX sessions: tone-diffusion's folder under another id. */
const other: LoadedModel = {
  ...toneDiffusion,
  manifest: { ...toneDiffusion.manifest, id: 'other-onnx' },
};
const none: DeploymentFile = { models: {} };

const plan = (models: LoadedModel[], deployment = none, defaults = {}) =>
  planPools(models, deployment, { threads: 4, device: 'cpu', cores: 4, ...defaults });
const byId = (plans: ReturnType<typeof plan>) =>
  Object.fromEntries(plans.map((p) => [p.model.manifest.id, p]));

describe('planPools', () => {
  it('splits POOL_THREADS between the CPU models with sessions; a model without takes them all', () => {
    const pools = byId(plan([toneDiffusion, other, steps]));
    expect(pools['tone-diffusion']).toMatchObject({ threads: 2, intraOpThreads: 1, device: 'cpu' });
    expect(pools['other-onnx']).toMatchObject({ threads: 2, intraOpThreads: 1 });
    // Plain JavaScript: no onnxruntime threads to count against the cores.
    expect(pools.steps).toMatchObject({ threads: 4 });
    // One model alone: every thread, and the cores left to its sessions.
    expect(byId(plan([toneDiffusion], none, { threads: 1 }))['tone-diffusion']).toMatchObject({
      threads: 1,
      intraOpThreads: 4,
    });
  });

  it('takes the manifest, then the deployment file over it; the rest share what is left', () => {
    const withDefaults: LoadedModel = {
      ...other,
      manifest: { ...other.manifest, pool: { threads: 3, intraOpThreads: 1 } },
    };
    expect(byId(plan([toneDiffusion, withDefaults]))['tone-diffusion']).toMatchObject({
      threads: 1,
      intraOpThreads: 1,
    });
    const pools = byId(
      plan([toneDiffusion, withDefaults], {
        models: { 'other-onnx': { threads: 1 }, 'tone-diffusion': { intraOpThreads: 1 } },
      }),
    );
    // other-onnx: its threads from the file, its intra-op threads from its manifest.
    expect(pools['other-onnx']).toMatchObject({ threads: 1, intraOpThreads: 1 });
    expect(pools['tone-diffusion']).toMatchObject({ threads: 3, intraOpThreads: 1 });
  });

  it("leaves the others what one model's own threads and intra-op threads do not take", () => {
    // 4 cores: tone-diffusion takes 1 × 2; other-onnx, unset, the 2 cores left.
    const pools = byId(
      plan([toneDiffusion, other], {
        models: { 'tone-diffusion': { threads: 1, intraOpThreads: 2 } },
      }),
    );
    expect(pools['other-onnx']).toMatchObject({ threads: 2, intraOpThreads: 1 });
    expect(pools['tone-diffusion']).toMatchObject({ threads: 1, intraOpThreads: 2 });
  });

  it('says when there are more CPU models with sessions than cores', () => {
    const third: LoadedModel = { ...other, manifest: { ...other.manifest, id: 'third-onnx' } };
    expect(() => plan([toneDiffusion, other, third], none, { cores: 2, threads: 2 })).toThrow(
      'the CPU pools would run 3 inference threads on 2 cores (threads × intra-op threads: tone-diffusion 1 × 1, other-onnx 1 × 1, third-onnx 1 × 1); 3 CPU models with ONNX sessions need 3 cores at least: run some on CUDA (device in MODELS_FILE) or on another origin',
    );
    // One of them on CUDA: it runs.
    const cuda = { models: { 'third-onnx': { device: 'cuda' as const } } };
    expect(plan([toneDiffusion, other, third], cuda, { cores: 2, threads: 2 })).toHaveLength(3);
  });

  it('refuses CPU pools whose threads × intra-op threads exceed the cores, naming them', () => {
    const deployment = {
      models: {
        'tone-diffusion': { threads: 2, intraOpThreads: 2 },
        'other-onnx': { threads: 1, intraOpThreads: 1 },
      },
    };
    expect(() => plan([toneDiffusion, other], deployment)).toThrow(PoolPlanError);
    expect(() => plan([toneDiffusion, other], deployment)).toThrow(
      'the CPU pools would run 5 inference threads on 4 cores (threads × intra-op threads: tone-diffusion 2 × 2, other-onnx 1 × 1)',
    );
    // The same on CUDA counts nothing against the cores; a CUDA pool has one thread by default.
    const cuda = byId(
      plan([toneDiffusion, other], {
        models: { ...deployment.models, 'tone-diffusion': { device: 'cuda', deviceId: 1 } },
      }),
    );
    expect(cuda['tone-diffusion']).toMatchObject({ device: 'cuda', deviceId: 1, threads: 1 });
  });

  it('estimates memory from the ONNX files and a thread, or takes what it is told', () => {
    const files = 2860 + 14160; // decoder.onnx + denoiser.onnx
    const pools = byId(
      plan([toneDiffusion, steps], { models: { steps: { memoryBytesPerThread: 1_000 } } }),
    );
    expect(pools['tone-diffusion']?.memory).toEqual({
      estimatedBytes: 4 * (threadBaseBytes + files) + onnxRuntimeBytes,
      estimatedFrom: 'files',
    });
    expect(pools.steps?.memory).toEqual({ estimatedBytes: 4_000, estimatedFrom: 'deployment' });
  });

  it('refuses a deployment over MODEL_MEMORY_BUDGET with a message naming the models and figures', () => {
    const deployment = { models: { steps: { threads: 2, memoryBytesPerThread: 3_000_000_000 } } };
    const refuse = () =>
      plan([toneDiffusion, steps], deployment, { threads: 2, memoryBudget: 4e9 });
    expect(refuse).toThrow(PoolPlanError);
    expect(refuse).toThrow(
      /^the models would need 6101\.7 MB, over MODEL_MEMORY_BUDGET 4000\.0 MB: tone-diffusion 101\.7 MB \(2 threads, from its ONNX files\), steps 6000\.0 MB \(2 threads, from the deployment\)/,
    );
    // Within the budget: planned.
    expect(
      plan([toneDiffusion, steps], deployment, { threads: 2, memoryBudget: 7e9 }),
    ).toHaveLength(2);
  });
});

describe('readDeploymentFile', () => {
  const models = [toneDiffusion, steps];
  const file = (content: string) => {
    const path = join(tempDir(), 'models.json');
    writeFileSync(path, content);
    return path;
  };

  it('reads the settings of the models it names', () => {
    const path = file(JSON.stringify({ models: { steps: { threads: 3 } } }));
    expect(readDeploymentFile(path, models)).toEqual({ models: { steps: { threads: 3 } } });
  });

  it('refuses a model no folder holds, a bad field, and what is not JSON', () => {
    expect(() =>
      readDeploymentFile(file(JSON.stringify({ models: { nope: {} } })), models),
    ).toThrow(/names nope, which no MODEL_DIR folder holds \(models: tone-diffusion, steps\)/);
    expect(() =>
      readDeploymentFile(file(JSON.stringify({ models: { steps: { threads: 0 } } })), models),
    ).toThrow(/models\.steps\.threads: /);
    expect(() =>
      readDeploymentFile(file(JSON.stringify({ models: { steps: { gpu: true } } })), models),
    ).toThrow(/models\.steps: Unrecognized key/);
    expect(() => readDeploymentFile(file('{ not json'), models)).toThrow(/cannot read it as JSON/);
  });
});
