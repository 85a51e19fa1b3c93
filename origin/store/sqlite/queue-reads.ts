import { fairOrder, heldByUser, positionsIn } from '../../jobs/fair-queue.ts';
import type { JobStatements } from './job-statements.ts';

type Queued = ReturnType<JobStatements['queued']['all']>[number];
type Held = ReturnType<JobStatements['holders']['all']>[number];

/** A kept read is read again once this old, whatever it holds (see below). */
const maxAgeMs = 500;

interface Read {
  at: number;
  /** Queued jobs in id order. */
  queued: Queued[];
  /** One row per job holding a thread. */
  held: Held[];
  order?: Queued[];
  positions?: Map<string, number>;
}

/**
 * The queue as the fair order needs it (queued jobs and the threads each user holds), read
 * from the file once per change of the queue: a create's position, its estimate, a
 * subscribe's answer and a list each asked for it, reading every queued row into objects.
 * The SQLite file has one origin, this process, whose every write that can move the queue
 * calls `changed()` (and a rolled-back transaction too), so a kept read is what the file
 * holds. Should another process ever write jobs to the file, a read is also dropped after
 * half a second: its answers (a position, an estimate, the order a claim takes) would then
 * lag by that at most, and a claim still starts only a job its row says is queued. A claim
 * uses the kept read too: after a create, its answer's read serves the claim that follows.
 * (PostgreSQL, shared by origins, reads every time.)
 */
export class QueueReads {
  readonly #q: JobStatements;
  #read: Read | undefined;

  constructor(q: JobStatements) {
    this.#q = q;
  }

  /** A job was written (or a transaction rolled back): the next read goes to the file. */
  changed(): void {
    this.#read = undefined;
  }

  /** Queued jobs in id order, and one row per job holding a thread. */
  snapshot(now = Date.now()): Read {
    if (this.#read === undefined || now - this.#read.at > maxAgeMs) {
      this.#read = { at: now, queued: this.#q.queued.all(), held: this.#q.holders.all() };
    }
    return this.#read;
  }

  /** The queued jobs in the fair order they will start. */
  order(): Queued[] {
    const read = this.snapshot();
    read.order ??= fairOrder(read.queued, heldByUser(read.held));
    return read.order;
  }

  /** Each queued job's position in the fair order (1 starts next). */
  positions(): Map<string, number> {
    const read = this.snapshot();
    read.positions ??= positionsIn(this.order());
    return read.positions;
  }
}
