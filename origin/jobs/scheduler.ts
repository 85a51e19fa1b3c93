import type { Logger } from 'pino';
import { type OutputFormat, outputFormats } from '../../shared/output-formats.ts';
import { FileGoneError } from '../files/file-inputs.ts';
import type { ModelPools } from '../inference/model-pools.ts';
import type { ModelRegistry } from '../inference/models/registry.ts';
import type { InferenceResult } from '../inference/task.ts';
import { inlineOutputKey } from '../outputs/inline-outputs.ts';
import { attemptOutputName, type OutputStore } from '../outputs/output-store.ts';
import type { JobRecord } from '../store/records.ts';
import type { Claim, EventFeed, JobEnding, JobEvent, JobStore } from '../store/store.ts';
import { ProgressWriter } from './progress-writer.ts';

export interface SchedulerOptions {
  store: JobStore;
  /** Every process's events: a job this process runs may be canceled or taken back elsewhere. */
  events: EventFeed;
  /** Each model's pool: a job is claimed only when its model's pool has a free thread. */
  pool: Pick<ModelPools, 'run' | 'readyModels' | 'threadsOf'>;
  models: Pick<ModelRegistry, 'get'>;
  outputs: OutputStore;
  /** Outputs up to this many bytes are written with the job's end, in the database. */
  inlineOutputMaxBytes?: number;
  /** This process's id, the owner of its claims. */
  owner: string;
  /** A claim not renewed for this long is abandoned; renewed every third of it. */
  leaseMs: number;
  /** Jobs queued this long (or past their deadline) are not started (0: no bound). */
  maxQueueWaitMs?: number;
  jobTimeoutMs: number;
  /** How long a stopped task may keep its thread before the thread is replaced. */
  abortGraceMs: number;
  progressIntervalMs: number;
  logger: Logger;
  /**
   * The input a job's task gets (`fileInputResolver`: file ids replaced by the files); its
   * stored input when unset. A `FileGoneError` fails the job `file_gone`.
   */
  resolveInput?: (job: JobRecord) => Promise<Record<string, unknown>>;
  /** Hears the inference time the worker measured for each succeeded job. */
  onInference?: (model: string, ms: number) => void;
}

/**
 * A thread takes its next job as soon as its task returns, while the jobs before may still
 * be storing their outputs (fsyncs): at most this many jobs per thread are between their
 * claim and their end; inference stays one task per thread. Waiting for the fsyncs too left
 * threads idle (measured: e2e ratio 0.6); 2 per thread still left no-op jobs queued behind
 * fsyncs (no-op path, 16 clients, side by side: 380–396 jobs/s at 2, 442–456 at 8).
 */
const jobsPerThread = 8;
/** Heartbeats per lease: two may be lost (a slow disk, a GC pause) before the lease ends. */
const heartbeatsPerLease = 3;
/** An idle scheduler looks for work this often even when no event woke it. */
const idlePollMs = 1_000;

/** Why a running job stopped before its worker answered. */
type Stop =
  | { status: 'canceled' }
  /** Graceful shutdown put the job back in the queue. */
  | { status: 'requeued' }
  /** The claim is stale: the lease ran out and the job was taken back. */
  | { status: 'lost' }
  | { status: 'timeout' };

type Outcome =
  | { kind: 'result'; result: InferenceResult }
  | { kind: 'error'; error: unknown }
  | { kind: 'stopped'; stop: Stop };

interface Running {
  claim: Claim;
  stop: AbortController;
}

/** What the origin asks of its job runner (the scheduler). */
export interface JobRunner {
  /** Jobs between their claim and their end. */
  readonly active: number;
  /** Pool threads holding a task now. */
  readonly threadsBusy: number;
  start(): void;
  pause(): void;
  drain(timeoutMs: number): Promise<boolean>;
  requeueRunning(): Promise<number>;
  wake(): void;
  close(): void;
}

/**
 * Moves queued jobs through their models' pools, at most one task per pool thread: one
 * `async` run per job, from its claim to its end. The store is the truth: each write of an
 * attempt is fenced by its claim's token, so a late result of a canceled job, or a job
 * another process took back, changes nothing and its file is removed.
 */
export class Scheduler implements JobRunner {
  readonly #o: SchedulerOptions;
  readonly #running = new Map<string, Running>();
  /** Tasks still holding a pool thread (a stopped task holds it until it ends or is killed). */
  #busy = 0;
  /** The same, by model: each model's tasks hold its own pool's threads. */
  readonly #busyByModel = new Map<string, number>();
  readonly #settled = new Set<() => void>();
  #pumping = false;
  #again = false;
  #stopped = true;
  #poll: NodeJS.Timeout | undefined;
  readonly #unlisten: () => void;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#unlisten = options.events.listen((event) => this.#heard(event));
  }

  /** Jobs running now: in a thread, or having their output stored. */
  get active(): number {
    return this.#running.size;
  }

  /** Pool threads holding a task now (never more than the pool has). */
  get threadsBusy(): number {
    return this.#busy;
  }

  start(): void {
    this.#stopped = false;
    this.#poll ??= setInterval(() => this.wake(), idlePollMs);
    this.#poll.unref();
    this.wake();
  }

  /**
   * Stops starting new jobs (the origin is stopping); running ones carry on. One whose task
   * is ended under it meanwhile (the pool closing) stays `running` until its lease ends.
   */
  pause(): void {
    this.#stopped = true;
    clearInterval(this.#poll);
    this.#poll = undefined;
  }

  /** Resolves true once no task holds a thread and no job is left to end, false after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#isSettled()) return true;
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const done = () => resolve(true);
    this.#settled.add(done);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    try {
      return await promise;
    } finally {
      clearTimeout(timer);
      this.#settled.delete(done);
    }
  }

  /**
   * Graceful shutdown, once the grace period is over: each job still running goes back to
   * the queue (the attempt given back, nothing refunded or charged again) and its worker is
   * told to stop. Answers how many were re-queued.
   */
  async requeueRunning(): Promise<number> {
    let requeued = 0;
    for (const { claim, stop } of this.#running.values()) {
      if (await this.#o.store.requeue(claim, Date.now())) requeued++;
      stop.abort({ status: 'requeued' } satisfies Stop);
    }
    return requeued;
  }

  /** Looks for queued jobs now (a job was queued, or a thread came free). */
  wake(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    this.#pump()
      .catch((error: unknown) =>
        this.#o.logger.error({ err: error }, 'scheduler failed to dispatch'),
      )
      .finally(() => {
        this.#pumping = false;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Stops listening to events; pair with `pause()` when the origin stops. */
  close(): void {
    this.pause();
    this.#unlisten();
  }

  async #pump(): Promise<void> {
    const { store, pool, owner, leaseMs } = this.#o;
    while (!this.#stopped) {
      const ready = pool.readyModels();
      const threads = ready.reduce((sum, model) => sum + pool.threadsOf(model), 0);
      const free = ready.filter((m) => (this.#busyByModel.get(m) ?? 0) < pool.threadsOf(m));
      if (free.length === 0 || this.#running.size >= threads * jobsPerThread) return;
      const claimed = await store.claim(owner, Date.now(), leaseMs, this.#o.maxQueueWaitMs, free);
      if (!claimed) return;
      this.#run(claimed.job, claimed.claim).catch((error: unknown) =>
        this.#o.logger.error({ jobId: claimed.job.id, err: error }, 'job run failed'),
      );
    }
  }

  /** A job's events from any process: one it runs here that ended or went back is stopped. */
  #heard(event: JobEvent): void {
    if (event.kind === 'queued') this.wake();
    const running = this.#running.get(event.jobId);
    if (!running || event.job.status === 'running') return;
    const stop: Stop =
      event.job.status === 'canceled' ? { status: 'canceled' } : { status: 'lost' };
    running.stop.abort(stop);
  }

  /** One job, from its claim to its end; the thread is held only while its task runs. */
  async #run(job: JobRecord, claim: Claim): Promise<void> {
    const { logger, leaseMs } = this.#o;
    const stop = new AbortController();
    this.#running.set(job.id, { claim, stop });
    const progress = new ProgressWriter({
      store: this.#o.store,
      claim,
      intervalMs: this.#o.progressIntervalMs,
      logger,
    });
    const heartbeat = setInterval(() => this.#renew(claim, stop), leaseMs / heartbeatsPerLease);
    heartbeat.unref();
    logger.info({ jobId: job.id, model: job.model, attempt: job.attempts }, 'job started');
    let ended = false;
    let freed: Promise<unknown> = Promise.resolve();
    try {
      const run = await this.#infer(job, stop.signal, progress);
      freed = run.freed;
      progress.cancel();
      ended = await this.#conclude(job, claim, run.outcome);
    } catch (error) {
      logger.error({ jobId: job.id, err: error }, 'job could not be finished');
      await this.#end(claim, internalFailure).catch((again: unknown) => {
        // The store itself fails (closed under a stopping origin, or its disk): the job
        // stays `running` until its lease ends, then the sweep takes it back.
        logger.error({ jobId: job.id, err: again }, 'job left running for the lease sweep');
      });
    } finally {
      clearInterval(heartbeat);
      progress.cancel();
      // Only this attempt's entry: a later attempt of the job (taken back from this one and
      // claimed here again while this one still ended) keeps its own.
      if (this.#running.get(job.id)?.claim === claim) this.#running.delete(job.id);
      this.#freed();
    }
    // Ended elsewhere (a cancel): the claim counts against the user until the task has left
    // its thread, then it is released. (Ended here, the ending released it.)
    if (!ended) {
      void freed.then(() =>
        this.#o.store.leaveThread(claim).catch((error: unknown) => {
          logger.warn({ jobId: job.id, err: error }, 'claim left for the lease sweep');
        }),
      );
    }
  }

  /**
   * Runs the job's task until it answers or the job is stopped (canceled, timed out, lost).
   * A stopped task is told to stop between steps; if it still holds its thread after
   * `abortGraceMs`, the thread is ended and replaced.
   */
  async #infer(
    job: JobRecord,
    stopped: AbortSignal,
    progress: ProgressWriter,
  ): Promise<{ outcome: Outcome; freed: Promise<unknown> }> {
    const abortFlag = new Int32Array(new SharedArrayBuffer(4));
    const kill = new AbortController();
    this.#busy++;
    const model = job.model;
    this.#busyByModel.set(model, (this.#busyByModel.get(model) ?? 0) + 1);
    // The files its input names are read first (their bytes go to the task), the thread
    // counted as taken from the start: a slow read holds no other job's place.
    const resolve = this.#o.resolveInput ?? (async (j: JobRecord) => j.input);
    const task = resolve(job).then((input) =>
      this.#o.pool.run(
        { modelId: job.model, input, format: job.outputFormat ?? undefined, abort: abortFlag },
        kill.signal,
        (done, total) => progress.report(done / total),
      ),
    );
    const untilStopped = AbortSignal.any([stopped, AbortSignal.timeout(this.#o.jobTimeoutMs)]);
    const { promise: halted, resolve: halt } = Promise.withResolvers<Outcome>();
    const onStop = () => halt({ kind: 'stopped', stop: stopOf(untilStopped) });
    untilStopped.addEventListener('abort', onStop, { once: true });
    // The thread is free when the task really ends (or its thread is killed).
    const freed = task
      .catch(() => undefined)
      .finally(() => {
        this.#busy--;
        this.#busyByModel.set(model, (this.#busyByModel.get(model) ?? 1) - 1);
        this.#freed();
      });
    try {
      const outcome = await Promise.race([
        task.then(
          (result): Outcome => ({ kind: 'result', result }),
          (error: unknown): Outcome => ({ kind: 'error', error }),
        ),
        halted,
      ]);
      if (outcome.kind === 'stopped') {
        Atomics.store(abortFlag, 0, 1);
        const grace = setTimeout(() => kill.abort(), this.#o.abortGraceMs);
        void freed.finally(() => clearTimeout(grace));
      }
      return { outcome, freed };
    } finally {
      untilStopped.removeEventListener('abort', onStop);
    }
  }

  /**
   * Writes how the job ended: its output, its failure, or nothing when it was stopped.
   * Answers whether this attempt ended the job (and so released its claim).
   */
  async #conclude(job: JobRecord, claim: Claim, outcome: Outcome): Promise<boolean> {
    const { logger } = this.#o;
    switch (outcome.kind) {
      case 'stopped':
        // A cancel already ended the job, a re-queue put it back, a lost claim is another's.
        if (outcome.stop.status === 'timeout') {
          const message = `The job ran longer than ${this.#o.jobTimeoutMs} ms.`;
          return ended(
            await this.#end(claim, { status: 'failed', error: { code: 'timeout', message } }),
          );
        }
        if (outcome.stop.status === 'lost') {
          logger.warn({ jobId: job.id }, 'job claim lost (its lease ended); not finished here');
        }
        return false;
      case 'error':
        if (this.#stopped) {
          // A stop is no model failure: failing (and refunding) the job here would lose it.
          logger.warn({ jobId: job.id }, 'job interrupted by the stop; its lease will end');
          return true;
        }
        if (outcome.error instanceof FileGoneError) {
          logger.warn({ jobId: job.id, err: outcome.error }, 'job input file gone');
          return ended(await this.#end(claim, fileGone));
        }
        // The model's own words are for operators: the client hears the code.
        logger.warn({ jobId: job.id, err: outcome.error }, 'model failed');
        return ended(await this.#end(claim, modelFailure));
      case 'result':
        return this.#succeed(job, claim, outcome.result);
    }
  }

  async #succeed(job: JobRecord, claim: Claim, result: InferenceResult): Promise<boolean> {
    const manifest = this.#o.models.get(job.model)?.manifest;
    if (result.bytes === null || !manifest) {
      return ended(await this.#end(claim, invalidOutput));
    }
    this.#o.onInference?.(job.model, result.runMs);
    // The format the job asked for, else the model's own output.
    const asked = job.outputFormat as OutputFormat | null;
    const { extension, contentType } = asked ? outputFormats[asked] : manifest.output;
    const { bytes } = result;
    // A small output is written by the job's end itself, durable with it.
    const max = this.#o.inlineOutputMaxBytes ?? 0;
    const inline = max > 0 && bytes.byteLength <= max ? bytes : undefined;
    const file = inline
      ? inlineOutputKey(job.id)
      : await this.#o.outputs.write(
          attemptOutputName(job.id, job.attempts),
          extension,
          bytes,
          contentType,
        );
    const finished = await this.#end(claim, {
      status: 'succeeded',
      output: {
        file,
        contentType,
        bytes: bytes.byteLength,
        etag: result.sha256,
        runMs: Math.round(result.runMs),
        inline,
      },
    });
    // Canceled (or taken back) while the file was being written: the file goes (this
    // attempt's own: a later attempt's output has another name).
    if (!finished && !inline) await this.#o.outputs.remove(file);
    return ended(finished);
  }

  async #end(claim: Claim, ending: JobEnding): Promise<JobEvent | undefined> {
    const event = await this.#o.store.finish(claim, ending, Date.now());
    if (event) {
      this.#o.logger.info(
        { jobId: claim.jobId, status: ending.status, error: event.job.error?.code },
        'job finished',
      );
    }
    return event;
  }

  /** Renews the lease; a stale claim stops the job here (another process may run it now). */
  async #renew(claim: Claim, stop: AbortController): Promise<void> {
    try {
      const held = await this.#o.store.heartbeat(claim, Date.now(), this.#o.leaseMs);
      if (!held && !stop.signal.aborted) stop.abort({ status: 'lost' } satisfies Stop);
    } catch (error) {
      // The next beat may get through before the lease ends; if none does, the sweep decides.
      this.#o.logger.warn({ jobId: claim.jobId, err: error }, 'lease not renewed');
    }
  }

  /** A thread or a job slot came free: a graceful stop may be waiting, and the queue is. */
  #freed(): void {
    if (this.#isSettled()) for (const done of this.#settled) done();
    this.wake();
  }

  #isSettled(): boolean {
    return this.#busy === 0 && this.#running.size === 0;
  }
}

/** Whether a write of the attempt ended the job. */
const ended = (event: JobEvent | undefined): boolean => event !== undefined;

/** What ended the wait: our own stop's reason, or the job timeout. */
function stopOf(signal: AbortSignal): Stop {
  const reason: unknown = signal.reason;
  if (typeof reason === 'object' && reason !== null && 'status' in reason) return reason as Stop;
  return { status: 'timeout' };
}

const modelFailure: JobEnding = {
  status: 'failed',
  error: { code: 'model_error', message: 'The model failed while running this job.' },
};
const fileGone: JobEnding = {
  status: 'failed',
  error: {
    code: 'file_gone',
    message: 'A file the job takes was deleted or expired before the job ran.',
  },
};
const invalidOutput: JobEnding = {
  status: 'failed',
  error: { code: 'invalid_output', message: 'The model produced no output.' },
};
const internalFailure: JobEnding = {
  status: 'failed',
  error: { code: 'internal', message: 'The job could not be finished.' },
};
