import { ApiError } from '../../shared/errors.ts';
import type { EdgeApp } from '../context.ts';
import { spend } from '../middleware/rate-limit/index.ts';
import { signedForward } from './forward.ts';

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
    if (c.get('config').RATE_LIMIT_ENABLED) {
      const { result } = await spend(c, 'default');
      if (!result.allowed) {
        throw new ApiError('rate_limited', 'Too many connections.', {
          retryAfter: result.retryAfterSeconds,
        });
      }
    }
    const { url, headers } = await signedForward(c, 'GET', undefined);
    try {
      return await fetch(url, { method: 'GET', headers });
    } catch {
      throw new ApiError('bad_gateway', 'The origin could not be reached.', { retryAfter: 5 });
    }
  });
}
