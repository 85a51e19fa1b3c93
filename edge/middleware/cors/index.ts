import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../../../shared/errors.ts';
import type { EdgeEnv } from '../../context.ts';
import { errorResponse } from '../../errors.ts';

export interface CorsOptions {
  /**
   * The origins allowed to call the API from a browser, exactly (`https://app.example.com`),
   * read per request: the edge's come from its bindings, which only the context holds.
   */
  allowed: (c: Context<EdgeEnv>) => readonly string[];
  methods?: readonly string[];
  headers?: readonly string[];
  exposeHeaders?: readonly string[];
  maxAgeSeconds?: number;
}

/**
 * CORS against an allowlist: preflights are answered here (204 with the allowed methods,
 * headers and max-age for an allowed origin; 403 for any other), answers to allowed
 * origins carry the origin itself and credentials, never `*`; every answer varies by Origin.
 *
 * Not `hono/cors` with an origin callback, which would answer differently: it sends
 * `Access-Control-Allow-Credentials` and `-Expose-Headers` to every origin, refused ones
 * too; it answers a refused origin's preflight 204 (without an allow-origin) where the API
 * answers 403 `forbidden` in its JSON; and it takes every OPTIONS for a preflight, where a
 * plain OPTIONS (no `Access-Control-Request-Method`) goes on to the origin.
 *
 * @example
 * app.use(cors({ allowed: (c) => c.get('config').CORS_ORIGINS }));
 */
export function cors(options: CorsOptions): MiddlewareHandler<EdgeEnv> {
  const { allowed } = options;
  const methods = (options.methods ?? ['GET', 'POST', 'DELETE', 'OPTIONS']).join(', ');
  const headers = (
    options.headers ?? ['authorization', 'content-type', 'idempotency-key', 'cancel-after']
  ).join(', ');
  const expose = (
    options.exposeHeaders ?? [
      'x-request-id',
      'retry-after',
      'ratelimit',
      'ratelimit-policy',
      'content-range',
      'etag',
    ]
  ).join(', ');
  const maxAge = String(options.maxAgeSeconds ?? 600);

  return async function cors(c, next) {
    const origin = c.req.header('origin');
    const ok = origin !== undefined && allowed(c).includes(origin);
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      if (!ok) {
        // Answered rather than thrown: a thrown refusal would lose its Vary: Origin.
        const refusal = errorResponse(
          c,
          new ApiError('forbidden', 'This origin may not call the API.'),
        );
        refusal.headers.append('vary', 'Origin');
        return refusal;
      }
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': origin,
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': methods,
          'access-control-allow-headers': headers,
          'access-control-max-age': maxAge,
          vary: 'Origin',
        },
      });
    }
    await next();
    c.header('vary', 'Origin', { append: true });
    if (ok) {
      c.header('access-control-allow-origin', origin);
      c.header('access-control-allow-credentials', 'true');
      c.header('access-control-expose-headers', expose);
    }
  };
}
