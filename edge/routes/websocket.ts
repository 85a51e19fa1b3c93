import { ApiError } from '../../shared/errors.ts';
import type { EdgeApp } from '../context.ts';
import { bearerToken, spend, turnedAway } from '../middleware/rate-limit/index.ts';
import { sendToOrigins } from '../origins/send.ts';
import { forwardedRequest, unsent } from './forward.ts';

/**
 * `GET /v1/ws`: the upgrade is signed and forwarded to an origin (the next one in turn, and
 * the one after when it cannot be reached: an upgrade is a GET), and the origin's 101 is
 * passed back untouched (a header added to a 101 in Workers breaks the socket), so the
 * browser talks to one host. Registered before every header-setting middleware for that
 * reason. When that origin goes away its sockets close, and the client reconnects through
 * the edge to another, resuming each job with `since`. Upgrades spend a budget of their own
 * (`RATE_LIMIT_UPGRADES`), counted by the user of the `token` parameter or bearer token the
 * edge verifies, else by IP (a socket that authenticates by its first message included).
 */
export function registerWebSocket(app: EdgeApp): void {
  app.get('/v1/ws', async function forwardWebSocket(c) {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new ApiError('invalid_request', 'This path expects a WebSocket upgrade.');
    }
    if (c.get('config').RATE_LIMIT_ENABLED) {
      const credential = c.req.query('token') || bearerToken(c.req.header('authorization'));
      const refusal = turnedAway(c, 'upgrades', await spend(c, 'upgrades', credential));
      if (refusal) return refusal;
    }
    const sent = await sendToOrigins(c, (await forwardedRequest(c)).request);
    if (!sent.ok && sent.failure !== 'not_ready') throw unsent(sent);
    return sent.answer;
  });
}
