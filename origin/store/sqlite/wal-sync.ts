import { type FileHandle, open } from 'node:fs/promises';

/**
 * Group commit for SQLite in WAL mode. Transactions run with `synchronous = NORMAL`: a
 * commit is in the WAL (safe from a process crash) but not yet fsynced. Before telling
 * anyone outside "done" (a 202 for a debited job, a 200 to Stripe), a caller awaits
 * `durable()`: one fdatasync of the WAL file, run off the main thread, covers every commit
 * made before it started. Callers that arrive while one runs share the next one, so under
 * load many acknowledgements cost one fsync, and the event loop never waits on the disk.
 *
 * @example
 * const result = await store.jobs.create(input); // committed
 * await store.durable();                          // on disk: now answer 202
 */
export class WalSync {
  readonly #path: string;
  #handle: Promise<FileHandle> | undefined;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  /** fsyncs done since start (tests and metrics read it). */
  syncs = 0;

  constructor(databaseFile: string) {
    this.#path = `${databaseFile}-wal`;
  }

  durable(): Promise<void> {
    if (this.#running === undefined) {
      const run = this.#sync();
      this.#running = run;
      void run
        .catch(() => undefined)
        .finally(() => {
          if (this.#running === run) this.#running = undefined;
        });
      return run;
    }
    // The fsync already running may have started before the caller's commit: wait for the next.
    this.#queued ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.durable();
      });
    return this.#queued;
  }

  async close(): Promise<void> {
    await this.#running?.catch(() => undefined);
    await (await this.#handle?.catch(() => undefined))?.close();
    this.#handle = undefined;
  }

  async #sync(): Promise<void> {
    // The WAL file exists from the first write (migrations) until the last connection closes.
    this.#handle ??= open(this.#path, 'r+');
    await (await this.#handle).datasync();
    this.syncs++;
  }
}
