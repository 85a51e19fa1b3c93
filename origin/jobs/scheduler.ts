import type { Logger } from 'pino';
import type { ModelRegistry } from '../inference/models/registry.ts';
import type { InferencePool } from '../inference/pool.ts';
import type { InferenceResult } from '../inference/task.ts';
import type { OutputFiles } from '../outputs/files.ts';
import type { JobRow } from '../store/schema/index.ts';
import type { JobEnding, JobEvent, JobStore } from '../store/store.ts';

export interface SchedulerOptions {
  store: JobStore;
  pool: Pick<InferencePool, 'size' | 'run'>;
  models: Pick<ModelRegistry, 'get'>;
  outputs: OutputFiles;
  jobTimeoutMs: number;
  /** How long a stopped task may keep its thread before the thread is replaced. */
  abortGraceMs: number;
  progressIntervalMs: number;
  maxAttempts: number;
  logger: Logger;
  /** Hears the inference time the worker measured for each succeeded job. */
  onInference?: (model: string, ms: number) => void;
}

type Stop =
  | { status: 'canceled' }
  | { status: 'failed'; error: { code: string; message: string } }
  /** Graceful shutdown put the job back in the queue. */
  | { status: 'requeued' };

interface Running {
  /** Ends the wait for the worker: the job is over (canceled or timed out) whatever it does. */
  stop(reason: Stop): void;
}

/**
 * Moves queued jobs through the inference pool, at most one per pool thread. The store is
 * the truth: each transition is a conditional update, so a late result of a canceled job
 * changes nothing and its file is removed.
 */
export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #running = new Map<string, Running>();
  /** Tasks still holding a pool thread (a stopped task holds it until it ends or is killed). */
  #busy = 0;
  /** Waiting for `#busy` to reach 0 (graceful shutdown). */
  readonly #idle = new Set<() => void>();
  #pumping = false;
  #again = false;
  #stopped = true;

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  /** Jobs running now: in a thread, or having their output stored. */
  get active(): number {
    return this.#running.size;
  }

  /** Pool threads holding a task now (never more than the pool has). */
  get threadsBusy(): number {
    return this.#busy;
  }

  /** Re-queues (or fails) what a dead process left running, then starts dispatching. */
  async recover(): Promise<JobEvent[]> {
    this.#o.outputs.removeTemporary();
    const events = await this.#o.store.recoverInterrupted(this.#o.maxAttempts, Date.now());
    for (const e of events) this.#o.logger.warn({ jobId: e.jobId, event: e.kind }, 'recovered job');
    return events;
  }

  start(): void {
    this.#stopped = false;
    this.wake();
  }

  /**
   * Stops starting new jobs (the origin is stopping); running ones carry on. One whose task
   * is ended under it meanwhile (the pool closing) stays `running`: `recover()` re-queues it.
   */
  pause(): void {
    this.#stopped = true;
  }

  /** Resolves true once no task holds a thread, or false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.#settled()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idle.delete(done);
        resolve(false);
      }, timeoutMs);
      this.#idle.add(done);
    });
  }

  /**
   * Graceful shutdown, once the grace period is over: each job still running goes back to
   * the queue (the attempt given back, nothing refunded or charged again) and its worker is
   * told to stop. Answers how many were re-queued.
   */
  async requeueRunning(): Promise<number> {
    let requeued = 0;
    for (const [jobId, running] of this.#running) {
      if (await this.#o.store.requeue(jobId, Date.now())) requeued++;
      running.stop({ status: 'requeued' });
    }
    return requeued;
  }

  /** Call after a job was queued. */
  wake(): void {
    void this.#pump().catch((error: unknown) =>
      this.#o.logger.error({ err: error }, 'scheduler failed to dispatch'),
    );
  }

  /**
   * Cancels a queued or running job. A running job's worker is told to stop between
   * steps; the job is `canceled` at once whether or not the worker listens.
   */
  async cancel(jobId: string): Promise<JobEvent | undefined> {
    const event = await this.#o.store.finish(jobId, { status: 'canceled' }, Date.now());
    this.#running.get(jobId)?.stop({ status: 'canceled' });
    return event;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        // A thread takes the next job as soon as its task returns; the job before may still
        // be storing its output (fsyncs), up to one such job per thread.
        const size = this.#o.pool.size;
        while (!this.#stopped && this.#busy < size && this.#running.size < 2 * size) {
          const row = await this.#o.store.claimNext(Date.now());
          if (!row) break;
          this.#launch(row);
        }
      } while (this.#again);
    } finally {
      this.#pumping = false;
    }
  }

  #launch(row: JobRow): void {
    const { pool, logger } = this.#o;
    const abort = new Int32Array(new SharedArrayBuffer(4));
    const kill = new AbortController();
    const progress = this.#progressWriter(row.id);

    let stop: (reason: Stop) => void = () => {};
    const stopped = new Promise<Stop>((resolve) => {
      stop = resolve;
    });
    const timeout = setTimeout(
      () =>
        stop({
          status: 'failed',
          error: {
            code: 'timeout',
            message: `The job ran longer than ${this.#o.jobTimeoutMs} ms.`,
          },
        }),
      this.#o.jobTimeoutMs,
    );
    this.#running.set(row.id, { stop: (reason) => stop(reason) });
    this.#busy++;
    logger.info({ jobId: row.id, model: row.model, attempt: row.attempts }, 'job started');

    const task = pool.run(
      { modelId: row.model, input: row.input, abort },
      kill.signal,
      (done, total) => {
        progress.report(done / total);
      },
    );
    const outcome = Promise.race([
      task.then(
        (result) => ({ kind: 'result', result }) as const,
        (error: unknown) => ({ kind: 'error', error }) as const,
      ),
      stopped.then((reason) => ({ kind: 'stopped', reason }) as const),
    ]);

    const handled = outcome
      .then(async (o) => {
        clearTimeout(timeout);
        progress.cancel();
        if (o.kind === 'stopped') {
          Atomics.store(abort, 0, 1);
          const grace = setTimeout(() => kill.abort(), this.#o.abortGraceMs);
          void task.catch(() => undefined).finally(() => clearTimeout(grace));
          // Cancel already ended the job, and a re-queue put it back; a timeout ends it here.
          if (o.reason.status === 'failed') await this.#end(row, o.reason);
          return;
        }
        if (o.kind === 'error') {
          if (this.#stopped) {
            // A restart is no model failure: failing (and refunding) the job here would lose it.
            logger.warn(
              { jobId: row.id },
              'job interrupted by the stop; re-queued at the next start',
            );
            return;
          }
          const message = o.error instanceof Error ? o.error.message : String(o.error);
          logger.warn({ jobId: row.id, err: o.error }, 'model failed');
          await this.#end(row, {
            status: 'failed',
            error: { code: 'model_error', message: `The model failed: ${message}`.slice(0, 500) },
          });
          return;
        }
        await this.#succeed(row, o.result);
      })
      .catch((error: unknown) => {
        logger.error({ jobId: row.id, err: error }, 'job could not be finished');
        return this.#end(row, {
          status: 'failed',
          error: { code: 'internal', message: 'The job could not be finished.' },
        }).catch((again: unknown) => {
          // The store itself fails (closed under a stopping origin, or its disk): the job
          // stays `running`, and recover() re-queues it at the next start.
          logger.error({ jobId: row.id, err: again }, 'job left running for recovery');
        });
      })
      .finally(() => this.#running.delete(row.id));

    // The thread is free when the task really ends (or its thread is killed): waiting for
    // the output's fsyncs too left it idle for milliseconds a job (measured: e2e ratio 0.6).
    const release = () => {
      if (this.#settled()) {
        for (const done of this.#idle) done();
        this.#idle.clear();
      }
      this.wake();
    };
    void task
      .catch(() => undefined)
      .finally(() => {
        this.#busy--;
        release();
      });
    void handled.finally(release);
  }

  /** No task in a thread and no job left to end: what a graceful stop waits for. */
  #settled(): boolean {
    return this.#busy === 0 && this.#running.size === 0;
  }

  async #succeed(row: JobRow, result: InferenceResult): Promise<void> {
    const manifest = this.#o.models.get(row.model)?.manifest;
    if (result.bytes === null || !manifest) {
      await this.#end(row, {
        status: 'failed',
        error: { code: 'invalid_output', message: 'The model produced no output.' },
      });
      return;
    }
    this.#o.onInference?.(row.model, result.runMs);
    const file = await this.#o.outputs.write(row.id, manifest.output.extension, result.bytes);
    const ended = await this.#end(row, {
      status: 'succeeded',
      output: {
        file,
        contentType: manifest.output.contentType,
        bytes: result.bytes.byteLength,
        etag: result.sha256,
        runMs: Math.round(result.runMs),
      },
    });
    // Canceled while the file was being written: the cancel stands, the file goes.
    if (!ended) await this.#o.outputs.remove(file);
  }

  async #end(row: JobRow, ending: JobEnding): Promise<JobEvent | undefined> {
    const event = await this.#o.store.finish(row.id, ending, Date.now());
    if (event) {
      this.#o.logger.info(
        { jobId: row.id, status: ending.status, error: event.job.error?.code },
        'job finished',
      );
    }
    return event;
  }

  /** Writes progress at most once per interval; the last report is flushed, not dropped. */
  #progressWriter(jobId: string) {
    const interval = this.#o.progressIntervalMs;
    let lastWrite = 0;
    let pending: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      if (pending === undefined) return;
      const value = pending;
      pending = undefined;
      lastWrite = Date.now();
      // Progress is advisory: a failed write is logged, never an unhandled rejection.
      this.#o.store
        .progress(jobId, value)
        .catch((error: unknown) =>
          this.#o.logger.warn({ jobId, err: error }, 'progress not recorded'),
        );
    };
    return {
      report(value: number) {
        pending = Math.min(1, Math.max(0, value));
        const wait = lastWrite + interval - Date.now();
        if (wait <= 0) flush();
        else timer ??= setTimeout(flush, wait);
      },
      cancel() {
        if (timer) clearTimeout(timer);
        pending = undefined;
      },
    };
  }
}
