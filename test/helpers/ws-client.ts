import { onTestFinished } from 'vitest';
import WebSocket, { type ClientOptions, type RawData } from 'ws';
import { terminalStatuses } from '../../shared/schemas/jobs.ts';
import type { ServerMessage } from '../../shared/ws-messages.ts';

export type JobMessage = Extract<ServerMessage, { type: 'job' }>;
export type QueueMessage = Extract<ServerMessage, { type: 'queue' }>;
export type ErrorMessage = Extract<ServerMessage, { type: 'error' }>;

export interface Closed {
  code: number;
  reason: string;
}

const terminalEvents: readonly string[] = terminalStatuses;

/** True for the `job` message that ends a job. */
export const isTerminal = (m: ServerMessage): m is JobMessage =>
  m.type === 'job' && terminalEvents.includes(m.event);

/**
 * A `ws` client that keeps every message it received, for assertions. Binary frames are
 * kept as `{type: 'binary'}` so that a test notices them.
 */
export class TestSocket {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  /** Settles when the socket closes, with the code the client saw (1006: no close frame). */
  readonly closed: Promise<Closed>;
  closeInfo: Closed | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.messages.push(
        isBinary ? ({ type: 'binary' } as never) : (JSON.parse(data.toString()) as ServerMessage),
      );
      for (const wake of this.#waiters) wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const wake of this.#waiters) wake();
      });
    });
    ws.on('error', () => {}); // a refused or reset socket ends in `close`, which tests read
  }

  /** The close, or a rejection if the socket is still open after `timeoutMs`. */
  whenClosed(timeoutMs = 15_000): Promise<Closed> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`socket still open after ${timeoutMs} ms ${this.#tail()}`)),
        timeoutMs,
      );
      void this.closed.then((closed) => {
        clearTimeout(timer);
        resolve(closed);
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a value as JSON (strings and buffers as they are). */
  send(message: unknown): void {
    const raw =
      typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message);
    this.ws.send(raw);
  }

  /** The first message (from index `from`) that matches; rejects on close or after the wait. */
  waitFor<T extends ServerMessage = ServerMessage>(
    predicate: (m: ServerMessage) => boolean,
    { from = 0, timeoutMs = 20_000 } = {},
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.slice(from).find(predicate);
        if (found) {
          done();
          resolve(found as T);
        } else if (this.closeInfo) {
          done();
          reject(new Error(`socket closed (${JSON.stringify(this.closeInfo)}) ${this.#tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching message in ${timeoutMs} ms ${this.#tail()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Subscribes and waits for the answer: `subscribed`, or an `error` about that job. */
  async subscribe(jobId: string, since?: number): Promise<ServerMessage> {
    const from = this.messages.length;
    this.send({ type: 'subscribe', jobId, ...(since === undefined ? {} : { since }) });
    return this.waitFor(
      (m) => (m.type === 'subscribed' || m.type === 'error') && m.jobId === jobId,
      { from },
    );
  }

  /** The `job` messages received for one job, in arrival order. */
  jobEvents(jobId: string): JobMessage[] {
    return this.messages.filter((m): m is JobMessage => m.type === 'job' && m.jobId === jobId);
  }

  /** Waits for the job's terminal event and answers all its `job` messages. */
  async untilTerminal(jobId: string, timeoutMs = 20_000): Promise<JobMessage[]> {
    await this.waitFor((m) => isTerminal(m) && m.jobId === jobId, { timeoutMs });
    return this.jobEvents(jobId);
  }

  #tail(): string {
    return `; last messages: ${JSON.stringify(this.messages.slice(-3)).slice(0, 600)}`;
  }
}

export interface OpenOptions {
  /** Sent as `?token=`. */
  token?: string;
  /** Wait for the `ready` message after a `?token=` (default true). */
  waitReady?: boolean;
  /** Options of the `ws` client, such as `autoPong: false`. */
  ws?: ClientOptions;
}

/** The WebSocket URL of an origin's `/v1/ws`. */
export function wsUrl(base: string, token?: string): string {
  const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  return `${base.replace(/^http/, 'ws')}/v1/ws${query}`;
}

/**
 * Opens a socket to an origin's `/v1/ws`, terminated when the test finishes.
 *
 * @example
 * const socket = await openSocket(origin.url, { token });
 * await socket.subscribe(job.id, 0);
 */
export async function openSocket(base: string, options: OpenOptions = {}): Promise<TestSocket> {
  const ws = new WebSocket(wsUrl(base, options.token), options.ws);
  const socket = new TestSocket(ws);
  onTestFinished(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode}`)),
    );
    ws.once('error', reject);
  });
  if (options.token !== undefined && options.waitReady !== false) {
    await socket.waitFor((m) => m.type === 'ready');
  }
  return socket;
}

/**
 * Asserts nothing but answers the problems of a job's event stream, for a readable
 * failure: seqs must run from `from` by 1, with no duplicate, and end with a terminal event.
 */
export function streamProblems(events: readonly JobMessage[], from = 1): string[] {
  const problems: string[] = [];
  events.forEach((e, i) => {
    if (e.seq !== from + i) problems.push(`#${i}: seq ${e.seq}, expected ${from + i}`);
    if (e.job.seq !== e.seq) problems.push(`#${i}: job.seq ${e.job.seq} != seq ${e.seq}`);
  });
  const last = events.at(-1);
  if (!last || !isTerminal(last)) problems.push(`does not end with a terminal event`);
  if (events.slice(0, -1).some(isTerminal)) problems.push('a terminal event before the end');
  return problems;
}

/** The HTTP status a WebSocket upgrade gets: 101, or the refusal's (401, 404, …). */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}
