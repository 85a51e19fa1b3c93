import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';

/**
 * One log line per request (request id from the edge, method, route, status, user,
 * duration) and the request's metrics. A request refused for its edge signature is counted
 * in the metrics but has no line: anyone can send those, and `EdgeTrust` logs them, at most
 * one line per interval.
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
    if (c.get('edgeRefused')) return;
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
