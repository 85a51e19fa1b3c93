import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';

const readOnly = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * No answer to a request that may have written (any method but GET, HEAD and OPTIONS) leaves
 * before what it wrote is on disk: a job's 202 and its replay, a cancel, an account and its
 * grant, an API key and its revocation, Stripe's 200. Transactions commit to the WAL with
 * `synchronous = NORMAL`; this waits for the group fsync that `store.durable()` shares among
 * all waiting requests. An error answer waits too (the request may have written before it
 * failed); a failed fsync turns the answer into a 500, so the client retries.
 *
 * @example
 * app.use(durableAnswers());
 */
export function durableAnswers(): MiddlewareHandler<AppEnv> {
  return async function durableAnswers(c, next) {
    await next();
    if (!readOnly.has(c.req.method)) await c.get('services').store.durable();
  };
}
