import type { JobEvent } from '../store.ts';

/** Jobs whose events are kept; the one written to least recently is forgotten first. */
const maxJobs = 2_048;
/** Events kept per job: of a longer history (many progress events), the latest. */
const maxEventsPerJob = 64;
/** About how much memory the kept events may take, all jobs together. */
const maxBytes = 16 * 1024 * 1024;
/** An event's size beside its job's input (a snapshot's other fields, the array's slot). */
const eventBytes = 512;

interface Run {
  events: JobEvent[];
  /** About what one event of this job takes: its input is in every snapshot. */
  perEvent: number;
}

/**
 * The events this process committed lately, per job, so that a subscribe's `since` replay
 * (a client following the job it just created, or resuming after a reconnect) is answered
 * from memory rather than by reading and parsing the stored snapshots. Every event the
 * store commits passes through `add` in commit order; a kept run is used only when it ends
 * at the job's latest seq as the file says (another writer on the file, as the store's race
 * tests make, may have written more) and begins at or before the first event asked for (an
 * older history, or one from before a restart, is read from the file). Bounded by jobs, by
 * events per job, and by bytes (each snapshot carries the job's input, up to the body limit):
 * past a bound the least recently written jobs are forgotten.
 *
 * @example
 * recent.add(event); // after its commit
 * recent.since(jobId, latestSeq, 0) ?? readFromFile(jobId, 0);
 */
export class RecentEvents {
  readonly #byJob = new Map<string, Run>();
  #bytes = 0;

  /** A committed event; it follows its job's kept run, or starts a new one after a gap. */
  add(event: JobEvent): void {
    const kept = this.#byJob.get(event.jobId);
    if (kept) this.#forget(event.jobId, kept); // re-inserted last: the most recently written
    const run =
      kept && kept.events.at(-1)?.seq === event.seq - 1
        ? kept
        : { events: [], perEvent: eventBytes + JSON.stringify(event.job.input ?? null).length };
    run.events.push(event);
    if (run.events.length > maxEventsPerJob) run.events.shift();
    this.#byJob.set(event.jobId, run);
    this.#bytes += run.events.length * run.perEvent;
    for (const [jobId, oldest] of this.#byJob) {
      if (this.#byJob.size <= maxJobs && this.#bytes <= maxBytes) break;
      this.#forget(jobId, oldest);
    }
  }

  /**
   * The job's events after `since` (the first `limit`), when all of them up to `latest` (the
   * job's seq in the file) are kept; else undefined.
   */
  since(jobId: string, latest: number, since: number, limit?: number): JobEvent[] | undefined {
    const run = this.#byJob.get(jobId)?.events;
    const first = run?.[0]?.seq;
    if (run === undefined || first === undefined || first > since + 1) return undefined;
    if (run.at(-1)?.seq !== latest) return undefined;
    const from = since + 1 - first;
    return run.slice(from, limit === undefined ? undefined : from + Math.max(limit, 0));
  }

  /** Bytes the kept events take, about (tests read it). */
  get bytes(): number {
    return this.#bytes;
  }

  #forget(jobId: string, run: Run): void {
    this.#byJob.delete(jobId);
    this.#bytes -= run.events.length * run.perEvent;
  }
}
