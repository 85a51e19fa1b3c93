import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
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

export interface InferencePool {
  readonly size: number;
  /** Resolves once every worker thread has loaded every model and finished its warm-up. */
  readonly ready: Promise<void>;
  readonly isReady: boolean;
  /** The execution provider the workers actually use (`cpu`, or `cuda`). */
  readonly device: string;
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
 * Piscina threads × onnxruntime intra-op threads never exceed the cores (invariant 6).
 *
 * @example
 * intraOpThreads(2, 2); // 1
 */
export function intraOpThreads(poolThreads: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / poolThreads));
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
  executionProvider: 'cpu' | 'cuda';
  /** Told of a thread that died outside a task (Piscina replaces it), e.g. to log it. */
  onError?: (error: unknown) => void;
}): InferencePool {
  const cores = availableParallelism();
  if (options.threads > cores) {
    throw new Error(`POOL_THREADS (${options.threads}) must not exceed the cores (${cores})`);
  }
  const setup: WorkerSetup = {
    models: options.models.map(({ manifest, dir }) => ({
      id: manifest.id,
      dir,
      processor: manifest.processor,
      sessions: manifest.sessions,
      warmup: manifest.warmup,
    })),
    intraOpThreads: intraOpThreads(options.threads, cores),
    executionProvider: options.executionProvider,
    readyChannel: `overture-ready-${randomUUID()}`,
    progressChannel: `overture-progress-${randomUUID()}`,
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
  let device = options.executionProvider;
  let isReady = false;
  let failed: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    failed = reject;
    channel.onmessage = (event) => {
      const message = (event as { data: WorkerReadyMessage }).data;
      if (message.type === 'failed') {
        reject(new Error(`inference worker failed to load: ${message.error}`));
        return;
      }
      readyThreads.add(message.threadId);
      device = message.device as typeof device;
      if (readyThreads.size >= options.threads && !isReady) {
        isReady = true;
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
