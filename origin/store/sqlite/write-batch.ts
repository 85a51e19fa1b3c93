import type Database from 'better-sqlite3';

interface Pending {
  write: () => unknown;
  committed?: (result: unknown) => void;
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/** Writes one transaction takes at most; more wait for the next, in the same turn. */
const maxWritesPerCommit = 64;

/**
 * Group commit of transactions on one SQLite connection. Each write runs in a savepoint of
 * one shared `BEGIN IMMEDIATE … COMMIT`, taken once per turn of the event loop for every
 * write asked for in that turn, in the order asked: a write sees the ones before it, one
 * that throws rolls back alone (its promise rejects, the others commit), and none resolves
 * before the commit that holds it (then `committed` runs, in commit order, before the
 * promise resolves; `committed` must not throw). A commit writes each page it changed to
 * the WAL once, so under load the writes of many requests share one commit's frames, as the
 * WAL's fsync is already shared (GroupSync). A scratch microbenchmark on this machine (a job
 * row and two event rows a write): 61 µs a write alone, 30 µs four to a commit, 23 µs eight;
 * under the bench's 16 clients a commit held about four (`npm run bench:compare` measures
 * the job path with and without it).
 *
 * Synchronous statements outside a batch (reads, a heartbeat) run at once, between turns.
 *
 * @example
 * const batch = new WriteBatch(db.$client, () => queue.changed());
 * const event = await batch.run(() => write(job), (e) => emit([e]));
 */
export class WriteBatch {
  readonly #client: Database.Database;
  readonly #commit: (writes: Pending[]) => Outcome[];
  readonly #onRollback: () => void;
  #pending: Pending[] = [];
  #scheduled = false;
  #closed = false;

  /** `onRollback`: what was read during a write that did not commit is to be read again. */
  constructor(client: Database.Database, onRollback: () => void) {
    this.#client = client;
    this.#onRollback = onRollback;
    const savepoint = client.transaction((write: () => unknown) => write());
    const commit = client.transaction((writes: Pending[]) => {
      const outcomes: Outcome[] = [];
      for (const pending of writes) {
        try {
          outcomes.push({ ok: true, result: savepoint(pending.write) });
        } catch (error) {
          this.#onRollback();
          // An error that ended the whole transaction (SQLite rolls back on some, a full
          // disk among them): what is left does not run, and nothing before it commits.
          if (!this.#client.inTransaction) throw error;
          outcomes.push({ ok: false, error });
        }
      }
      return outcomes;
    });
    this.#commit = (writes) => commit.immediate(writes);
  }

  /** Runs `write` in the next commit; resolves with its answer once that has committed. */
  run<T>(write: () => T, committed?: (result: T) => void): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the store is closed'));
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#pending.push({
      write,
      committed: committed as ((result: unknown) => void) | undefined,
      resolve: resolve as (result: unknown) => void,
      reject,
    });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    return promise;
  }

  /**
   * Commits what was asked for and not yet committed, now; later writes are refused. The
   * store calls it before it closes the database, so no write asked for is left to a turn
   * that would find the database closed.
   */
  close(): void {
    this.#closed = true;
    this.#flush();
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#pending.length > 0) {
      const writes = this.#pending.splice(0, maxWritesPerCommit);
      let outcomes: Outcome[];
      try {
        outcomes = this.#commit(writes);
      } catch (error) {
        // BEGIN or COMMIT failed, or a write ended the transaction: nothing of it is written.
        this.#onRollback();
        for (const pending of writes) pending.reject(error);
        continue;
      }
      writes.forEach((pending, i) => {
        const outcome = outcomes[i] as Outcome;
        if (outcome.ok) {
          pending.committed?.(outcome.result);
          pending.resolve(outcome.result);
        } else {
          pending.reject(outcome.error);
        }
      });
    }
  }
}
