import type { WebSocket } from 'ws';
import { type JobEventKind, terminalStatuses } from '../../shared/schemas/jobs.ts';
import {
  type ClientMessage,
  clientMessageSchema,
  closeCodes,
  type ServerMessage,
  type WsErrorCode,
} from '../../shared/ws-messages.ts';
import type { JobEvent } from '../store/store.ts';
import type { HubContext } from './hub-context.ts';

interface Subscription {
  /** The last seq this socket was sent for the job. */
  lastSeq: number;
  /** While the stored history is being replayed, live events wait here. */
  pending: JobEvent[] | undefined;
  /** The last queue position sent (queue moves are coalesced and only sent on change). */
  position: number | null;
}

/** The `job` message of an event, as sent on the wire. */
export const jobMessage = (e: JobEvent): string =>
  JSON.stringify({
    type: 'job',
    jobId: e.jobId,
    seq: e.seq,
    event: e.kind as JobEventKind,
    job: e.job,
  } satisfies ServerMessage);

/**
 * One client socket: its auth state, its subscriptions, and gapless, duplicate-free
 * delivery of each followed job's events in `seq` order.
 */
export class Connection {
  readonly ws: WebSocket;
  readonly #hub: HubContext;
  userId: string | undefined;
  readonly subscriptions = new Map<string, Subscription>();
  missedPongs = 0;
  #errors = 0;
  #closed = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(ws: WebSocket, hub: HubContext) {
    this.ws = ws;
    this.#hub = hub;
  }

  /** Sends unless the socket's unsent bytes would pass the bound: then it is closed (1013). */
  send(message: ServerMessage | string): void {
    if (this.#closed || this.ws.readyState !== this.ws.OPEN) return;
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    if (this.ws.bufferedAmount + text.length > this.#hub.limits.maxBufferedBytes) {
      this.#hub.onSlowConsumer(this);
      this.close(closeCodes.tryAgainLater, 'slow consumer: reconnect and resume');
      // A slow peer may never read the close frame either.
      setTimeout(() => this.ws.terminate(), 1_000).unref();
      return;
    }
    this.ws.send(text);
  }

  /** Runs `task` once every earlier one has finished, so messages are handled in order. */
  enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.ws.close(code, reason);
  }

  /** Counts a bad message; past the budget the socket is closed (1008). */
  fail(code: WsErrorCode, message: string, jobId?: string): void {
    this.send({ type: 'error', code, message, ...(jobId ? { jobId } : {}) });
    this.#errors++;
    if (this.#errors > this.#hub.limits.errorBudget) {
      this.close(closeCodes.policyViolation, 'too many bad messages');
    }
  }

  async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (this.ws.readyState !== this.ws.OPEN) return; // closed while it waited its turn
    if (isBinary || data.byteLength > this.#hub.limits.maxMessageBytes) {
      const why = isBinary ? 'binary frames are not accepted' : 'the message is too large';
      this.fail(isBinary ? 'invalid_message' : 'message_too_large', why);
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString('utf8'));
    } catch {
      this.fail('invalid_message', 'the message is not JSON');
      return;
    }
    const parsed = clientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.fail('invalid_message', 'unknown message type or bad fields');
      return;
    }
    await this.#handle(parsed.data);
  }

  async #handle(message: ClientMessage): Promise<void> {
    if (message.type === 'auth') {
      if (this.userId !== undefined) this.fail('invalid_message', 'already authenticated');
      else await this.#hub.authenticate(this, message.token);
      return;
    }
    if (this.userId === undefined) {
      this.close(closeCodes.unauthorized, 'authenticate first');
      return;
    }
    if (message.type === 'unsubscribe') {
      this.#hub.unsubscribe(this, message.jobId);
      this.subscriptions.delete(message.jobId);
      this.send({ type: 'unsubscribed', jobId: message.jobId });
      return;
    }
    await this.#subscribe(message.jobId, message.since);
  }

  async #subscribe(jobId: string, since: number | undefined): Promise<void> {
    const userId = this.userId;
    if (userId === undefined) return;
    if (
      !this.subscriptions.has(jobId) &&
      this.subscriptions.size >= this.#hub.limits.maxSubscriptions
    ) {
      this.fail('too_many_subscriptions', 'unsubscribe from a job first', jobId);
      return;
    }
    // Listen before reading, so nothing committed in between is missed.
    const sub: Subscription = { lastSeq: since ?? 0, pending: [], position: null };
    this.subscriptions.set(jobId, sub);
    this.#hub.subscribe(this, jobId);
    const job = await this.#hub.store.get(userId, jobId);
    if (!job) {
      this.subscriptions.delete(jobId);
      this.#hub.unsubscribe(this, jobId);
      // Unknown and not-yours answer the same: nothing leaks.
      this.fail('not_found', 'no such job', jobId);
      return;
    }
    // A seq from the future (say, a client of a restored database) resumes from now.
    sub.lastSeq = Math.min(since ?? job.seq, job.seq);
    sub.position = job.queuePosition;
    this.send({ type: 'subscribed', jobId, seq: job.seq, job });
    await this.#catchUp(jobId, sub);
    // Already over and nothing left to send: the subscription has nothing to wait for.
    if (terminalStatuses.includes(job.status) && sub.lastSeq >= job.seq) this.#end(jobId);
  }

  /** A job's terminal event was sent: no later event can come, so the subscription ends. */
  #end(jobId: string): void {
    if (!this.subscriptions.delete(jobId)) return;
    this.#hub.unsubscribe(this, jobId);
  }

  /** Sends stored events after `lastSeq`, then whatever arrived live meanwhile. */
  async #catchUp(jobId: string, sub: Subscription): Promise<void> {
    sub.pending ??= [];
    for (const e of await this.#hub.store.eventsSince(jobId, sub.lastSeq)) {
      this.#sendEvent(sub, e, jobMessage(e));
    }
    const waiting = sub.pending;
    sub.pending = undefined;
    for (const e of waiting) this.deliver(jobId, e, jobMessage(e));
  }

  /** Delivers a live event: in order, once; a gap (a missed event) triggers a catch-up. */
  deliver(jobId: string, event: JobEvent, text: string): void {
    const sub = this.subscriptions.get(jobId);
    if (!sub || event.userId !== this.userId) return;
    if (sub.pending) {
      sub.pending.push(event);
      return;
    }
    if (event.seq <= sub.lastSeq) return;
    if (event.seq > sub.lastSeq + 1) {
      sub.pending = [event];
      void this.#catchUp(jobId, sub);
      return;
    }
    this.#sendEvent(sub, event, text);
  }

  #sendEvent(sub: Subscription, event: JobEvent, text: string): void {
    if (event.seq <= sub.lastSeq) return;
    sub.lastSeq = event.seq;
    sub.position = event.job.queuePosition;
    this.send(text);
    if (terminalStatuses.includes(event.job.status)) this.#end(event.jobId);
  }

  /** Sends a coalesced queue move when the followed job's position changed. */
  moveInQueue(jobId: string, seq: number, position: number): void {
    const sub = this.subscriptions.get(jobId);
    if (!sub || sub.pending || sub.position === position || seq !== sub.lastSeq) return;
    sub.position = position;
    this.send({ type: 'queue', jobId, seq, queuePosition: position });
  }
}
