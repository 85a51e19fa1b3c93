import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EchoBehaviour, type EchoOrigin, echoBehaviours } from './echo-origin.ts';

export interface EchoControl {
  url: string;
  close(): Promise<void>;
}

/**
 * The way the edge's tests, inside workerd, steer echo origins they cannot start: an HTTP
 * server beside them, up while they go down. `PUT /<port>/behaviour` (the behaviour as the
 * body) switches one; `GET /<port>/seen?tag=` lists what it received under that tag.
 *
 * @example
 * const control = await startEchoControl([a, b]);
 * await fetch(`${control.url}/${a.port}/behaviour`, { method: 'PUT', body: 'down' });
 */
export async function startEchoControl(origins: readonly EchoOrigin[]): Promise<EchoControl> {
  const byPort = new Map(origins.map((o) => [String(o.port), o]));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://control');
      const [, port, action] = url.pathname.split('/');
      const origin = byPort.get(port ?? '');
      const body = Buffer.concat(chunks).toString();
      if (origin && action === 'behaviour' && req.method === 'PUT') {
        if (!(echoBehaviours as readonly string[]).includes(body)) {
          res.statusCode = 400;
          return res.end(`unknown behaviour ${body}`);
        }
        await origin.behave(body as EchoBehaviour);
        return res.end();
      }
      if (origin && action === 'seen' && req.method === 'GET') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify(origin.seen(url.searchParams.get('tag') ?? '')));
      }
      res.statusCode = 404;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
