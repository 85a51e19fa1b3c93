import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { edgeTrust } from '../../origin/auth/edge-trust.ts';
import { hasSignedBody, streamedBodyHeader } from '../../shared/edge-signature.ts';
import type { Health } from '../../shared/schemas/health.ts';

/** One request as the echo origin received it. */
export interface EchoRecord {
  method: string;
  /** Path and query, exactly as they arrived. */
  path: string;
  headers: Record<string, string>;
  /** The body's bytes, base64. */
  body: string;
  /**
   * What the origin's own check (`edgeTrust`) said of its edge signature: `ok`, or why it was
   * refused (answered 401, as the origin answers); `unchecked` without a secret.
   */
  edgeCheck: string;
}

/** A request header that picks the answer; absent: 200 with the request as JSON. */
export const echoModeHeader = 'x-echo-mode';
/** A request header that files the request under a tag, for `GET /__echo/seen?tag=`. */
export const echoTagHeader = 'x-echo-tag';
/** An answer header: this `POST /v1/jobs` replayed an accepted Idempotency-Key (answered 200). */
export const echoReplayedHeader = 'x-echo-replayed';

/**
 * How an echo origin behaves until told otherwise: `serve` (as below), `degraded` (its health
 * says so, with a low disk; it serves), `not_ready` (starting: its health is 503 `starting`,
 * every other request 503 `not_ready`), `model_loading` (it serves, but its job's model is
 * still loading: `POST /v1/jobs` is 503 `not_ready` naming the `model`), `hang` (answers
 * nothing) or `down` (closed: a connection is refused).
 */
export const echoBehaviours = [
  'serve',
  'degraded',
  'not_ready',
  'model_loading',
  'hang',
  'down',
] as const;
export type EchoBehaviour = (typeof echoBehaviours)[number];

export interface EchoOriginOptions {
  /**
   * The edge's `EDGE_SIGNING_SECRET`: every request is checked as the origin checks it
   * (signature, freshness, replay) and refused 401 when it fails. None: nothing is checked.
   */
  secret?: string;
  /** Its `originId` in `/v1/health`. */
  id?: string;
  /** The `activeJobs` its health reports. */
  activeJobs?: number;
  /**
   * The Idempotency-Keys of the jobs accepted so far: what the database of a cluster would
   * hold, so give the origins of one cluster the same set. A key seen before is a replay (200).
   */
  acceptedKeys?: Set<string>;
}

export interface EchoOrigin {
  url: string;
  port: number;
  id: string;
  /** The requests that carried `x-echo-tag: <tag>`, in arrival order. */
  seen(tag: string): EchoRecord[];
  /** Switches its behaviour; `down` closes its port, anything else opens it again. */
  behave(behaviour: EchoBehaviour): Promise<void>;
  close(): Promise<void>;
}

/** The queue length every echo origin reports: the cluster's, the same from each. */
export const echoQueueLength = 4;

function record(req: IncomingMessage, body: Buffer, edgeCheck: string): EchoRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headersDistinct)) {
    if (value !== undefined) headers[name] = value.join(', ');
  }
  return {
    method: req.method ?? '',
    path: req.url ?? '',
    headers,
    body: body.toString('base64'),
    edgeCheck,
  };
}

const unauthorized = (reason: string) =>
  JSON.stringify({
    error: {
      code: 'unauthorized',
      message: `the echo origin refused its edge signature: ${reason}`,
    },
  });

function health(id: string, activeJobs: number, behaviour: EchoBehaviour): Health {
  const low = behaviour === 'degraded';
  return {
    status: behaviour === 'not_ready' ? 'starting' : low ? 'degraded' : 'healthy',
    originId: id,
    modelsLoaded: behaviour !== 'not_ready',
    device: 'cpu',
    models: [],
    queueLength: echoQueueLength,
    activeJobs,
    version: '0.0.0-echo',
    disk: { freeBytes: low ? 1e6 : 1e10, freePercent: low ? 1 : 50, low },
    stopping: false,
  };
}

const notReady = JSON.stringify({
  error: { code: 'not_ready', message: 'the echo origin is starting' },
});
/** As an origin answers a job whose model's pool is still loading (`createJob`). */
const modelLoading = JSON.stringify({
  error: {
    code: 'not_ready',
    message: "Model 'steps' is still loading on this server; try again shortly.",
    details: [{ path: 'model', message: 'loading for 3 s' }],
  },
});

/**
 * A tiny stand-in origin for the edge's tests: it checks every request's edge signature as
 * the origin does (given the secret; 401 when it fails), keeps every request it receives and
 * answers what `x-echo-mode` asks for: nothing (200, the request as JSON; for
 * `POST /v1/jobs` 202, or 200 and `x-echo-replayed` for an Idempotency-Key accepted before,
 * as the origin answers), `json-<status>`, `html-<status>` or `hang` (never answers).
 * `GET /v1/health` answers an origin's health. `GET /__echo/seen?tag=` lists the requests
 * that carried that `x-echo-tag`, so a test can tell that the edge forwarded nothing. A
 * WebSocket upgrade is accepted, greeted with the origin's id and every message echoed.
 * `behave` switches how it treats every request (`EchoBehaviour`).
 *
 * @example
 * const echo = await startEchoOrigin();
 * await fetch(`${echo.url}/__echo/seen?tag=abc`); // → [] until a request tagged abc arrives
 */
export async function startEchoOrigin(options: EchoOriginOptions = {}): Promise<EchoOrigin> {
  const byTag = new Map<string, EchoRecord[]>();
  const acceptedKeys = options.acceptedKeys ?? new Set<string>();
  const hung = new Set<ServerResponse | Duplex>();
  let behaviour: EchoBehaviour = 'serve';
  // Named by its port unless told otherwise, once it has one.
  let id = options.id ?? '';

  const keep = (seen: EchoRecord) => {
    const tag = seen.headers[echoTagHeader];
    if (tag) byTag.set(tag, [...(byTag.get(tag) ?? []), seen]);
  };

  // The origin's own check, with its replay cache; its refusal log goes nowhere.
  const trust =
    options.secret === undefined
      ? undefined
      : edgeTrust({ secret: options.secret, maxAgeSeconds: 30, logger: { warn() {} } });
  const check = async (req: IncomingMessage, body: Buffer | undefined) => {
    if (!trust) return 'unchecked';
    // An upload the edge streamed is signed by its length: the bytes that came must be it.
    const streamed = req.headers[streamedBodyHeader] === 'stream';
    const length = Number(req.headers['content-length']);
    if (streamed && body?.length !== length) return 'length';
    const result = await trust.check({
      method: req.method ?? 'GET',
      pathWithQuery: req.url ?? '/',
      body: streamed ? { streamedBytes: length } : body,
      header: (name) => req.headersDistinct[name]?.join(', '),
    });
    return result.ok ? 'ok' : result.reason;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://echo');
      if (url.pathname === '/__echo/seen') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(byTag.get(url.searchParams.get('tag') ?? '') ?? []));
        return;
      }
      const body = Buffer.concat(chunks);
      const verdict = await check(req, hasSignedBody(req.method ?? 'GET') ? body : undefined);
      const seen = record(req, body, verdict);
      keep(seen);
      res.setHeader('content-type', 'application/json');
      if (verdict !== 'ok' && verdict !== 'unchecked') {
        res.statusCode = 401;
        res.end(unauthorized(verdict));
        return;
      }
      const key = seen.headers['idempotency-key'];
      const creates = seen.method === 'POST' && url.pathname === '/v1/jobs';
      if (behaviour === 'hang') {
        // It took the job, and its answer never comes: a retry is a replay.
        if (creates && key !== undefined) acceptedKeys.add(key);
        hung.add(res);
        return;
      }
      if (url.pathname === '/v1/health') {
        res.statusCode = behaviour === 'not_ready' ? 503 : 200;
        res.end(JSON.stringify(health(id, options.activeJobs ?? 0, behaviour)));
        return;
      }
      if (behaviour === 'not_ready' || (behaviour === 'model_loading' && creates)) {
        res.statusCode = 503;
        res.setHeader('retry-after', '5');
        res.end(behaviour === 'not_ready' ? notReady : modelLoading);
        return;
      }

      const mode = seen.headers[echoModeHeader] ?? '';
      if (mode === 'hang') {
        hung.add(res); // the socket stays open until the edge gives up
        return;
      }
      const [kind, status] = mode.split('-');
      res.statusCode = Number(status ?? 200);
      if (kind === 'html') {
        res.setHeader('content-type', 'text/html');
        res.end('<html><body><h1>Internal Server Error</h1></body></html>');
        return;
      }
      if (!kind && creates) {
        const replayed = key !== undefined && acceptedKeys.has(key);
        res.statusCode = replayed ? 200 : 202;
        if (replayed) res.setHeader(echoReplayedHeader, 'true');
        if (key !== undefined) acceptedKeys.add(key);
      }
      res.setHeader('x-request-id', seen.headers['x-request-id'] ?? '');
      res.end(
        JSON.stringify(
          kind === 'json'
            ? { error: { code: 'internal', message: 'the echo origin was told to fail' } }
            : seen,
        ),
      );
    });
  });

  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const verdict = await check(req, undefined);
    keep(record(req, Buffer.alloc(0), verdict));
    if (verdict !== 'ok' && verdict !== 'unchecked') {
      const text = unauthorized(verdict);
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${text.length}\r\nconnection: close\r\n\r\n${text}`,
      );
      return;
    }
    if (behaviour === 'hang') {
      hung.add(socket);
      return;
    }
    if (behaviour === 'not_ready') {
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${notReady.length}\r\nconnection: close\r\n\r\n${notReady}`,
      );
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ type: 'hello', originId: id }));
      ws.on('message', (data) => ws.send(data.toString()));
    });
  });

  const listen = (port: number) =>
    new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections(); // the hung requests, and idle keep-alive connections
      for (const ws of sockets.clients) ws.terminate();
    });
  const release = () => {
    for (const h of hung) h.destroy();
    hung.clear();
  };

  await listen(0);
  const { port } = server.address() as AddressInfo;
  id ||= `echo-${port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    id,
    seen: (tag) => byTag.get(tag) ?? [],
    async behave(next) {
      if (next !== 'hang') release();
      behaviour = next;
      if (next === 'down') await stop();
      else if (!server.listening) await listen(port);
    },
    async close() {
      release();
      await stop();
    },
  };
}
