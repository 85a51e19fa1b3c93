import type { Context } from 'hono';
import { hasSignedBody, streamableLength, unsignableHeader } from '../../shared/edge-signature.ts';
import { ApiError } from '../../shared/errors.ts';
import { readOutputLocation } from '../../shared/output-location.ts';
import type { EdgeEnv } from '../context.ts';
import { retryRule } from '../origins/retry-rule.ts';
import { isJson, type OriginRequest, type Sent, sendToOrigins } from '../origins/send.ts';
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
function forwardableHeaders(incoming: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of incoming) {
    if (dropped.has(name) || droppedPrefixes.some((p) => name.startsWith(p))) continue;
    if (name === 'x-request-id') continue;
    out.set(name, value);
  }
  return out;
}

const headerNames = { 'idempotency-key': 'Idempotency-Key', range: 'Range' } as const;

/**
 * What the origin gets of the client's body: an upload with a Content-Length streamed as it
 * arrives (bounded by UPLOAD_LIMIT_BYTES before it is forwarded); any other read whole
 * (bounded by bodyLimit): signed, and the same bytes on a retry.
 */
async function bodyOf(c: Context<EdgeEnv>): Promise<OriginRequest['body']> {
  if (!hasSignedBody(c.req.method)) return undefined;
  const bytes = streamableLength(c.req.method, c.req.path, (name) => c.req.header(name));
  const stream = c.req.raw.body;
  if (bytes !== undefined && stream) return { stream, bytes };
  return c.req.arrayBuffer();
}

/** The client's request as the origins get it, and whether the edge added its Idempotency-Key. */
export async function forwardedRequest(
  c: Context<EdgeEnv>,
): Promise<{ request: OriginRequest; edgeKey: boolean; create: boolean }> {
  const method = c.req.method;
  const url = new URL(c.req.url);
  const rule = retryRule(method, url.pathname);
  const headers = forwardableHeaders(c.req.raw.headers);
  const unsignable = unsignableHeader((name) => headers.get(name));
  if (unsignable === 'authorization')
    throw new ApiError('unauthorized', 'The Authorization header must be ASCII.');
  if (unsignable)
    throw new ApiError('invalid_request', `The ${headerNames[unsignable]} header must be ASCII.`);
  const edgeKey = rule.attachesIdempotencyKey && !headers.has('idempotency-key');
  if (edgeKey) headers.set('idempotency-key', `edge-${c.get('requestId')}`);
  return {
    request: {
      method,
      pathWithQuery: url.pathname + url.search,
      headers,
      body: await bodyOf(c),
      retry: rule,
      timeoutMs: c.get('config').ORIGIN_TIMEOUT_MS,
    },
    edgeKey,
    // A job creation: the one request the edge retries with an Idempotency-Key.
    create: rule.attachesIdempotencyKey,
  };
}

/** A request no origin took, as the API's error: 504 after a timeout, else 502. */
export function unsent(sent: Exclude<Sent, { ok: true }>): ApiError {
  return sent.failure === 'timeout'
    ? new ApiError('gateway_timeout', 'The origin did not answer in time.', { retryAfter: 5 })
    : new ApiError('bad_gateway', 'The origin could not be reached.', { retryAfter: 5 });
}

/**
 * Forwards the request to an origin, signed, and answers what the origin answered (see
 * `sendToOrigins` for which origin, and `retryRule` for what is sent to a second one).
 * A timeout is a 504 `gateway_timeout`, an unreachable origin or one that answers a
 * non-JSON 5xx is a 502 `bad_gateway`: never an HTML page. An origin's 503 `not_ready`
 * that was not retried is passed through.
 */
export async function forwardToOrigin(c: Context<EdgeEnv>): Promise<Response> {
  const { request, edgeKey, create } = await forwardedRequest(c);
  const sent = await sendToOrigins(c, request);
  if (!sent.ok && sent.failure !== 'not_ready') throw unsent(sent);
  const res = sent.answer;
  // The origin says whose output it is and where: the edge streams it from its bucket.
  const location =
    request.method === 'GET' || request.method === 'HEAD'
      ? readOutputLocation(res.headers)
      : undefined;
  if (location) {
    await res.body?.cancel();
    return serveFromBucket(c, location);
  }
  if (res.status >= 500 && !isJson(res)) {
    await res.body?.cancel();
    throw new ApiError('bad_gateway', `The origin failed (${res.status}).`, { retryAfter: 5 });
  }
  // The client sent one request: a create's replay after the edge's own retry (of the key the
  // edge attached, or of the client's, which the first origin took) is its 202.
  const replayOfRetry = edgeKey || (sent.ok && sent.retried === true);
  if (create && replayOfRetry && res.status === 200) {
    return new Response(res.body, { status: 202, headers: res.headers });
  }
  return new Response(res.body, res);
}
