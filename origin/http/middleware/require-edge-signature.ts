import type { Context, MiddlewareHandler } from 'hono';
import {
  hasSignedBody,
  type SignedBody,
  streamableLength,
  streamedBodyHeader,
} from '../../../shared/edge-signature.ts';
import { ApiError } from '../../../shared/errors.ts';
import type { EdgeTrust } from '../../auth/edge-trust.ts';
import type { AppEnv } from '../context.ts';

const refusal = (c: Context<AppEnv>) => {
  c.set('edgeRefused', true);
  return new ApiError('unauthorized', 'Requests reach the origin only through the edge.');
};

const pathWithQuery = (c: Context<AppEnv>) => {
  const url = new URL(c.req.url);
  return url.pathname + url.search;
};

/**
 * Refuses (401) a request whose edge signature headers are missing, malformed or stale, on
 * its headers alone: it goes before the body limits, which buffer a body sent without a
 * length, so that an unsigned request costs the origin none of its body (up to 1 MiB on the
 * Stripe path). Only a well-formed, fresh one goes on to `requireEdgeSignature`, which reads
 * and hashes the body. `trust` undefined and the paths in `exempt` as there.
 *
 * @example
 * app.use(screenEdgeSignature(trust, ['/healthz']));
 * app.use(bodyLimit({ maxSize }));
 * app.use(requireEdgeSignature(trust, ['/healthz']));
 */
export function screenEdgeSignature(
  trust: EdgeTrust | undefined,
  exempt: readonly string[],
): MiddlewareHandler<AppEnv> {
  return async function screenEdgeSignature(c, next) {
    if (!trust || exempt.includes(c.req.path)) return next();
    const screen = trust.screen({
      pathWithQuery: pathWithQuery(c),
      header: (name) => c.req.header(name),
    });
    if (!screen.ok) throw refusal(c);
    await next();
  };
}

/**
 * The body as its signature covers it: an upload the edge streamed (`x-edge-body: stream`,
 * on `streamedBodyPaths` only) by its declared length, left unread for its route; any other
 * by its bytes.
 */
async function signedBodyOf(c: Context<AppEnv>): Promise<SignedBody> {
  if (!hasSignedBody(c.req.method)) return undefined;
  if (c.req.header(streamedBodyHeader) !== 'stream') return c.req.arrayBuffer();
  const length = streamableLength(c.req.method, c.req.path, (name) => c.req.header(name));
  if (length === undefined) throw refusal(c);
  return { streamedBytes: length };
}

/**
 * Refuses (401) every request without a valid, fresh, unreplayed edge signature, but the
 * paths in `exempt` (the origin's own liveness probe). `trust` undefined turns the check off
 * (a development setting; production refuses to start with it). Refusals are logged by
 * `trust`, at most one line per interval.
 *
 * @example
 * app.use(requireEdgeSignature(edgeTrust({ secret, maxAgeSeconds: 30, logger }), ['/healthz']));
 */
export function requireEdgeSignature(
  trust: EdgeTrust | undefined,
  exempt: readonly string[],
): MiddlewareHandler<AppEnv> {
  return async function requireEdgeSignature(c, next) {
    if (!trust || exempt.includes(c.req.path)) return next();
    const result = await trust.check({
      method: c.req.method,
      pathWithQuery: pathWithQuery(c),
      body: await signedBodyOf(c),
      header: (name) => c.req.header(name),
    });
    if (!result.ok) throw refusal(c);
    await next();
  };
}
