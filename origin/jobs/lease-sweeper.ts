import type { Logger } from 'pino';
import type { JobEvent, JobStore } from '../store/store.ts';

export interface LeaseSweeperOptions {
  store: Pick<JobStore, 'releaseExpired' | 'expireQueued'>;
  maxAttempts: number;
  /** A job queued this long ends canceled `deadline_exceeded` (0: no bound). */
  maxQueueWaitMs: number;
  intervalMs: number;
  logger: Logger;
}

/**
 * Takes back the jobs of claims nobody renews (an origin that died, froze or lost the
 * database): each goes back to the queue, or fails `interrupted` once it has used
 * `maxAttempts`. The same sweep ends the queued jobs past their deadline or
 * `maxQueueWaitMs` (canceled `deadline_exceeded`, refunded), so a deadline is kept within
 * one sweep interval. Every origin sweeps; the store's transaction makes two sweeps of one
 * job change it once.
 */
export class LeaseSweeper {
  readonly #o: LeaseSweeperOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LeaseSweeperOptions) {
    this.#o = options;
  }

  /** Takes back every job whose lease ended before `expiredBefore` (now by default). */
  async sweep(expiredBefore = Date.now()): Promise<JobEvent[]> {
    const events = await this.#o.store.releaseExpired({
      expiredBefore,
      maxAttempts: this.#o.maxAttempts,
      at: Date.now(),
    });
    for (const e of events) {
      this.#o.logger.warn({ jobId: e.jobId, event: e.kind }, 'took back an abandoned job');
    }
    const overdue = await this.#o.store.expireQueued({
      maxQueueWaitMs: this.#o.maxQueueWaitMs,
      at: Date.now(),
    });
    for (const e of overdue) {
      this.#o.logger.info({ jobId: e.jobId }, 'canceled a job past its deadline');
    }
    return [...events, ...overdue];
  }

  /** Sweeps every `intervalMs` until stopped. */
  start(): void {
    this.#timer ??= setInterval(() => {
      this.sweep().catch((error: unknown) =>
        this.#o.logger.error({ err: error }, 'lease sweep failed'),
      );
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
