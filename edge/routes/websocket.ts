import { signEdgeRequest } from '../../shared/edge-signature.ts';
import { ApiError } from '../../shared/errors.ts';
import type { EdgeApp } from '../context.ts';
import { limitKey } from '../middleware/rate-limit/index.ts';
import { forwardableHeaders, originTarget } from './forward.ts';

/**
 * `GET /v1/ws`: the upgrade is signed and forwarded, and the origin's 101 is passed back
 * untouched (a header added to a 101 in Workers breaks the socket), so the browser talks
 * to one host. Registered before every header-setting middleware for that reason.
 */
export function registerWebSocket(app: EdgeApp): void {
  app.get('/v1/ws', async function forwardWebSocket(c) {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new ApiError('invalid_request', 'This path expects a WebSocket upgrade.');
    }
    const config = c.get('config');
    if (config.RATE_LIMIT_ENABLED) {
      const key = await limitKey(c.req.header('authorization'), c.get('clientIp'));
      const limiter = config.RATE_LIMITER.get(config.RATE_LIMITER.idFromName(`default|${key}`));
      const taken = await limiter.take(
        config.RATE_LIMIT_DEFAULT.requests,
        config.RATE_LIMIT_DEFAULT.seconds,
      );
      if (!taken.allowed) {
        throw new ApiError('rate_limited', 'Too many connections.', {
          retryAfter: taken.retryAfterSeconds,
        });
      }
    }
    const { pathWithQuery, url } = originTarget(c);
    const headers = forwardableHeaders(c.req.raw.headers);
    const signed = await signEdgeRequest(config.EDGE_SIGNING_SECRET, {
      method: 'GET',
      pathWithQuery,
      body: undefined,
      clientIp: c.get('clientIp'),
      requestId: c.get('requestId'),
    });
    for (const [name, value] of Object.entries(signed)) headers.set(name, value);
    try {
      return await fetch(url, { method: 'GET', headers });
    } catch {
      throw new ApiError('bad_gateway', 'The origin could not be reached.', { retryAfter: 5 });
    }
  });
}
