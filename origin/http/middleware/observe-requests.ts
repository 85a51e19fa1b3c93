import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';

/**
 * One log line per request (request id from the edge, method, route, status, user,
 * duration) and the request's metrics.
 */
export function observeRequests(): MiddlewareHandler<AppEnv> {
  return async function observeRequests(c, next) {
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    const { logger, metrics } = c.get('services');
    // The route's pattern, never the raw path: ids would make the labels unbounded.
    const route = c.req.routePath;
    metrics.request({ method: c.req.method, route, status: c.res.status }, ms / 1000);
    logger.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        route,
        status: c.res.status,
        userId: c.get('principal')?.userId,
        ms: Math.round(ms * 10) / 10,
      },
      'request',
    );
  };
}
