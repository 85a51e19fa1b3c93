import type { JobEvent } from '../store.ts';

/** Jobs whose events are kept; the one written to least recently is forgotten first. */
const maxJobs = 2_048;
/** Events kept per job: of a longer history (many progress events), the latest. */
const maxEventsPerJob = 64;

/**
 * The events this process committed lately, per job, so that a subscribe's `since` replay
 * (a client following the job it just created, or resuming after a reconnect) is answered
 * from memory rather than by reading and parsing the stored snapshots. Every event the
 * store commits passes through `add` in commit order; a kept run is used only when it ends
 * at the job's latest seq as the file says (another writer on the file, as the store's race
 * tests make, may have written more) and begins at or before the first event asked for (an
 * older history, or one from before a restart, is read from the file).
 *
 * @example
 * recent.add(event); // after its commit
 * recent.since(jobId, latestSeq, 0) ?? readFromFile(jobId, 0);
 */
export class RecentEvents {
  readonly #byJob = new Map<string, JobEvent[]>();

  /** A committed event; it follows its job's kept run, or starts a new one after a gap. */
  add(event: JobEvent): void {
    const kept = this.#byJob.get(event.jobId);
    this.#byJob.delete(event.jobId); // re-inserted last: the most recently written
    const run = kept && kept.at(-1)?.seq === event.seq - 1 ? kept : [];
    run.push(event);
    if (run.length > maxEventsPerJob) run.shift();
    this.#byJob.set(event.jobId, run);
    if (this.#byJob.size > maxJobs) {
      const oldest = this.#byJob.keys().next().value;
      if (oldest !== undefined) this.#byJob.delete(oldest);
    }
  }

  /**
   * The job's events after `since` (the first `limit`), when all of them up to `latest` (the
   * job's seq in the file) are kept; else undefined.
   */
  since(jobId: string, latest: number, since: number, limit?: number): JobEvent[] | undefined {
    const run = this.#byJob.get(jobId);
    const first = run?.[0]?.seq;
    if (run === undefined || first === undefined || first > since + 1) return undefined;
    if (run.at(-1)?.seq !== latest) return undefined;
    const from = since + 1 - first;
    return run.slice(from, limit === undefined ? undefined : from + Math.max(limit, 0));
  }
}
