import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { onTestFinished } from 'vitest';
import type { WebhookDeliveryInfo } from '../../shared/schemas/jobs.ts';
import type { apiClient } from './api.ts';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When the whole request had arrived (epoch ms). */
  at: number;
}

/**
 * A receiver that answers one byte every `everyMs`, forever: of its status line and headers
 * (the client never sees an answer), or of the body after a 200. Bytes keep coming, so no
 * idle timeout ever fires on it.
 */
export interface Drip {
  drip: 'headers' | 'body';
  everyMs: number;
}

/** How the receiver answers its `n`-th request (0-based): a status, a redirect, never, or a drip. */
export type Responder = (
  n: number,
  hit: ReceivedWebhook,
) => number | 'hang' | { redirect: string } | Drip;

export interface Receiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Connections open now, the most that were open at once, how long each ended one lasted. */
  connections(): { open: number; most: number; lastedMs: number[] };
  /** Waits until `count` requests have arrived. */
  waitForCount(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
}

/** Writes one byte of `text` (then of filler, forever) every `everyMs` until `socket` closes. */
function trickle(socket: Socket, write: (byte: string) => void, text: string, everyMs: number) {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.writable) write(text[i++] ?? 'a');
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

/**
 * A local `node:http` webhook receiver on 127.0.0.1 (port 0 unless given), closed (with any
 * hanging request) when the test finishes.
 *
 * @example
 * const receiver = await startReceiver((n) => (n === 0 ? 500 : 200));
 */
export async function startReceiver(respond: Responder, port = 0): Promise<Receiver> {
  const received: ReceivedWebhook[] = [];
  let open = 0;
  let most = 0;
  const lastedMs: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
      };
      const answer = respond(received.length, hit);
      received.push(hit);
      if (answer === 'hang') return;
      if (typeof answer === 'number') res.writeHead(answer).end();
      else if ('redirect' in answer) res.writeHead(302, { location: answer.redirect }).end();
      else if (answer.drip === 'headers') {
        // Raw bytes on the socket: the status line itself comes a byte at a time.
        trickle(
          req.socket,
          (b) => req.socket.write(b),
          'HTTP/1.1 200 OK\r\nx-drip: ',
          answer.everyMs,
        );
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).flushHeaders();
        trickle(req.socket, (b) => res.write(b), '', answer.everyMs);
      }
    });
  });
  server.on('connection', (socket) => {
    const opened = performance.now();
    open++;
    // A connection is counted from its accept to the first sign the sender hung up. The
    // sender's FIN on one connection and the next connection it opens are read in one turn
    // of the loop, in either order: 'end' comes on that turn's ticks and 'close' only in
    // the next turn, so the most at once is taken after the turn's I/O, and ends at 'end'.
    setImmediate(() => {
      most = Math.max(most, open);
    });
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      open--;
      lastedMs.push(performance.now() - opened);
    };
    socket.once('end', end);
    socket.once('error', end);
    socket.once('close', end);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hooks`,
    port: bound,
    received,
    connections: () => ({ open, most, lastedMs }),
    async waitForCount(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`receiver got ${received.length} of ${count} requests`);
        }
        await sleep(10);
      }
      return received;
    },
  };
}

/** A port that nothing listens on (found free, then released): connections are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `GET /v1/jobs/:id/webhook-deliveries` until `until(deliveries)` holds. */
export async function waitForDeliveries(
  api: ReturnType<typeof apiClient>,
  token: string,
  jobId: string,
  until: (deliveries: WebhookDeliveryInfo[]) => boolean,
  timeoutMs = 15_000,
): Promise<WebhookDeliveryInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.call<{ data: WebhookDeliveryInfo[] }>(
      'GET',
      `/v1/jobs/${jobId}/webhook-deliveries`,
      { token },
    );
    if (res.status !== 200)
      throw new Error(`deliveries: ${res.status} ${JSON.stringify(res.body)}`);
    if (until(res.body.data)) return res.body.data;
    if (Date.now() > deadline) {
      throw new Error(`deliveries of ${jobId} never matched: ${JSON.stringify(res.body.data)}`);
    }
    await sleep(25);
  }
}

/** Every delivery has ended (delivered or failed). */
export const allSettled = (deliveries: WebhookDeliveryInfo[]): boolean =>
  deliveries.length > 0 && deliveries.every((d) => d.status !== 'pending');
