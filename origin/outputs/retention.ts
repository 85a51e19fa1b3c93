import type { Logger } from 'pino';
import type { FileStore, JobStore } from '../store/store.ts';
import type { OutputStore } from './output-store.ts';

export interface SweeperOptions {
  store: Pick<JobStore, 'outputsToExpire' | 'markOutputExpired'>;
  outputs: Pick<OutputStore, 'remove'>;
  /** Uploaded files: each one past its expiry is taken out of the store, then its bytes removed. */
  files?: Pick<FileStore, 'takeExpired'>;
  ttlMs: number;
  intervalMs: number;
  logger: Logger;
}

const batch = 500;

/**
 * Removes outputs older than the TTL: first the file, then the mark on the job, so a crash
 * in between leaves a job whose download answers 410 and whose mark comes next sweep.
 */
export class OutputSweeper {
  readonly #o: SweeperOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SweeperOptions) {
    this.#o = options;
  }

  /** Sweeps now, then every `intervalMs`. */
  start(): void {
    const run = () =>
      this.sweep().catch((error: unknown) =>
        this.#o.logger.error({ err: error }, 'retention sweep failed'),
      );
    void run();
    this.#timer = setInterval(run, this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Expires every output finished before now − TTL; answers how many. */
  async sweep(now = Date.now()): Promise<number> {
    let expired = 0;
    for (;;) {
      const due = await this.#o.store.outputsToExpire(now - this.#o.ttlMs, batch);
      for (const { id, file } of due) {
        await this.#o.outputs.remove(file);
        await this.#o.store.markOutputExpired(id, now);
      }
      expired += due.length;
      if (due.length < batch) break;
    }
    if (expired > 0) this.#o.logger.info({ expired }, 'expired outputs');
    const files = await this.#sweepFiles(now);
    if (files > 0) this.#o.logger.info({ files }, 'expired files');
    return expired + files;
  }

  /**
   * Expires uploaded files: the record first (from then on the file is gone: 404, no job
   * takes it), then its bytes. A crash in between leaves bytes nothing names.
   */
  async #sweepFiles(now: number): Promise<number> {
    if (!this.#o.files) return 0;
    let expired = 0;
    for (;;) {
      const due = await this.#o.files.takeExpired(now, batch);
      for (const file of due) await this.#o.outputs.remove(file.storageKey);
      expired += due.length;
      if (due.length < batch) return expired;
    }
  }
}
