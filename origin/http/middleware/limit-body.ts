import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { hasSignedBody } from '../../../shared/edge-signature.ts';
import { ApiError } from '../../../shared/errors.ts';
import type { AppEnv } from '../context.ts';

/**
 * Refuses (413) a body larger than `maxSize(path)` bytes. A body with a `Content-Length` (and
 * no `Transfer-Encoding`) is judged on that header alone: Node's HTTP parser never delivers
 * more bytes than it declares. Hono's `bodyLimit` reads `c.req.raw.body`, which makes
 * `@hono/node-server` build a whole web `Request` for every request (undici's Request was
 * the largest part of the HTTP layer's samples on the no-op job path; with the token cache,
 * 2.05–2.16 → 1.93–1.97 ms a job, README); it is kept for a body sent in chunks without a
 * length, which it counts as it reads.
 *
 * @example app.use(limitBody((path) => (path === '/v1/webhooks/stripe' ? 1 << 20 : 65536)));
 */
export function limitBody(maxSize: (path: string) => number): MiddlewareHandler<AppEnv> {
  const tooLarge = (max: number) =>
    new ApiError('payload_too_large', `The body is larger than ${max} bytes.`);
  const counted = new Map<number, MiddlewareHandler>();
  return async function limitBody(c, next) {
    if (!hasSignedBody(c.req.method)) return next();
    const max = maxSize(c.req.path);
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > max) throw tooLarge(max);
      return next();
    }
    let limit = counted.get(max);
    if (!limit) {
      limit = bodyLimit({
        maxSize: max,
        onError: () => {
          throw tooLarge(max);
        },
      });
      counted.set(max, limit);
    }
    return limit(c, next);
  };
}
