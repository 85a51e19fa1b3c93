import { createInferencePool, type InferencePool, type PoolLoad } from './pool.ts';
import type { PoolPlan } from './pool-plan.ts';
import type { InferenceResult, InferenceTask } from './task.ts';

/** One model's pool as `/v1/health` and `/v1/models` report it. */
export interface ModelPoolState {
  id: string;
  status: 'loading' | 'ready' | 'failed';
  /** The device its sessions run on (`cpu` when CUDA was asked for and is absent). */
  device: string;
  threads: number;
  intraOpThreads: number;
  /** While loading: for how long so far; after: how long the load took (ms). */
  loadMs: number;
  memory: {
    estimatedBytes: number;
    estimatedFrom: PoolPlan['memory']['estimatedFrom'];
    /** The process's RSS growth over this pool's load; null until it is loaded. */
    measuredBytes: number | null;
    /** False when another pool loaded at the same time: its growth is counted in too. */
    measuredAlone: boolean;
  };
  /** Why its load failed, or null. */
  error: string | null;
}

/** Every model's pool: a job runs in its own model's threads, and nowhere else. */
export interface ModelPools {
  /** Threads of every pool. */
  readonly size: number;
  /** Resolves once every pool is loaded; rejects when one fails. */
  readonly ready: Promise<void>;
  /** Some model serves: the origin takes jobs (for the models that are ready). */
  readonly isReady: boolean;
  /** The devices the pools use, comma-separated when they differ. */
  readonly device: string;
  isModelReady(model: string): boolean;
  /** Threads of the model's pool (0: no such model). */
  threadsOf(model: string): number;
  /** The models whose pools are loaded, in the order of the plans. */
  readyModels(): string[];
  /** Hears each model as its pool finishes loading. */
  onModelReady(listener: (model: string) => void): void;
  states(): ModelPoolState[];
  /** Every thread that finished loading, in every pool: the models it holds, its sessions. */
  threads(): PoolLoad['threads'];
  /** Runs one task in the pool of its model (`task.modelId`). */
  run(
    task: Omit<InferenceTask, 'taskId'>,
    signal: AbortSignal,
    onProgress?: (done: number, total: number) => void,
  ): Promise<InferenceResult>;
  close(): Promise<void>;
}

/**
 * Starts one pool per plan, all at once (a model that loads for minutes does not hold back
 * the others), each loading only its own model.
 *
 * @example
 * const pools = createModelPools(planPools(registry.list(), deployment, defaults));
 * await pools.ready;
 */
export function createModelPools(
  plans: PoolPlan[],
  options: { onError?: (error: unknown) => void; createPool?: typeof createInferencePool } = {},
): ModelPools {
  const create = options.createPool ?? createInferencePool;
  const pools = new Map<string, { plan: PoolPlan; pool: InferencePool }>();
  for (const plan of plans) {
    const pool = create({
      models: [plan.model],
      threads: plan.threads,
      intraOpThreads: plan.intraOpThreads,
      executionProvider: plan.device,
      deviceId: plan.deviceId,
      onError: options.onError,
    });
    pools.set(plan.model.manifest.id, { plan, pool });
  }
  const listeners: ((model: string) => void)[] = [];
  for (const [id, { pool }] of pools) {
    pool.ready.then(
      () => {
        for (const listener of listeners) listener(id);
      },
      () => undefined,
    );
  }
  const ready = Promise.all([...pools.values()].map(({ pool }) => pool.ready)).then(() => {});
  const entries = () => [...pools.values()];
  const poolOf = (model: string) => {
    const entry = pools.get(model);
    if (!entry) throw new Error(`model ${model} has no pool on this origin`);
    return entry.pool;
  };
  return {
    size: entries().reduce((sum, { plan }) => sum + plan.threads, 0),
    ready,
    get isReady() {
      return entries().some(({ pool }) => pool.isReady);
    },
    get device() {
      return [...new Set(entries().map(({ pool }) => pool.device))].join(',');
    },
    isModelReady: (model) => pools.get(model)?.pool.isReady ?? false,
    threadsOf: (model) => pools.get(model)?.plan.threads ?? 0,
    readyModels: () => [...pools].filter(([, { pool }]) => pool.isReady).map(([id]) => id),
    onModelReady(listener) {
      listeners.push(listener);
    },
    states() {
      const now = performance.now();
      const loads = entries().map(({ plan, pool }) => ({ plan, pool, load: pool.load() }));
      return loads.map(({ plan, pool, load }): ModelPoolState => {
        const end = load.endedAt ?? now;
        const overlapped = loads.some(
          (other) =>
            other.load !== load &&
            other.load.startedAt < end &&
            (other.load.endedAt ?? now) > load.startedAt,
        );
        return {
          id: plan.model.manifest.id,
          status: load.status,
          device: pool.device,
          threads: plan.threads,
          intraOpThreads: plan.intraOpThreads,
          loadMs: Math.round(end - load.startedAt),
          memory: {
            ...plan.memory,
            measuredBytes: load.rssGrowthBytes,
            measuredAlone: !overlapped,
          },
          error: load.error,
        };
      });
    },
    threads: () => entries().flatMap(({ pool }) => pool.load().threads),
    // Async: a model without a pool here is a rejected task, as any failed task is.
    run: async (task, signal, onProgress) => poolOf(task.modelId).run(task, signal, onProgress),
    async close() {
      await Promise.all(entries().map(({ pool }) => pool.close()));
    },
  };
}
