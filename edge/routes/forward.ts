import type { Context } from 'hono';
import { hasSignedBody, signEdgeRequest } from '../../shared/edge-signature.ts';
import { ApiError } from '../../shared/errors.ts';
import { type OutputLocationAnswer, outputLocationType } from '../../shared/output-location.ts';
import type { EdgeEnv } from '../context.ts';
import { serveFromBucket } from './outputs.ts';

const dropped = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'host',
  'content-length',
  'x-real-ip',
]);
// A client may not pose as the edge (or as Cloudflare) towards the origin.
const droppedPrefixes = ['cf-', 'x-edge-', 'x-forwarded-'];

/** The client's headers that may travel on to the origin (the Upgrade ones included). */
export function forwardableHeaders(incoming: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of incoming) {
    if (dropped.has(name) || droppedPrefixes.some((p) => name.startsWith(p))) continue;
    if (name === 'x-request-id') continue;
    out.set(name, value);
  }
  return out;
}

/** The request's path and query, and the origin URL it is forwarded to. */
export function originTarget(c: Context<EdgeEnv>): { pathWithQuery: string; url: URL } {
  const url = new URL(c.req.url);
  const pathWithQuery = url.pathname + url.search;
  return { pathWithQuery, url: new URL(pathWithQuery, c.get('config').ORIGIN_URL) };
}

/** The origin URL of the request and the client's headers plus the edge signature. */
export async function signedForward(
  c: Context<EdgeEnv>,
  method: string,
  body: ArrayBuffer | undefined,
): Promise<{ url: URL; headers: Headers }> {
  const { pathWithQuery, url } = originTarget(c);
  const headers = forwardableHeaders(c.req.raw.headers);
  const signed = await signEdgeRequest(c.get('config').EDGE_SIGNING_SECRET, {
    method,
    pathWithQuery,
    body,
    clientIp: c.get('clientIp'),
    requestId: c.get('requestId'),
  });
  for (const [name, value] of Object.entries(signed)) headers.set(name, value);
  return { url, headers };
}

/**
 * Forwards the request to the origin, signed, and answers what the origin answered.
 * A timeout is a 504 `gateway_timeout`, an unreachable origin or one that answers a
 * non-JSON 5xx is a 502 `bad_gateway`: never an HTML page.
 */
export async function forwardToOrigin(c: Context<EdgeEnv>): Promise<Response> {
  const config = c.get('config');
  const method = c.req.method;
  const body = hasSignedBody(method) ? await c.req.arrayBuffer() : undefined;
  const { url, headers } = await signedForward(c, method, body);

  // The timeout covers the wait for the answer's headers, not a long download after them.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), config.ORIGIN_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body, redirect: 'manual', signal: abort.signal });
  } catch {
    if (abort.signal.aborted) {
      throw new ApiError('gateway_timeout', 'The origin did not answer in time.', {
        retryAfter: 5,
      });
    }
    throw new ApiError('bad_gateway', 'The origin could not be reached.', { retryAfter: 5 });
  } finally {
    clearTimeout(timer);
  }
  // The origin says whose output it is and where: the edge streams it from its bucket.
  if (
    res.headers.get('content-type') === outputLocationType &&
    (method === 'GET' || method === 'HEAD')
  ) {
    return serveFromBucket(c, (await res.json()) as OutputLocationAnswer);
  }
  const isJson = (res.headers.get('content-type') ?? '').includes('application/json');
  if (res.status >= 500 && !isJson) {
    throw new ApiError('bad_gateway', `The origin failed (${res.status}).`, { retryAfter: 5 });
  }
  return new Response(res.body, res);
}
