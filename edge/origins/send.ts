import type { Context } from 'hono';
import { signEdgeRequest, streamedBodyHeader } from '../../shared/edge-signature.ts';
import type { EdgeEnv } from '../context.ts';
import { originPool } from './pool.ts';
import type { RetryRule } from './retry-rule.ts';

/** A request for the origins, ready to be signed for whichever one is contacted. */
export interface OriginRequest {
  method: string;
  /** Path and query, as the client sent them. */
  pathWithQuery: string;
  /** What travels besides the signature (the client's forwardable headers, or none). */
  headers: Headers;
  /**
   * Buffered, so that a request sent again carries the same bytes (and the signature hashes
   * them); or, for an upload (`streamedBodyPaths`), the client's stream of `bytes` bytes,
   * passed on as it arrives and signed by its length: sent once, never retried.
   */
  body: ArrayBuffer | StreamedBody | undefined;
  /** Whether `sendToOrigins` may give it to another origin when one could not take it, and why. */
  retry: Pick<RetryRule, 'retried' | 'why'>;
  /** How long to wait for an origin's answer to begin (its status and headers). */
  timeoutMs: number;
}

/** An upload's body, streamed from the client to one origin. */
export interface StreamedBody {
  stream: ReadableStream<Uint8Array>;
  bytes: number;
}

const isStreamed = (body: OriginRequest['body']): body is StreamedBody =>
  body !== undefined && 'stream' in body;

export type Sent =
  /** `retried`: the answer is of an origin after another one could not take the request. */
  | { ok: true; answer: Response; retried?: boolean }
  /**
   * `modelOnly`: the origin serves, but the job's model is still loading there (its error
   * names the `model`): another origin is asked, and this one is not skipped for the rest.
   */
  | { ok: false; failure: 'not_ready'; answer: Response; modelOnly: boolean }
  | { ok: false; failure: 'unreachable' | 'timeout' };

/** Whether an answer says it is JSON (the API's errors are; a proxy's error page is not). */
export const isJson = (res: Response) =>
  (res.headers.get('content-type') ?? '').includes('application/json');

/** An API error's code, and whether its details name the `model` (a model not loaded yet). */
function errorOf(text: string): { code: unknown; namesModel: boolean } {
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; details?: unknown } } | null)
      ?.error;
    const details = Array.isArray(error?.details) ? (error.details as unknown[]) : [];
    return {
      code: error?.code,
      namesModel: details.some((d) => (d as { path?: unknown } | null)?.path === 'model'),
    };
  } catch {
    return { code: undefined, namesModel: false };
  }
}

/**
 * The client's stream as a body of its declared length: the origin gets a `Content-Length`
 * (its signature covers it) while the bytes pass through as they arrive, none held whole.
 */
function fixedLength(body: StreamedBody): ReadableStream<Uint8Array> {
  const { readable, writable } = new FixedLengthStream(body.bytes);
  // A client that stops short of its length fails the origin's read, not this Worker.
  void body.stream.pipeTo(writable).catch(() => undefined);
  return readable;
}

/**
 * One attempt on one origin, signed for it: the path signed is the one this URL sends, the
 * headers signed are the ones it sends, and the timestamp is this attempt's, so a retry
 * after a long timeout is not stale. An origin that answered is done with, except for a 503
 * `not_ready` (starting or stopping), whose small JSON body is read to tell: the origin says
 * it did nothing.
 *
 * @example
 * const sent = await sendToOrigin(c, 'https://origin-2.example.com', request);
 */
export async function sendToOrigin(
  c: Context<EdgeEnv>,
  origin: string,
  request: Omit<OriginRequest, 'retry'>,
): Promise<Sent> {
  const url = new URL(request.pathWithQuery, origin);
  const headers = new Headers(request.headers);
  const streamed = isStreamed(request.body) ? request.body : undefined;
  if (streamed) headers.set(streamedBodyHeader, 'stream');
  const signed = await signEdgeRequest(c.get('config').EDGE_SIGNING_SECRET, {
    method: request.method,
    pathWithQuery: url.pathname + url.search,
    body: streamed ? { streamedBytes: streamed.bytes } : (request.body as ArrayBuffer | undefined),
    clientIp: c.get('clientIp'),
    requestId: c.get('requestId'),
    // What this attempt sends: the client's Authorization and Range, and the Idempotency-Key,
    // the client's or the one the edge attached to a job creation.
    headers,
  });
  for (const [name, value] of Object.entries(signed)) headers.set(name, value);

  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), request.timeoutMs);
  try {
    const answer = await fetch(url, {
      method: request.method,
      headers,
      body: streamed ? fixedLength(streamed) : (request.body as ArrayBuffer | undefined),
      redirect: 'manual',
      signal: abort.signal,
    });
    if (answer.status !== 503 || !isJson(answer)) return { ok: true, answer };
    const text = await answer.text();
    const copy = new Response(text, answer);
    const error = errorOf(text);
    return error.code === 'not_ready'
      ? { ok: false, failure: 'not_ready', answer: copy, modelOnly: error.namesModel }
      : { ok: true, answer: copy };
  } catch {
    return { ok: false, failure: abort.signal.aborted ? 'timeout' : 'unreachable' };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends a request to the configured origins: to the next one's turn, and, when that one
 * cannot take it (unreachable, no answer in time, 503 `not_ready`) and the request may be
 * retried, to the next, each origin once. An origin that could not take a request is skipped
 * for `ORIGIN_RETRY_AFTER_MS`. Answers the first answer, or the last failure.
 *
 * @example
 * const sent = await sendToOrigins(c, { method: 'GET', pathWithQuery: '/v1/me', headers,
 *   body: undefined, retry: retryRule('GET', '/v1/me'), timeoutMs: 30_000 });
 */
export async function sendToOrigins(c: Context<EdgeEnv>, request: OriginRequest): Promise<Sent> {
  const config = c.get('config');
  const order = originPool.order(config.origins);
  const tries = request.retry.retried ? order : order.slice(0, 1);
  let sent: Sent = { ok: false, failure: 'unreachable' };
  for (const [index, origin] of tries.entries()) {
    sent = await sendToOrigin(c, origin, request);
    if (sent.ok) {
      originPool.restore(origin);
      return index > 0 ? { ...sent, retried: true } : sent;
    }
    // An origin whose job's model is still loading serves the rest: not skipped.
    if (sent.failure === 'not_ready' && sent.modelOnly) continue;
    originPool.skip(origin, config.ORIGIN_RETRY_AFTER_MS);
    console.warn(
      JSON.stringify({
        msg: 'origin skipped',
        requestId: c.get('requestId'),
        origin,
        failure: sent.failure,
        next: index + 1 < tries.length ? 'another origin' : 'none',
        why: request.retry.why,
      }),
    );
  }
  return sent;
}
