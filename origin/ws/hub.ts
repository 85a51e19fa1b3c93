import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Job } from '../../shared/schemas/jobs.ts';
import { closeCodes } from '../../shared/ws-messages.ts';
import type { EdgeTrust } from '../auth/edge-trust.ts';
import type { Principal } from '../auth/principal.ts';
import { toEtaSeconds } from '../jobs/start-estimate.ts';
import type { EventFeed, JobEvent, JobStore, QueueSnapshot } from '../store/store.ts';
import { Connection, type ConnectionContext, type WsLimits } from './connection.ts';
import { Subscriptions } from './subscriptions.ts';

export type { WsLimits };

export interface HubOptions {
  store: Pick<JobStore, 'get' | 'eventsSince' | 'seqs'>;
  /** Estimated starts of queued jobs: in `subscribed` answers and `queue` messages. */
  estimates: {
    withEta(job: Job): Promise<Job>;
    snapshot(): Promise<{ snapshot: QueueSnapshot; starts: Map<string, number> }>;
  };
  /** The events of every process sharing the store. */
  events: EventFeed;
  authenticate(token: string): Promise<Principal | undefined>;
  /** Of these principals, those that no longer hold (ended, expired, revoked). */
  endedPrincipals(principals: readonly Principal[]): Promise<ReadonlySet<Principal>>;
  /**
   * How often every socket's credential is checked again: a session ended or a key revoked on
   * another origin closes its sockets here (4401) within this, as does a token's expiry.
   */
  recheckIntervalMs: number;
  /** Upgrades must carry a valid edge signature; undefined turns the check off (development). */
  edge: EdgeTrust | undefined;
  limits: WsLimits;
  logger: Logger;
  /** Hears each socket closed for being slow (a metric). */
  onSlowConsumer?: () => void;
  /** Queue moves are sent at most this often (coalesced). */
  queueUpdateIntervalMs?: number;
  /** How often followed jobs are checked for events no notification brought. */
  resyncIntervalMs: number;
}

/** What the origin asks of its WebSocket hub. */
export interface Hub {
  readonly connectionCount: number;
  /** Takes over the server's upgrades to `/v1/ws`. */
  attach(server: Server): void;
  /**
   * Checks the credentials of one user's sockets now (a sign-out, a password change or a
   * revoked key on this origin), closing those that ended (4401); others wait for the
   * periodic re-check.
   */
  recheck(userId: string): void;
  /** Closes every socket (1012 by default: clients reconnect and resume). */
  close(code?: number, reason?: string): void;
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Frames larger than this close the socket outright (1009); smaller oversize ones get an error. */
const hardFrameLimit = 64 * 1024;
const defaultQueueUpdateIntervalMs = 100;

/**
 * The WebSocket hub on the origin's HTTP server (`ws` in noServer mode on `/v1/ws`): auth,
 * sockets per user, fan-out of committed job events from every process, coalesced queue
 * moves, ping/pong, and the bounds of API.md.
 */
export class WsHub implements Hub, ConnectionContext {
  readonly limits: WsLimits;
  readonly subscriptions: Subscriptions;
  readonly #o: HubOptions;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: hardFrameLimit });
  readonly #connections = new Set<Connection>();
  readonly #byUser = new Map<string, Set<Connection>>();
  readonly #ping: NodeJS.Timeout;
  readonly #resync: NodeJS.Timeout;
  readonly #recheckTimer: NodeJS.Timeout;
  readonly #unlisten: () => void;
  #queueTimer: NodeJS.Timeout | undefined;
  /** A periodic re-check is running: the next one waits for it rather than piling up. */
  #rechecking = false;
  /** Sockets closed for being slow, since start (a metric). */
  slowConsumersDropped = 0;

  constructor(options: HubOptions) {
    this.#o = options;
    this.limits = options.limits;
    const { store, estimates } = options;
    this.subscriptions = new Subscriptions(
      {
        eventsSince: (jobId, since, limit) => store.eventsSince(jobId, since, limit),
        get: async (userId, jobId) => {
          const job = await store.get(userId, jobId);
          return job && estimates.withEta(job);
        },
      },
      options.limits.maxSubscriptions,
    );
    this.#unlisten = options.events.listen((e) => this.#publish(e));
    this.#ping = setInterval(() => this.#heartbeat(), options.limits.pingIntervalMs);
    this.#ping.unref();
    this.#resync = setInterval(() => this.#resyncFollowed(), options.resyncIntervalMs);
    this.#resync.unref();
    this.#recheckTimer = setInterval(() => {
      if (this.#rechecking) return;
      this.#rechecking = true;
      void this.#recheck().finally(() => {
        this.#rechecking = false;
      });
    }, options.recheckIntervalMs);
    this.#recheckTimer.unref();
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Takes over `upgrade` requests for `/v1/ws` on the server; others are refused. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node takes its own 'error' listener off a socket it hands to 'upgrade': until ws
      // takes the socket over, a client that resets it would be an uncaught error that
      // ends the process (the pattern of ws's README).
      const onSocketError = () => socket.destroy();
      socket.on('error', onSocketError);
      const url = new URL(req.url ?? '/', 'http://origin');
      if (url.pathname !== '/v1/ws') {
        refuseUpgrade(socket, 404, 'Not Found');
        return;
      }
      this.#trusted(req, url).then(
        (ok) => {
          if (socket.destroyed) return;
          if (!ok) {
            refuseUpgrade(socket, 401, 'Unauthorized');
            return;
          }
          socket.off('error', onSocketError);
          this.#wss.handleUpgrade(req, socket, head, (ws) =>
            this.#accept(ws, url.searchParams.get('token')),
          );
        },
        (error: unknown) => {
          this.#o.logger.error({ err: error }, 'WebSocket upgrade check failed');
          refuseUpgrade(socket, 500, 'Internal Server Error');
        },
      );
    });
  }

  async #trusted(req: IncomingMessage, url: URL): Promise<boolean> {
    if (!this.#o.edge) return true;
    const result = await this.#o.edge.check({
      method: req.method ?? 'GET',
      pathWithQuery: url.pathname + url.search,
      body: undefined,
      // Every value of a repeated header, joined as the edge's Headers join them (Node's
      // `req.headers` keeps only the first Authorization).
      header: (name) => req.headersDistinct[name]?.join(', '),
    });
    return result.ok;
  }

  #accept(ws: WebSocket, token: string | null): void {
    const connection = new Connection(ws, this);
    this.#connections.add(connection);
    // One at a time, in arrival order: a subscribe sent right behind the token (in the query
    // or an auth message) waits for the auth instead of being refused as unauthenticated.
    ws.on('message', (data: Buffer, isBinary) => connection.receive(data, isBinary));
    ws.on('pong', () => {
      connection.missedPongs = 0;
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.#forget(connection));
    if (token) {
      connection.schedule(() => this.admit(connection, token));
    } else {
      setTimeout(() => {
        if (connection.userId === undefined) {
          connection.close(closeCodes.unauthorized, 'no auth message in time');
        }
      }, this.limits.authTimeoutMs).unref();
    }
  }

  async admit(connection: Connection, token: string): Promise<void> {
    const principal = await this.#o.authenticate(token);
    // Gone while its token was checked: counting it would hold one of the user's sockets forever.
    if (!connection.isOpen) return;
    if (!principal) {
      connection.close(closeCodes.unauthorized, 'invalid token');
      return;
    }
    const mine = this.#byUser.get(principal.userId) ?? new Set<Connection>();
    if (mine.size >= this.limits.maxSocketsPerUser) {
      connection.close(closeCodes.policyViolation, 'too many sockets for this user');
      return;
    }
    connection.userId = principal.userId;
    connection.principal = principal;
    mine.add(connection);
    this.#byUser.set(principal.userId, mine);
    connection.send({ type: 'ready', userId: principal.userId });
  }

  onSlowConsumer(connection: Connection): void {
    this.slowConsumersDropped++;
    this.#o.onSlowConsumer?.();
    this.#o.logger.warn({ userId: connection.userId }, 'closed a slow websocket consumer');
  }

  onTaskError(connection: Connection, error: unknown): void {
    this.#o.logger.error({ err: error, userId: connection.userId }, 'websocket message failed');
    connection.close(1011, 'internal error');
  }

  recheck(userId: string): void {
    void this.#recheck(this.#byUser.get(userId) ?? []);
  }

  /** Closes (4401) the sockets whose credential no longer holds; every socket by default. */
  async #recheck(among: Iterable<Connection> = this.#connections): Promise<void> {
    const open = [...among].filter((c) => c.principal && c.isOpen);
    if (open.length === 0) return;
    await this.#o.endedPrincipals(open.map((c) => c.principal as Principal)).then(
      (ended) => {
        for (const c of open) {
          if (c.principal && ended.has(c.principal)) {
            c.close(closeCodes.unauthorized, 'the session or key has ended');
          }
        }
      },
      (error: unknown) => this.#o.logger.warn({ err: error }, 'websocket credential check failed'),
    );
  }

  /** Closes every socket (1012 on restart, so clients reconnect and resume). */
  close(code: number = closeCodes.restarting, reason = 'server restarting'): void {
    clearInterval(this.#ping);
    clearInterval(this.#resync);
    clearInterval(this.#recheckTimer);
    clearTimeout(this.#queueTimer);
    this.#unlisten();
    for (const c of this.#connections) c.close(code, reason);
    this.#wss.close();
  }

  #forget(connection: Connection): void {
    this.#connections.delete(connection);
    this.subscriptions.removeAll(connection);
    if (connection.userId !== undefined) {
      const mine = this.#byUser.get(connection.userId);
      mine?.delete(connection);
      if (mine?.size === 0) this.#byUser.delete(connection.userId);
    }
  }

  #publish(event: JobEvent): void {
    this.subscriptions.publish(event);
    if (event.kind !== 'progress') this.#scheduleQueueMoves();
  }

  /**
   * A job joined, left or re-entered the queue, or started (its user now holds one more
   * thread): the queued jobs may have moved in the fair order.
   */
  #scheduleQueueMoves(): void {
    if (this.#queueTimer || !this.subscriptions.any) return;
    this.#queueTimer = setTimeout(() => {
      this.#queueTimer = undefined;
      this.#o.estimates.snapshot().then(
        ({ snapshot, starts }) =>
          this.subscriptions.moveInQueue(snapshot.queued, (id) =>
            toEtaSeconds(starts.get(id) ?? 0),
          ),
        (error: unknown) => this.#o.logger.error({ err: error }, 'queue update failed'),
      );
    }, this.#o.queueUpdateIntervalMs ?? defaultQueueUpdateIntervalMs);
  }

  #resyncFollowed(): void {
    const jobs = this.subscriptions.followedJobs();
    if (jobs.length === 0) return;
    this.#o.store.seqs(jobs).then(
      (latest) => this.subscriptions.resync(latest),
      (error: unknown) => this.#o.logger.warn({ err: error }, 'websocket resync failed'),
    );
  }

  #heartbeat(): void {
    for (const c of this.#connections) {
      if (c.missedPongs >= 2) {
        c.ws.terminate();
        continue;
      }
      c.missedPongs++;
      c.ws.ping();
    }
  }
}
