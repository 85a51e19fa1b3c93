/**
 * When each queued job is expected to start: an estimate, from the recent run times of each
 * model and the threads serving them. Each model has a pool of its own, so each model's
 * queue is simulated apart, on its own threads: each starts busy with a job of that model
 * that holds it now (free once the model's mean run time has passed since it started, or now
 * if that time is already over), the rest free; the model's queued jobs, in the fair order,
 * each take the thread that frees first and hold it for the mean run time.
 */

export interface HeldThread {
  model: string;
  /** When the job holding the thread started (epoch ms); null: its start is unknown. */
  startedAt: number | null;
}

export interface StartEstimateInput {
  /** The queued jobs' models, in the fair order. */
  queued: readonly { id: string; model: string }[];
  held: readonly HeldThread[];
  /** Threads serving a model's queue (at least one is counted), on every origin together. */
  threadsOf: (model: string) => number;
  /** A model's recent mean run time in ms, from a job's start to its end. */
  meanRunMs: (model: string) => number;
  now: number;
}

/** Milliseconds from `now` until each queued job starts, by job id. */
export function estimateStarts(input: StartEstimateInput): Map<string, number> {
  const { queued, held, meanRunMs, now } = input;
  const starts = new Map<string, number>();
  for (const model of new Set(queued.map((job) => job.model))) {
    const threads = Math.max(1, input.threadsOf(model));
    const mean = meanRunMs(model);
    // When each thread is free, as ms from now, kept sorted (a small array: one per thread).
    // More holders than threads are jobs storing their outputs (a thread has taken the next
    // job meanwhile): the threads are the ones with the most left to run.
    const left = held
      .filter((h) => h.model === model)
      .map(({ startedAt }) => Math.max(0, (startedAt ?? now) + mean - now))
      .sort((a, b) => b - a);
    const free = left.slice(0, threads);
    while (free.length < threads) free.push(0);
    free.sort((a, b) => a - b);
    for (const job of queued) {
      if (job.model !== model) continue;
      const start = free.shift() ?? 0;
      starts.set(job.id, start);
      insertSorted(free, start + mean);
    }
  }
  return starts;
}

function insertSorted(values: number[], value: number): void {
  let i = values.length;
  while (i > 0 && (values[i - 1] ?? 0) > value) i--;
  values.splice(i, 0, value);
}

/** Seconds, as `etaSeconds` answers them: whole, rounded up, never negative. */
export const toEtaSeconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));
