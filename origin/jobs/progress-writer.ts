import type { Logger } from 'pino';
import type { Claim, JobStore } from '../store/store.ts';

export interface ProgressWriterOptions {
  store: Pick<JobStore, 'progress'>;
  claim: Claim;
  intervalMs: number;
  logger: Logger;
}

/**
 * Writes a running job's progress at most once per interval; the last report is written
 * when the interval is over, not dropped. Progress is advisory: a failed write is logged.
 */
export class ProgressWriter {
  readonly #o: ProgressWriterOptions;
  #lastWrite = 0;
  #pending: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ProgressWriterOptions) {
    this.#o = options;
  }

  report(value: number): void {
    this.#pending = Math.min(1, Math.max(0, value));
    const wait = this.#lastWrite + this.#o.intervalMs - Date.now();
    if (wait <= 0) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), wait);
  }

  /** Drops what is not written yet: the job has ended. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
  }

  #flush(): void {
    this.#timer = undefined;
    const value = this.#pending;
    if (value === undefined) return;
    this.#pending = undefined;
    this.#lastWrite = Date.now();
    const { store, claim, logger } = this.#o;
    store
      .progress(claim, value, this.#lastWrite)
      .catch((error: unknown) =>
        logger.warn({ jobId: claim.jobId, err: error }, 'progress not recorded'),
      );
  }
}
