import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { type PoolSettings, poolSettingsSchema } from './models/manifest.ts';
import type { LoadedModel } from './models/registry.ts';

/**
 * The estimate of a pool's memory (`planPools`): each thread holds its own sessions, so
 * `threads × (threadBaseBytes + the ONNX files' bytes)`, plus `onnxRuntimeBytes` for a pool with
 * sessions. Measured here (Node 24, x86-64, RSS growth over a pool's load, `.load()`): a
 * thread of a model with no ONNX file 36.8–38.1 MB; tone-diffusion (17 KB of ONNX) 64.0–64.9 MB
 * with one thread, 91.6–94.5 MB with two; a 201 MB MatMul graph 264 MB with one thread, 492 MB
 * with two. The estimate is 64.0, 101.7, 265.2 and 504.3 MB: within 10% over, never under.
 */
export const threadBaseBytes = 36 * 2 ** 20;
/** onnxruntime's native runtime, loaded once a process uses it: see `threadBaseBytes`. */
export const onnxRuntimeBytes = 25 * 2 ** 20;

/** `MODELS_FILE`: a deployment's pool settings per model id, over each manifest's own. */
export const deploymentFileSchema = z.strictObject({
  models: z.record(z.string(), poolSettingsSchema),
});
export type DeploymentFile = z.infer<typeof deploymentFileSchema>;

/** A deployment that cannot run as configured: the message names the models and figures. */
export class PoolPlanError extends Error {
  override name = 'PoolPlanError';
}

/** One model's pool, as it will be started. */
export interface PoolPlan {
  model: LoadedModel;
  threads: number;
  intraOpThreads: number;
  device: 'cpu' | 'cuda';
  deviceId: number;
  /** What its threads together are expected to hold once loaded. */
  memory: {
    estimatedBytes: number;
    /** `manifest`/`deployment`: their `memoryBytesPerThread`; `files`: see `threadBaseBytes`. */
    estimatedFrom: 'files' | 'manifest' | 'deployment';
  };
}

/**
 * Reads and checks `MODELS_FILE`: JSON, every key a model some MODEL_DIR folder holds.
 *
 * @example
 * const deployment = readDeploymentFile('/etc/overture/models.json', registry.list());
 */
export function readDeploymentFile(file: string, models: LoadedModel[]): DeploymentFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PoolPlanError(`MODELS_FILE ${file}: cannot read it as JSON: ${String(error)}`);
  }
  const parsed = deploymentFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new PoolPlanError(`MODELS_FILE ${file}: ${issues.join('; ')}`);
  }
  const known = new Set(models.map((m) => m.manifest.id));
  const unknown = Object.keys(parsed.data.models).filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new PoolPlanError(
      `MODELS_FILE ${file} names ${unknown.join(', ')}, which no MODEL_DIR folder holds (models: ${[...known].join(', ')})`,
    );
  }
  return parsed.data;
}

const onnxBytes = (model: LoadedModel) =>
  Object.values(model.manifest.sessions).reduce(
    (sum, file) => sum + statSync(join(model.dir, file)).size,
    0,
  );

/**
 * Intra-op threads for sessions on `threads` CPU threads, so that threads × intra-op threads
 * never exceed the cores (invariant 6).
 *
 * @example
 * intraOpThreads(2, 2); // 1
 */
export function intraOpThreads(threads: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, threads)));
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Each model's pool: its settings from the deployment file, else its manifest, else these
 * defaults:
 * - `device`: `defaults.device` (EXECUTION_PROVIDER); `deviceId` 0.
 * - `threads`: a CUDA pool one per device; a CPU model with ONNX sessions a share of
 *   `defaults.threads` (POOL_THREADS), split evenly between such models whose threads are not
 *   set, after those that are set; a model without sessions (its processor is plain
 *   JavaScript) `defaults.threads`.
 * - `intraOpThreads`: CPU: the cores divided by the threads of every CPU pool with sessions;
 *   CUDA: 1.
 *
 * Refused (PoolPlanError): CPU pools with sessions whose threads × intra-op threads, summed,
 * exceed the cores (invariant 6); and, with a `memoryBudget`, pools whose estimated memory,
 * summed, exceeds it.
 *
 * @example
 * planPools(registry.list(), { models: {} }, { threads: 2, device: 'cpu', cores: 2 });
 */
export function planPools(
  models: LoadedModel[],
  deployment: DeploymentFile,
  defaults: { threads: number; device: 'cpu' | 'cuda'; cores: number; memoryBudget?: number },
): PoolPlan[] {
  const settingsOf = (model: LoadedModel): PoolSettings & { from: 'manifest' | 'deployment' } => {
    const set = deployment.models[model.manifest.id];
    return {
      ...model.manifest.pool,
      ...set,
      from: set?.memoryBytesPerThread !== undefined ? 'deployment' : 'manifest',
    };
  };
  const settings = models.map((model) => ({ model, set: settingsOf(model) }));
  const deviceOf = (set: PoolSettings) => set.device ?? defaults.device;
  const hasSessions = (model: LoadedModel) => Object.keys(model.manifest.sessions).length > 0;
  const computeOnCpu = settings.filter(
    ({ model, set }) => deviceOf(set) === 'cpu' && hasSessions(model),
  );
  // POOL_THREADS left once the pools whose threads are set take theirs (× their intra-op
  // threads where set), shared by the others.
  const setThreads = computeOnCpu.reduce(
    (sum, { set }) => sum + (set.threads ?? 0) * (set.intraOpThreads ?? 1),
    0,
  );
  const unset = computeOnCpu.filter(({ set }) => set.threads === undefined).length;
  const share = Math.max(1, Math.floor(Math.max(0, defaults.threads - setThreads) / (unset || 1)));

  const threadsOf = ({ model, set }: (typeof settings)[number]) =>
    set.threads ?? (deviceOf(set) === 'cuda' ? 1 : hasSessions(model) ? share : defaults.threads);
  // The cores left once the pools whose intra-op threads are set take theirs, divided
  // between the threads of the others.
  const coresLeft =
    defaults.cores -
    computeOnCpu
      .filter(({ set }) => set.intraOpThreads !== undefined)
      .reduce((sum, s) => sum + threadsOf(s) * (s.set.intraOpThreads ?? 1), 0);
  const defaultedIntraThreads = computeOnCpu
    .filter(({ set }) => set.intraOpThreads === undefined)
    .reduce((sum, s) => sum + threadsOf(s), 0);
  const plans = settings.map((s): PoolPlan => {
    const { model, set } = s;
    const device = deviceOf(set);
    const threads = threadsOf(s);
    const fromFiles = () =>
      threads * (threadBaseBytes + onnxBytes(model)) + (hasSessions(model) ? onnxRuntimeBytes : 0);
    return {
      model,
      threads,
      intraOpThreads:
        set.intraOpThreads ??
        (device === 'cuda' ? 1 : intraOpThreads(defaultedIntraThreads, Math.max(1, coresLeft))),
      device,
      deviceId: set.deviceId ?? 0,
      memory: {
        estimatedBytes:
          set.memoryBytesPerThread === undefined ? fromFiles() : threads * set.memoryBytesPerThread,
        estimatedFrom: set.memoryBytesPerThread === undefined ? 'files' : set.from,
      },
    };
  });

  const cpuCompute = plans.filter((p) => p.device === 'cpu' && hasSessions(p.model));
  const used = cpuCompute.reduce((sum, p) => sum + p.threads * p.intraOpThreads, 0);
  if (used > defaults.cores) {
    const each = cpuCompute.map((p) => `${p.model.manifest.id} ${p.threads} × ${p.intraOpThreads}`);
    // Each such pool needs a core at least: more of them than cores cannot run here.
    const advice =
      cpuCompute.length > defaults.cores
        ? `${cpuCompute.length} CPU models with ONNX sessions need ${cpuCompute.length} cores at least: run some on CUDA (device in MODELS_FILE) or on another origin`
        : 'lower them in MODELS_FILE';
    throw new PoolPlanError(
      `the CPU pools would run ${used} inference threads on ${defaults.cores} cores (threads × intra-op threads: ${each.join(', ')}); ${advice}`,
    );
  }
  const budget = defaults.memoryBudget;
  const total = plans.reduce((sum, p) => sum + p.memory.estimatedBytes, 0);
  if (budget !== undefined && total > budget) {
    const each = plans.map(
      (p) =>
        `${p.model.manifest.id} ${mb(p.memory.estimatedBytes)} (${p.threads} thread${p.threads === 1 ? '' : 's'}, from ${p.memory.estimatedFrom === 'files' ? 'its ONNX files' : `the ${p.memory.estimatedFrom}`})`,
    );
    throw new PoolPlanError(
      `the models would need ${mb(total)}, over MODEL_MEMORY_BUDGET ${mb(budget)}: ${each.join(', ')}; give them fewer threads in MODELS_FILE, or a larger budget`,
    );
  }
  return plans;
}
