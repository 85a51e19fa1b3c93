import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';

/** One log line per request: id, method, route, status, user and duration. */
export function logRequests(): MiddlewareHandler<AppEnv> {
  return async function logRequests(c, next) {
    const started = performance.now();
    await next();
    const principal = c.get('principal');
    c.get('services').logger.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        userId: principal?.userId,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  };
}
