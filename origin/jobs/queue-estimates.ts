import type { Job } from '../../shared/schemas/jobs.ts';
import type { EventFeed, JobSample, QueueSnapshot } from '../store/store.ts';
import { estimateStarts, toEtaSeconds } from './start-estimate.ts';

export interface QueueEstimatesOptions {
  store: { queue(): Promise<QueueSnapshot> };
  /** Every process's events: each job that ends teaches its model's run time. */
  events: EventFeed;
  /**
   * Threads of a model's pool on one origin. A cluster's origins serving a model are counted
   * from the jobs of that model holding threads (each origin holding one is busy, so
   * serving), assuming equal pools.
   */
  threadsOf: (model: string) => number;
  /** A snapshot of the queue is read again once older than this. */
  refreshMs?: number;
  /** A model's run time before any of its jobs was seen to end. */
  defaultRunMs?: number;
}

/** Weight of the newest run time in a model's moving mean. */
const smoothing = 0.2;
const defaultRefreshMs = 250;
const fallbackRunMs = 5_000;

/**
 * Estimated starts of queued jobs (`etaSeconds`), and how long a user at the job cap should
 * wait: from each model's recent run times (a moving mean of start-to-end times of the jobs
 * that succeeded, heard from every process) and the queue in the fair order. The queue is
 * read at most once per `refreshMs`; an estimate is never a promise (API.md).
 */
export class QueueEstimates {
  readonly #o: QueueEstimatesOptions;
  readonly #meanRunMs = new Map<string, number>();
  #cached: { at: number; starts: Map<string, number> } | undefined;
  readonly #unlisten: () => void;

  constructor(options: QueueEstimatesOptions) {
    this.#o = options;
    this.#unlisten = options.events.listen(({ job }) =>
      this.#ended({
        ...job,
        startedAt: job.startedAt === null ? null : Date.parse(job.startedAt),
        finishedAt: job.finishedAt === null ? null : Date.parse(job.finishedAt),
      }),
    );
  }

  /** Seeds the run times from jobs that ended before this process started. */
  seed(samples: readonly JobSample[]): void {
    for (const sample of samples) this.#ended(sample);
  }

  /** A job that succeeded teaches its model's run time, from its start to its end. */
  #ended(job: Pick<JobSample, 'model' | 'status' | 'startedAt' | 'finishedAt'>): void {
    const { status, startedAt, finishedAt } = job;
    if (status !== 'succeeded' || startedAt === null || finishedAt === null) return;
    const runMs = finishedAt - startedAt;
    if (!Number.isFinite(runMs) || runMs < 0) return;
    const { model } = job;
    const mean = this.#meanRunMs.get(model);
    this.#meanRunMs.set(model, mean === undefined ? runMs : mean + smoothing * (runMs - mean));
  }

  /** The model's recent mean run time, in ms. */
  meanRunMs(model: string): number {
    return this.#meanRunMs.get(model) ?? this.#o.defaultRunMs ?? fallbackRunMs;
  }

  /** ms from `now` until each job of `snapshot` starts. */
  starts(snapshot: QueueSnapshot, now = Date.now()): Map<string, number> {
    const origins = (model: string) =>
      new Set(snapshot.held.filter((h) => h.model === model).map((h) => h.claimedBy)).size;
    return estimateStarts({
      queued: snapshot.queued,
      held: snapshot.held,
      threadsOf: (model) => this.#o.threadsOf(model) * Math.max(1, origins(model)),
      meanRunMs: (model) => this.meanRunMs(model),
      now,
    });
  }

  /**
   * The job with its `etaSeconds` (queued jobs only; others keep null); from `snapshot` when
   * the caller has just read the queue (a create), kept for the estimates that follow.
   */
  async withEta(job: Job, snapshot?: QueueSnapshot): Promise<Job> {
    if (snapshot) this.#keep(snapshot);
    return (await this.withEtas([job]))[0] ?? job;
  }

  /**
   * The queue now and each job's start, read afresh: what the WebSocket hub sends as queue
   * moves, kept for the estimates that follow.
   */
  async snapshot(): Promise<{ snapshot: QueueSnapshot; starts: Map<string, number> }> {
    const snapshot = await this.#o.store.queue();
    return { snapshot, starts: this.#keep(snapshot).starts };
  }

  /** The jobs with their `etaSeconds`, from one read of the queue at most. */
  async withEtas(jobs: readonly Job[]): Promise<Job[]> {
    const queued = jobs.filter((job) => job.status === 'queued');
    if (queued.length === 0) return [...jobs];
    const now = Date.now();
    let cached = this.#cached && now - this.#cached.at < this.#refreshMs ? this.#cached : undefined;
    // A job newer than the snapshot (one just created) reads the queue again.
    if (!cached || queued.some((job) => !cached?.starts.has(job.id))) {
      // An estimate is never worth failing an answer for (a create already committed).
      cached = await this.#refresh().catch(() => undefined);
      if (!cached) return [...jobs];
    }
    const { at, starts } = cached;
    // Time since the snapshot was read, taken after it (one just read was read after `now`).
    const elapsed = Math.max(0, Date.now() - at);
    return jobs.map((job) => {
      if (job.status !== 'queued') return job;
      // Absent from a snapshot read after it: it left the queue meanwhile (it is starting).
      const ms = starts.get(job.id) ?? 0;
      return { ...job, etaSeconds: toEtaSeconds(ms - elapsed) };
    });
  }

  /**
   * Seconds until one of a user's jobs should have ended, for the `Retry-After` of a user at
   * the job cap: the model's mean run time, at least one.
   */
  retryAfterSeconds(model: string): number {
    return Math.max(1, toEtaSeconds(this.meanRunMs(model)));
  }

  close(): void {
    this.#unlisten();
  }

  get #refreshMs(): number {
    return this.#o.refreshMs ?? defaultRefreshMs;
  }

  async #refresh(): Promise<{ at: number; starts: Map<string, number> }> {
    return this.#keep(await this.#o.store.queue());
  }

  /** The starts of `snapshot`, read now: cached for `refreshMs`. */
  #keep(snapshot: QueueSnapshot): { at: number; starts: Map<string, number> } {
    const at = Date.now();
    this.#cached = { at, starts: this.starts(snapshot, at) };
    return this.#cached;
  }
}
