import WebSocket from 'ws';
import type { Job } from '../../shared/schemas/jobs.ts';
import { apiClient } from '../../test/helpers/api.ts';

export interface JobTiming {
  jobId: string;
  /** ms, performance.now() of this process */
  submittedAt: number;
  doneAt: number;
  status: string;
  /** The job as the 202 answer showed it (its queue position and ETA then; a peer's: its id). */
  accepted: Job;
}

interface Waiter {
  resolve(status: string): void;
  reject(error: Error): void;
}

/** One benchmark client: an account, a WebSocket, and one job in flight at a time. */
class JobClient {
  readonly #base: string;
  readonly #token: string;
  readonly #ws: WebSocket;
  readonly #waiting = new Map<string, Waiter>();
  /** Terminal events that arrived before their job was being waited for. */
  readonly #early = new Map<string, string>();
  /** Why the socket closed: a job waited for after that would wait forever. */
  #closed: Error | undefined;

  private constructor(base: string, token: string, ws: WebSocket) {
    this.#base = base;
    this.#token = token;
    this.#ws = ws;
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { type: string; jobId?: string; event?: string };
      if (m.type !== 'job' || !m.jobId || !m.event) return;
      if (m.event !== 'succeeded' && m.event !== 'failed' && m.event !== 'canceled') return;
      const waiter = this.#waiting.get(m.jobId);
      if (waiter) {
        this.#waiting.delete(m.jobId);
        waiter.resolve(m.event);
      } else {
        this.#early.set(m.jobId, m.event);
      }
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.#closed = new Error(`the client's socket closed: ${code} ${reason.toString()}`);
      for (const waiter of this.#waiting.values()) waiter.reject(this.#closed);
      this.#waiting.clear();
    });
  }

  static async open(base: string, token: string): Promise<JobClient> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/ws?token=${token}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new JobClient(base, token, ws);
  }

  /** Submits one job and waits for its terminal event on the socket. */
  async run(model: string, input: Record<string, unknown>): Promise<JobTiming> {
    const submittedAt = performance.now();
    const res = await fetch(`${this.#base}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, input }),
    });
    const job = (await res.json()) as Partial<Job> & { error?: unknown };
    if (res.status !== 202 || !job.id)
      throw new Error(`submit failed: ${res.status} ${JSON.stringify(job)}`);
    const accepted = job as Job;
    const jobId = job.id;
    const status = await new Promise<string>((resolve, reject) => {
      const early = this.#early.get(jobId);
      if (early) {
        this.#early.delete(jobId);
        resolve(early);
        return;
      }
      if (this.#closed) {
        reject(this.#closed);
        return;
      }
      this.#waiting.set(jobId, { resolve, reject });
      // since 0: a job that ended before this subscribe still reports its end.
      this.#ws.send(JSON.stringify({ type: 'subscribe', jobId, since: 0 }));
    });
    return { jobId, submittedAt, doneAt: performance.now(), status, accepted };
  }

  /** `GET /v1/jobs/:id` of one of this client's jobs. */
  async read(jobId: string): Promise<Job> {
    const res = await fetch(`${this.#base}/v1/jobs/${jobId}`, {
      headers: { authorization: `Bearer ${this.#token}` },
    });
    if (res.status !== 200) throw new Error(`read failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as Job;
  }

  close(): void {
    this.#ws.close();
  }
}

/** How a client gets the bearer token of a fresh user of the server at `base`. */
export type SignUp = (base: string) => Promise<string>;

/** An account registered on an Overture origin. */
const registerOnOrigin: SignUp = async (base) =>
  // A fresh address each: unique across calls made at once, and across origins of one database.
  (await apiClient(base).signUp()).token;

/**
 * Signs up `count` users (on the origin, unless `signUp` says how else: a peer's tokens)
 * and opens a client for each.
 */
export async function openClients(
  base: string,
  count: number,
  signUp: SignUp = registerOnOrigin,
): Promise<JobClient[]> {
  const clients: JobClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await JobClient.open(base, await signUp(base)));
  return clients;
}

/**
 * Closed loop: every client submits a job, waits for its end, and submits the next, until
 * `total` jobs are done. Answers the elapsed time and each job's timing.
 */
export async function closedLoop(
  clients: readonly JobClient[],
  total: number,
  model: string,
  input: Record<string, unknown>,
): Promise<{ ms: number; timings: JobTiming[] }> {
  const timings: JobTiming[] = [];
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      while (started < total) {
        started++;
        timings.push(await client.run(model, input));
      }
    }),
  );
  return { ms: performance.now() - t0, timings };
}

export type { JobClient };
