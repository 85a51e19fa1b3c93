import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../../../shared/errors.ts';
import { authenticate } from '../../auth/principal.ts';
import type { AppEnv } from '../context.ts';

/**
 * Resolves `Authorization: Bearer <session JWT | API key>` to a principal, or answers 401.
 *
 * @example
 * app.get('/v1/me', requireUser(), (c) => c.json({ id: c.get('principal').userId }));
 */
export function requireUser(): MiddlewareHandler<AppEnv> {
  return async function requireUser(c, next) {
    // Overlapping route patterns may run it twice for one request: resolve once.
    if (c.get('principal')) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S{1,2048})$/i.exec(header);
    const { store, tokens } = c.get('services');
    const principal = match?.[1]
      ? await authenticate({ accounts: store.accounts, sessions: store.sessions, tokens }, match[1])
      : undefined;
    if (!principal) throw new ApiError('unauthorized', 'A valid bearer token is required.');
    c.set('principal', principal);
    await next();
  };
}
