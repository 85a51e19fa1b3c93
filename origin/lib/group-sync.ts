import { type FileHandle, open } from 'node:fs/promises';

/**
 * Group commit on one file (or folder): `sync()` resolves once an fsync that started after
 * the call has finished, so everything written before the call is on disk. Callers that
 * arrive while an fsync runs share the next one, so under load many writers cost one
 * fsync, and it runs off the main thread.
 *
 * Used for SQLite's WAL (transactions run with `synchronous = NORMAL`; acknowledgements
 * await `sync()`) and for the outputs folder (each rename is durable once the folder is).
 *
 * @example
 * const wal = new GroupSync(`${databaseFile}-wal`, 'r+');
 * await store.jobs.create(input); // committed
 * await wal.sync();               // on disk: now answer 202
 */
export class GroupSync {
  readonly #path: string;
  readonly #flags: 'r' | 'r+';
  #handle: Promise<FileHandle> | undefined;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  /** fsyncs done since start (tests and metrics read it). */
  syncs = 0;

  /** `flags`: 'r+' for a file, 'r' for a folder (which cannot be opened for writing). */
  constructor(path: string, flags: 'r' | 'r+') {
    this.#path = path;
    this.#flags = flags;
  }

  sync(): Promise<void> {
    if (this.#running === undefined) {
      const run = this.#fsync();
      this.#running = run;
      void run
        .catch(() => undefined)
        .finally(() => {
          if (this.#running === run) this.#running = undefined;
        });
      return run;
    }
    // The fsync already running may have started before the caller's write: wait for the next.
    this.#queued ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.sync();
      });
    return this.#queued;
  }

  async close(): Promise<void> {
    await this.#running?.catch(() => undefined);
    await (await this.#handle?.catch(() => undefined))?.close();
    this.#handle = undefined;
  }

  async #fsync(): Promise<void> {
    this.#handle ??= open(this.#path, this.#flags);
    await (await this.#handle).sync();
    this.syncs++;
  }
}
