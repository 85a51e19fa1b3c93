import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../../../shared/errors.ts';
import type { Budget } from '../../config.ts';
import type { EdgeEnv } from '../../context.ts';
import { errorResponse } from '../../errors.ts';

import type { TakeResult } from './limiter.ts';

export { RateLimiter, type TakeResult } from './limiter.ts';

export type BudgetName = 'jobs' | 'auth' | 'default';

/** Which budget a request spends: job creation, auth attempts, or everything else. */
export function budgetFor(method: string, path: string): BudgetName {
  if (method === 'POST' && path === '/v1/jobs') return 'jobs';
  if (method === 'POST' && path.startsWith('/v1/auth/')) return 'auth';
  return 'default';
}

const toHex = (bytes: ArrayBuffer) =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Who a request counts against: the bearer credential (API key or session token, hashed)
 * when there is one, the client IP otherwise.
 */
export async function limitKey(
  authorization: string | undefined,
  clientIp: string,
): Promise<string> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return `ip:${clientIp}`;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return `token:${toHex(digest).slice(0, 32)}`;
}

/** IETF httpapi RateLimit header values (draft: structured fields `"name";q=;w=` and `"name";r=;t=`). */
export const policyHeader = (name: BudgetName, b: Budget) =>
  `"${name}";q=${b.requests};w=${b.seconds}`;
export const limitHeader = (name: BudgetName, remaining: number, reset: number) =>
  `"${name}";r=${remaining};t=${reset}`;

/**
 * Spends one request of a budget in the limiter Durable Object of the request's client
 * (API key or token, else IP): the one place a request takes a token. Auth attempts are
 * counted by IP alone: they carry no credential, and a made-up bearer token must not open
 * a fresh bucket for password guessing (the edge cannot tell a real token from a made-up one).
 */
export async function spend(
  c: Context<EdgeEnv>,
  name: BudgetName,
): Promise<{ budget: Budget; result: TakeResult }> {
  const config = c.get('config');
  const budget =
    name === 'jobs'
      ? config.RATE_LIMIT_JOBS
      : name === 'auth'
        ? config.RATE_LIMIT_AUTH
        : config.RATE_LIMIT_DEFAULT;
  const key = await limitKey(
    name === 'auth' ? undefined : c.req.header('authorization'),
    c.get('clientIp'),
  );
  const limiter = config.RATE_LIMITER.get(config.RATE_LIMITER.idFromName(`${name}|${key}`));
  return { budget, result: await limiter.take(budget.requests, budget.seconds) };
}

export interface RateLimitOptions {
  /** Paths no client budget applies to (health probes, Stripe's webhook), exactly. */
  exempt?: readonly string[];
}

/**
 * Spends one request of the request's budget in the limiter Durable Object; 429
 * `rate_limited` with `Retry-After` once it is empty. Answers carry `RateLimit-Policy`
 * and `RateLimit`. Switched off, or on an exempt path, it does nothing at all.
 *
 * @example
 * app.use('/v1/*', rateLimit({ exempt: ['/v1/health'] }));
 */
export function rateLimit(options: RateLimitOptions = {}): MiddlewareHandler<EdgeEnv> {
  const exempt = new Set(options.exempt);
  return async function rateLimit(c, next) {
    const config = c.get('config');
    if (!config.RATE_LIMIT_ENABLED || exempt.has(c.req.path)) return next();
    const name = budgetFor(c.req.method, c.req.path);
    const { budget, result } = await spend(c, name);
    const headers = {
      'ratelimit-policy': policyHeader(name, budget),
      ratelimit: limitHeader(name, result.remaining, result.resetSeconds),
    };
    if (!result.allowed) {
      // Answered rather than thrown: headers set on the context before a throw are lost.
      const refusal = errorResponse(
        c,
        new ApiError('rate_limited', `Too many requests; the ${name} budget is spent.`, {
          retryAfter: result.retryAfterSeconds,
        }),
      );
      for (const [k, v] of Object.entries(headers)) refusal.headers.set(k, v);
      return refusal;
    }
    await next();
    if (c.res.status === 101) return;
    for (const [k, v] of Object.entries(headers)) c.header(k, v);
  };
}
