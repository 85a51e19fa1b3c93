/** What the pool sends a worker thread for one job. */
export interface InferenceTask {
  modelId: string;
  input: unknown;
  /**
   * Encode the model's WAV as this before answering (`mp3`), in the worker thread; undefined
   * or `wav`: the model's bytes as they are.
   */
  format?: string | undefined;
  /** Set to 1 (Atomics) by the scheduler when the job is canceled or times out. */
  abort: Int32Array;
  /** Names the task in its progress messages. */
  taskId: number;
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
  /** The CUDA device its sessions run on (`cuda` only). */
  deviceId: number;
  /** BroadcastChannel on which each thread says it finished its warm-up. */
  readyChannel: string;
  /**
   * BroadcastChannel for every task's progress. One channel for the pool's life: a new
   * MessagePort per task, created and transferred, cost about a millisecond of the main
   * thread per job (measured with --cpu-prof).
   */
  progressChannel: string;
}

export type WorkerReadyMessage =
  /** `models`: the models this thread loaded; `sessions`: the ONNX sessions it created. */
  | { type: 'ready'; threadId: number; device: string; models: string[]; sessions: number }
  | { type: 'failed'; threadId: number; error: string };

/** A step of a task, or (`end`) its last message, sent as the task returns. */
export type ProgressMessage =
  | { taskId: number; done: number; total: number }
  | { taskId: number; end: true };
