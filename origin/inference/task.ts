import type { MessagePort } from 'node:worker_threads';

/** What the pool sends a worker thread for one job. */
export interface InferenceTask {
  modelId: string;
  input: unknown;
  /** Set to 1 (Atomics) by the scheduler when the job is canceled or times out. */
  abort: Int32Array;
  /** Receives `{ done, total }` after each step. */
  progress: MessagePort;
}

/** What a worker thread answers. */
export interface InferenceResult {
  /** null when the model answered no bytes or something that is not bytes. */
  bytes: Uint8Array | null;
  /** Inference time measured inside the worker thread. */
  runMs: number;
  /** SHA-256 of the bytes, hex: the output's ETag. */
  sha256: string;
}

/** What each worker thread loads, passed as Piscina's `workerData`. */
export interface WorkerSetup {
  models: {
    id: string;
    dir: string;
    processor: string;
    sessions: Record<string, string>;
    warmup: unknown;
  }[];
  intraOpThreads: number;
  executionProvider: 'cpu' | 'cuda';
  /** BroadcastChannel on which each thread says it finished its warm-up. */
  readyChannel: string;
}

export type WorkerReadyMessage =
  | { type: 'ready'; threadId: number; device: string }
  | { type: 'failed'; threadId: number; error: string };

export interface ProgressMessage {
  done: number;
  total: number;
}
