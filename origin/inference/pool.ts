import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { LoadedModel } from './models/registry.ts';
import type {
  InferenceResult,
  InferenceTask,
  ProgressMessage,
  WorkerReadyMessage,
  WorkerSetup,
} from './task.ts';

/** A pool's load as it stands: what `/v1/health` and `/v1/models` report of its model. */
export interface PoolLoad {
  status: 'loading' | 'ready' | 'failed';
  /** When the load began, and (ready or failed) ended: `performance.now()` ms. */
  startedAt: number;
  endedAt: number | null;
  /** The process's RSS growth from the pool's start to its last thread's warm-up. */
  rssGrowthBytes: number | null;
  /** Each thread that finished loading: the models it holds and the sessions it created. */
  threads: { threadId: number; models: string[]; sessions: number }[];
  error: string | null;
}

export interface InferencePool {
  readonly size: number;
  /** Resolves once every worker thread has loaded its models and finished its warm-up. */
  readonly ready: Promise<void>;
  readonly isReady: boolean;
  /** The execution provider the workers actually use (`cpu`, or `cuda`). */
  readonly device: string;
  /** The load: under way, done or failed, how long, and what it took. */
  load(): PoolLoad;
  /**
   * Runs one task; `onProgress` hears each step the processor reports. Aborting `signal`
   * ends the worker thread (it is replaced): the last resort for a stuck task.
   */
  run(
    task: Omit<InferenceTask, 'taskId'>,
    signal: AbortSignal,
    onProgress?: (done: number, total: number) => void,
  ): Promise<InferenceResult>;
  close(): Promise<void>;
}

/**
 * A Piscina pool of inference worker threads, each of which creates its sessions once.
 *
 * @example
 * const pool = createInferencePool({ models: registry.list(), threads: 2, executionProvider: 'cpu' });
 * await pool.ready;
 */
export function createInferencePool(options: {
  models: LoadedModel[];
  threads: number;
  /** onnxruntime's intra-op threads per session (`planPools` decides them). */
  intraOpThreads: number;
  executionProvider: 'cpu' | 'cuda';
  /** The CUDA device (`cuda` only); 0 by default. */
  deviceId?: number;
  /** Told of a thread that died outside a task (Piscina replaces it), e.g. to log it. */
  onError?: (error: unknown) => void;
}): InferencePool {
  const setup: WorkerSetup = {
    models: options.models.map(({ manifest, dir }) => ({
      id: manifest.id,
      dir,
      processor: manifest.processor,
      sessions: manifest.sessions,
      warmup: manifest.warmup,
    })),
    intraOpThreads: options.intraOpThreads,
    executionProvider: options.executionProvider,
    deviceId: options.deviceId ?? 0,
    readyChannel: `overture-ready-${randomUUID()}`,
    progressChannel: `overture-progress-${randomUUID()}`,
  };
  const rssAtStart = process.memoryUsage.rss();
  const load: PoolLoad = {
    status: 'loading',
    startedAt: performance.now(),
    endedAt: null,
    rssGrowthBytes: null,
    threads: [],
    error: null,
  };
  const progressListeners = new Map<number, (done: number, total: number) => void>();
  const ends = new Map<number, () => void>();
  let lastTaskId = 0;
  const progress = new BroadcastChannel(setup.progressChannel);
  progress.onmessage = (event) => {
    const message = (event as { data: ProgressMessage }).data;
    if ('end' in message) ends.get(message.taskId)?.();
    else progressListeners.get(message.taskId)?.(message.done, message.total);
  };
  (progress as unknown as { unref(): void }).unref();

  const channel = new BroadcastChannel(setup.readyChannel);
  const readyThreads = new Set<number>();
  const fail = (error: string) => {
    if (load.status !== 'loading') return;
    Object.assign(load, { status: 'failed', endedAt: performance.now(), error });
  };
  let device = options.executionProvider;
  let isReady = false;
  let failed: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    failed = reject;
    channel.onmessage = (event) => {
      const message = (event as { data: WorkerReadyMessage }).data;
      if (message.type === 'failed') {
        fail(message.error);
        reject(new Error(`inference worker failed to load: ${message.error}`));
        return;
      }
      readyThreads.add(message.threadId);
      const { threadId, models, sessions } = message;
      if (!isReady) load.threads.push({ threadId, models, sessions });
      device = message.device as typeof device;
      if (readyThreads.size >= options.threads && !isReady) {
        isReady = true;
        Object.assign(load, {
          status: 'ready',
          endedAt: performance.now(),
          rssGrowthBytes: Math.max(0, process.memoryUsage.rss() - rssAtStart),
        });
        resolve();
      }
    };
  });
  // The channel keeps listening, for threads that replace an aborted one, but must not
  // keep the process alive.
  (channel as unknown as { unref(): void }).unref();

  const piscina = new Piscina({
    filename: new URL('./worker.ts', import.meta.url).href,
    minThreads: options.threads,
    maxThreads: options.threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    concurrentTasksPerWorker: 1,
    workerData: setup,
  });
  // A thread whose warm-up throws, or that crashes between tasks, ends with an 'error' event
  // on the pool; unheard, it would be an uncaught exception that takes the origin down.
  piscina.on('error', (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    fail(message);
    failed(new Error(`inference worker failed to load: ${message}`));
    options.onError?.(error);
  });

  return {
    size: options.threads,
    ready,
    get isReady() {
      return isReady;
    },
    get device() {
      return device;
    },
    load: () => ({ ...load, threads: [...load.threads] }),
    async run(task, signal, onProgress) {
      const taskId = ++lastTaskId;
      if (onProgress) progressListeners.set(taskId, onProgress);
      const ended = new Promise<void>((resolve) => ends.set(taskId, resolve));
      try {
        const result = (await piscina.run({ ...task, taskId }, { signal })) as InferenceResult;
        // The worker's last message on the progress channel: every step was heard.
        await ended;
        return result;
      } finally {
        progressListeners.delete(taskId);
        ends.delete(taskId);
      }
    },
    async close() {
      channel.close();
      progress.close();
      await piscina.destroy();
    },
  };
}
