import type { Job } from '../../../shared/schemas/jobs.ts';
import type { ServerMessage } from '../../../shared/ws-messages.ts';

export interface LiveHandlers {
  /** A job changed (a stored event, or the current state on subscribe). */
  onJob(job: Job): void;
  /** A queued job moved in the line, or its estimated start (seconds from now) did. */
  onQueue(jobId: string, position: number, etaSeconds: number): void;
  onOnline(online: boolean): void;
  /** The server refused the token: the session is over. */
  onUnauthorized(): void;
}

const maxBackoffMs = 10_000;

/**
 * The page's WebSocket: follows jobs, and after any drop reconnects by itself (backoff
 * with jitter) and resubscribes every followed job from its last `seq`, so no event is lost.
 */
export class LiveSocket {
  readonly #handlers: LiveHandlers;
  readonly #token: () => string | undefined;
  /** Followed jobs and the last seq seen of each. */
  readonly #followed = new Map<string, number>();
  #ws: WebSocket | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(token: () => string | undefined, handlers: LiveHandlers) {
    this.#token = token;
    this.#handlers = handlers;
  }

  connect(): void {
    this.#closed = false;
    const token = this.#token();
    if (!token) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    // The token goes in the first message, never in the URL, which request logs keep.
    const ws = new WebSocket(`${scheme}://${location.host}/v1/ws`);
    this.#ws = ws;
    ws.onopen = () => {
      this.#attempt = 0;
      this.#handlers.onOnline(true);
      this.#send({ type: 'auth', token });
      for (const [jobId, since] of this.#followed) this.#subscribe(jobId, since);
    };
    ws.onmessage = (event) => this.#receive(JSON.parse(String(event.data)) as ServerMessage);
    ws.onclose = (event) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      if (this.#closed) return;
      if (event.code === 4401) {
        this.#handlers.onUnauthorized();
        return;
      }
      this.#handlers.onOnline(false);
      const delay = Math.min(maxBackoffMs, 500 * 2 ** this.#attempt) * (0.75 + Math.random() / 2);
      this.#attempt++;
      this.#timer = setTimeout(() => this.connect(), delay);
    };
  }

  close(): void {
    this.pause();
    this.#followed.clear();
  }

  /** Closes the socket but keeps the followed jobs, for `connect` to resume (a new token). */
  pause(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#ws?.close(1000, 'signed out');
    this.#ws = undefined;
  }

  /** Follows a job from `seq` (its state as last seen). */
  follow(jobId: string, seq: number): void {
    const known = this.#followed.get(jobId);
    if (known !== undefined && known >= seq) return;
    this.#followed.set(jobId, seq);
    if (known === undefined) this.#subscribe(jobId, seq);
  }

  unfollow(jobId: string): void {
    if (!this.#followed.delete(jobId)) return;
    this.#send({ type: 'unsubscribe', jobId });
  }

  #subscribe(jobId: string, since: number): void {
    this.#send({ type: 'subscribe', jobId, since });
  }

  #send(message: unknown): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  #receive(message: ServerMessage): void {
    switch (message.type) {
      case 'job':
      case 'subscribed': {
        // The page shows the latest state only: anything not newer than what it has is skipped.
        const last = this.#followed.get(message.jobId);
        if (last === undefined || message.seq <= last) return;
        this.#followed.set(message.jobId, message.seq);
        this.#handlers.onJob(message.job);
        return;
      }
      case 'queue':
        this.#handlers.onQueue(message.jobId, message.queuePosition, message.etaSeconds);
        return;
      case 'error':
        // An unknown job (say, one removed) is simply no longer followed.
        if (message.jobId) this.#followed.delete(message.jobId);
        return;
      default:
        return;
    }
  }
}
