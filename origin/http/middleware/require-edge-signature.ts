import type { MiddlewareHandler } from 'hono';
import { hasSignedBody } from '../../../shared/edge-signature.ts';
import { ApiError } from '../../../shared/errors.ts';
import type { EdgeTrust } from '../../auth/edge-trust.ts';
import type { AppEnv } from '../context.ts';

/**
 * Refuses (401) every request without a valid, fresh, unreplayed edge signature, but the
 * paths in `exempt` (the origin's own liveness probe). `trust` undefined turns the check off
 * (a development setting; production refuses to start with it).
 *
 * @example
 * app.use(requireEdgeSignature(edgeTrust({ secret, maxAgeSeconds: 30 }), ['/healthz']));
 */
export function requireEdgeSignature(
  trust: EdgeTrust | undefined,
  exempt: readonly string[],
): MiddlewareHandler<AppEnv> {
  return async function requireEdgeSignature(c, next) {
    if (!trust || exempt.includes(c.req.path)) return next();
    const url = new URL(c.req.url);
    const result = await trust.check({
      method: c.req.method,
      pathWithQuery: url.pathname + url.search,
      body: hasSignedBody(c.req.method) ? await c.req.arrayBuffer() : undefined,
      header: (name) => c.req.header(name),
    });
    if (!result.ok) {
      c.get('services').logger.warn(
        { reason: result.reason, path: c.req.path },
        'edge signature refused',
      );
      throw new ApiError('unauthorized', 'Requests reach the origin only through the edge.');
    }
    await next();
  };
}
