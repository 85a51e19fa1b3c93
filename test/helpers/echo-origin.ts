import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the echo origin received it. */
export interface EchoRecord {
  method: string;
  /** Path and query, exactly as they arrived. */
  path: string;
  headers: Record<string, string>;
  /** The body's bytes, base64. */
  body: string;
}

/** A request header that picks the answer; absent: 200 with the request as JSON. */
export const echoModeHeader = 'x-echo-mode';
/** A request header that files the request under a tag, for `GET /__echo/seen?tag=`. */
export const echoTagHeader = 'x-echo-tag';

export interface EchoOrigin {
  url: string;
  port: number;
  close(): Promise<void>;
}

function record(req: IncomingMessage, body: Buffer): EchoRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { method: req.method ?? '', path: req.url ?? '', headers, body: body.toString('base64') };
}

/**
 * A tiny stand-in origin for the edge's tests: it keeps every request it receives and
 * answers what `x-echo-mode` asks for: nothing (200, the request as JSON), `json-<status>`,
 * `html-<status>` or `hang` (never answers). `GET /__echo/seen?tag=` lists the requests that
 * carried that `x-echo-tag`, so a test can tell that the edge forwarded nothing.
 *
 * @example
 * const echo = await startEchoOrigin();
 * await fetch(`${echo.url}/__echo/seen?tag=abc`); // → [] until a request tagged abc arrives
 */
export async function startEchoOrigin(): Promise<EchoOrigin> {
  const byTag = new Map<string, EchoRecord[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://echo');
      if (url.pathname === '/__echo/seen') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(byTag.get(url.searchParams.get('tag') ?? '') ?? []));
        return;
      }
      const seen = record(req, Buffer.concat(chunks));
      const tag = seen.headers[echoTagHeader];
      if (tag) byTag.set(tag, [...(byTag.get(tag) ?? []), seen]);

      const mode = seen.headers[echoModeHeader] ?? '';
      if (mode === 'hang') return; // the socket stays open until the edge gives up
      const [kind, status] = mode.split('-');
      res.statusCode = Number(status ?? 200);
      if (kind === 'html') {
        res.setHeader('content-type', 'text/html');
        res.end('<html><body><h1>Internal Server Error</h1></body></html>');
        return;
      }
      res.setHeader('content-type', 'application/json');
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the hung requests
      }),
  };
}
