import pg from 'pg';
import { terminalStatuses } from '../../../shared/job-states.ts';
import type { EventFeed, JobEvent, Unlisten } from '../store.ts';

/** The channel the `job_events` insert trigger notifies (migration 0001). */
const channel = 'overture_job_events';
/** A job's last seq is remembered this long after its terminal event, to drop late hints. */
const forgetAfterMs = 60_000;
const reconnectMinMs = 250;
const reconnectMaxMs = 5_000;

export interface EventFeedOptions {
  url: string;
  /** Reads the events of hinted jobs: `[job id, after seq, up to seq]` → rows, in order. */
  read(wanted: readonly [string, number, number][]): Promise<JobEvent[]>;
  onError(error: unknown): void;
}

/** The kinds of event that end a job: their names are its terminal statuses. */
const terminal = new Set<string>(terminalStatuses);

/**
 * Every origin's job events, heard through `LISTEN`: a notification is only a hint (`<job
 * id>:<seq>`), and the event itself is read from its row, several hints in one query. The
 * table is the truth: a hint lost while the listening connection was down costs latency,
 * never an event, since the WebSocket hub replays any gap from the table and resyncs the
 * jobs it follows, and the scheduler's heartbeats find a claim taken back.
 *
 * The listener holds its own session connection (outside the pool): `LISTEN` does not work
 * through a transaction-mode pooler such as PgBouncer's, so point `DATABASE_URL` at the
 * database or a session-mode pooler.
 */
export class PostgresEventFeed implements EventFeed {
  readonly #o: EventFeedOptions;
  readonly #listeners = new Set<(event: JobEvent) => void>();
  /** The last seq emitted per job; terminal jobs are forgotten after a while. */
  readonly #seen = new Map<string, number>();
  readonly #ended = new Map<string, number>();
  /** Hints not read yet: job id → [after, up to]. */
  #wanted = new Map<string, [number, number]>();
  #reading: Promise<void> | undefined;
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = reconnectMinMs;
  #forget: NodeJS.Timeout;

  constructor(options: EventFeedOptions) {
    this.#o = options;
    this.#forget = setInterval(() => this.#forgetEnded(), forgetAfterMs);
    this.#forget.unref();
  }

  listen(listener: (event: JobEvent) => void): Unlisten {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Connects the listening session; resolves once `LISTEN` is in place. */
  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#o.url });
    client.on('notification', (message) => this.#hint(message.payload ?? ''));
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('listening connection ended')));
    await client.connect();
    await client.query(`LISTEN ${channel}`);
    this.#client = client;
    this.#retryMs = reconnectMinMs;
  }

  /** Events this process committed: heard at once, not through the database. */
  emitLocal(events: readonly (JobEvent | undefined)[]): void {
    for (const event of events) if (event) this.#emit(event);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#forget);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
    await this.#reading;
  }

  #hint(payload: string): void {
    const colon = payload.lastIndexOf(':');
    const jobId = payload.slice(0, colon);
    const seq = Number(payload.slice(colon + 1));
    if (colon < 1 || !Number.isInteger(seq)) return;
    const seen = this.#seen.get(jobId);
    if (seen !== undefined && seq <= seen) return;
    // A job first heard of mid-way is read from this event on; the hub replays earlier ones.
    const after = seen ?? seq - 1;
    const wanted = this.#wanted.get(jobId);
    this.#wanted.set(jobId, [
      Math.min(wanted?.[0] ?? after, after),
      Math.max(wanted?.[1] ?? seq, seq),
    ]);
    this.#reading ??= this.#readWanted();
  }

  /** Reads every hinted event in one query per turn, in order, until no hint is left. */
  async #readWanted(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.#wanted.size > 0 && !this.#closed) {
        // What was heard since the hint (this process's own commits, through `emitLocal`,
        // whose hints come back too) is not read back.
        const wanted: [string, number, number][] = [];
        for (const [jobId, [after, upTo]] of this.#wanted) {
          const from = Math.max(after, this.#seen.get(jobId) ?? after);
          if (from < upTo) wanted.push([jobId, from, upTo]);
        }
        this.#wanted = new Map();
        if (wanted.length === 0) break;
        for (const event of await this.#o.read(wanted)) this.#emit(event);
      }
    } catch (error) {
      this.#o.onError(error);
    } finally {
      this.#reading = undefined;
    }
  }

  #emit(event: JobEvent): void {
    const seen = this.#seen.get(event.jobId);
    if (seen !== undefined && event.seq <= seen) return;
    this.#seen.set(event.jobId, event.seq);
    if (terminal.has(event.kind)) this.#ended.set(event.jobId, Date.now());
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#o.onError(error);
      }
    }
  }

  #forgetEnded(): void {
    const before = Date.now() - forgetAfterMs;
    for (const [jobId, at] of this.#ended) {
      if (at > before) continue;
      this.#ended.delete(jobId);
      this.#seen.delete(jobId);
    }
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = undefined;
    this.#o.onError(error);
    client.end().catch(() => undefined);
    const retry = () => {
      if (this.#closed) return;
      this.start().catch((again: unknown) => {
        this.#o.onError(again);
        this.#retryMs = Math.min(this.#retryMs * 2, reconnectMaxMs);
        setTimeout(retry, this.#retryMs).unref();
      });
    };
    setTimeout(retry, this.#retryMs).unref();
  }
}
