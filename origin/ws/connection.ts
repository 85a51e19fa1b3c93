import type { WebSocket } from 'ws';
import {
  type ClientMessage,
  clientMessageSchema,
  closeCodes,
  type ServerMessage,
  type WsErrorCode,
} from '../../shared/ws-messages.ts';
import type { Principal } from '../auth/principal.ts';
import { TokenBucket } from '../lib/token-bucket.ts';
import type { Subscriber, Subscriptions } from './subscriptions.ts';

export interface WsLimits {
  maxBufferedBytes: number;
  maxMessageBytes: number;
  maxSubscriptions: number;
  maxSocketsPerUser: number;
  errorBudget: number;
  authTimeoutMs: number;
  pingIntervalMs: number;
  /** Messages a socket may send per second; past them it is closed (1008). */
  maxMessagesPerSecond: number;
  /** Stored events a socket may be replayed at once (the bucket), and per second after. */
  maxReplayEvents: number;
  replayEventsPerSecond: number;
}

/** What a connection needs from its hub. */
export interface ConnectionContext {
  readonly limits: WsLimits;
  readonly subscriptions: Subscriptions;
  /** Checks the token: the socket is admitted as its user, or closed (4401, 1008). */
  admit(connection: Connection, token: string): Promise<void>;
  onSlowConsumer(connection: Connection): void;
  /** A task of this socket failed: it is logged, and the socket closed (1011). */
  onTaskError(connection: Connection, error: unknown): void;
}

/**
 * One client socket: its auth state, its queue of work (messages are handled one at a
 * time, in order), its sending bounds, its error budget, and its budgets of messages and of
 * replayed events. Its subscriptions are the hub's `Subscriptions`.
 */
export class Connection implements Subscriber {
  readonly ws: WebSocket;
  readonly #context: ConnectionContext;
  userId: string | undefined;
  /** Who the socket authenticated as, re-checked by the hub while it is open. */
  principal: Principal | undefined;
  missedPongs = 0;
  readonly replayBudget: TokenBucket;
  readonly #messages: TokenBucket;
  #errors = 0;
  #closed = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(ws: WebSocket, context: ConnectionContext) {
    this.ws = ws;
    this.#context = context;
    const limits = context.limits;
    // A client that reconnects sends its auth and a subscribe per followed job at once: that
    // burst always fits, whatever the rate.
    this.#messages = new TokenBucket(
      Math.max(limits.maxMessagesPerSecond, limits.maxSubscriptions + 1),
      limits.maxMessagesPerSecond,
    );
    this.replayBudget = new TokenBucket(limits.maxReplayEvents, limits.replayEventsPerSecond);
  }

  get isOpen(): boolean {
    return !this.#closed && this.ws.readyState === this.ws.OPEN;
  }

  /** Sends unless the socket's unsent bytes would pass the bound: then it is closed (1013). */
  send(message: ServerMessage | string): void {
    if (!this.isOpen) return;
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    if (this.ws.bufferedAmount + text.length > this.#context.limits.maxBufferedBytes) {
      this.#context.onSlowConsumer(this);
      this.close(closeCodes.tryAgainLater, 'slow consumer: reconnect and resume');
      // A slow peer may never read the close frame either.
      setTimeout(() => this.ws.terminate(), 1_000).unref();
      return;
    }
    this.ws.send(text);
  }

  /** Runs `task` once every earlier one has finished; a failure closes the socket (1011). */
  schedule(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (!this.isOpen) return; // closed while it waited its turn
      try {
        await task();
      } catch (error) {
        this.#context.onTaskError(this, error);
      }
    });
  }

  /** Resolves once every task scheduled so far has run (tests wait on it). */
  idle(): Promise<void> {
    return this.#queue;
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
    if (this.#errors > this.#context.limits.errorBudget) {
      this.close(closeCodes.policyViolation, 'too many bad messages');
    }
  }

  /** Closes the socket (1008): it asked for more than one of its budgets allows. */
  overBudget(reason: string): void {
    this.close(closeCodes.policyViolation, reason);
    // A flooding peer may not be reading, and never answer the close frame.
    setTimeout(() => this.ws.terminate(), 1_000).unref();
  }

  /**
   * A frame from the client, handled in its turn; past the message budget the socket is
   * closed at once, so a flood queues no work.
   */
  receive(data: Buffer, isBinary: boolean): void {
    if (this.#closed) return;
    if (!this.#messages.take()) {
      this.overBudget('too many messages');
      return;
    }
    this.schedule(() => this.#onMessage(data, isBinary));
  }

  async #onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (isBinary || data.byteLength > this.#context.limits.maxMessageBytes) {
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
      else await this.#context.admit(this, message.token);
      return;
    }
    if (this.userId === undefined) {
      this.close(closeCodes.unauthorized, 'authenticate first');
      return;
    }
    const { subscriptions } = this.#context;
    if (message.type === 'unsubscribe') {
      subscriptions.unsubscribe(this, message.jobId);
      this.send({ type: 'unsubscribed', jobId: message.jobId });
      return;
    }
    await subscriptions.subscribe(this, message.jobId, message.since);
  }
}
