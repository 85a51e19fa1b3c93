import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../../../shared/errors.ts';
import type { Budget } from '../../config.ts';
import type { EdgeEnv } from '../../context.ts';
import { errorResponse } from '../../errors.ts';
import type { TakeResult } from './limiter.ts';
import { takeAtLocation } from './location-limiter.ts';
import { whoCounts } from './who.ts';

export type BudgetName = 'jobs' | 'auth' | 'default' | 'upgrades';

/** Which budget an HTTP request spends: job creation, auth attempts, or everything else. */
export function budgetFor(method: string, path: string): Exclude<BudgetName, 'upgrades'> {
  if (method === 'POST' && path === '/v1/jobs') return 'jobs';
  if (method === 'POST' && path.startsWith('/v1/auth/')) return 'auth';
  return 'default';
}

/** The token of `Authorization: Bearer <token>`, if that is what the header holds. */
export const bearerToken = (authorization: string | undefined): string | undefined =>
  /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];

/** IETF httpapi RateLimit header values (draft: structured fields `"name";q=;w=` and `"name";r=;t=`). */
export const policyHeader = (name: BudgetName, b: Budget) =>
  `"${name}";q=${b.requests};w=${b.seconds}`;
export const limitHeader = (name: BudgetName, remaining: number, reset: number) =>
  `"${name}";r=${remaining};t=${reset}`;

/**
 * Whether a budget is counted by the rate-limiting binding rather than exactly. The default
 * budget, spent by nearly every request (reads, polls, cancels), is: in production a Durable
 * Object call is a round trip to wherever that object lives, on every request, where the
 * binding's counters are on the machine the Worker runs on. The others (job creation, auth
 * attempts, WebSocket upgrades: a few per client a minute, each worth counting exactly, and
 * each followed by far more work than a round trip) stay in the limiter Durable Object.
 */
const countedAtLocation = (name: BudgetName): boolean => name === 'default';

export interface Spent {
  budget: Budget;
  result: TakeResult;
  /**
   * `RateLimit-Policy` of the budget spent, and `RateLimit` where the count is known (every
   * answer of an exact budget, a refusal of the default one).
   */
  headers: Record<string, string>;
  /** Counted, but to be refused (a JWT in a non-canonical spelling). */
  refusal: ApiError | undefined;
}

const budgetOf = (c: Context<EdgeEnv>, name: BudgetName): Budget => {
  const config = c.get('config');
  return {
    jobs: config.RATE_LIMIT_JOBS,
    auth: config.RATE_LIMIT_AUTH,
    default: config.RATE_LIMIT_DEFAULT,
    upgrades: config.RATE_LIMIT_UPGRADES,
  }[name];
};

/**
 * Spends one request of a budget for whoever the request counts against (`whoCounts`: a
 * verified user, else the IP), in the rate-limiting binding for the default budget, else in
 * that budget's and client's limiter Durable Object: the one place a request takes a token.
 * `credential` is the bearer token; auth attempts pass none, so they count by IP alone
 * whatever token they carry (they need none, and a token must not buy password guesses).
 */
export async function spend(
  c: Context<EdgeEnv>,
  name: BudgetName,
  credential: string | undefined,
): Promise<Spent> {
  const config = c.get('config');
  const budget = budgetOf(c, name);
  const counted = await whoCounts(config.JWT_SECRET, credential, c.get('clientIp'));
  let result: TakeResult;
  if (countedAtLocation(name)) {
    result = await takeAtLocation(config.RATE_LIMITER_DEFAULT, counted.key, budget);
  } else {
    const id = config.RATE_LIMITER.idFromName(`${name}|${counted.key}`);
    result = await config.RATE_LIMITER.get(id).take(budget.requests, budget.seconds);
  }
  const headers: Record<string, string> = { 'ratelimit-policy': policyHeader(name, budget) };
  if (result.remaining !== undefined) {
    headers.ratelimit = limitHeader(name, result.remaining, result.resetSeconds);
  }
  return { budget, result, headers, refusal: counted.refusal };
}

/**
 * The answer to a request that `spend` turned away (429 `rate_limited` with `Retry-After`
 * once the budget is empty, or the refusal it carried), with the budget's headers; undefined
 * when it may go on.
 */
export function turnedAway(c: Context<EdgeEnv>, name: BudgetName, spent: Spent) {
  const error = !spent.result.allowed
    ? new ApiError('rate_limited', `Too many requests; the ${name} budget is spent.`, {
        retryAfter: spent.result.retryAfterSeconds,
      })
    : spent.refusal;
  if (!error) return undefined;
  // Answered rather than thrown: headers set on the context before a throw are lost.
  const answer = errorResponse(c, error);
  for (const [k, v] of Object.entries(spent.headers)) answer.headers.set(k, v);
  return answer;
}

export interface RateLimitOptions {
  /** Paths no client budget applies to (health probes, Stripe's webhook), exactly. */
  exempt?: readonly string[];
}

/**
 * Spends one request of the request's budget (`spend`); 429 `rate_limited` with
 * `Retry-After` once it is empty. Answers carry `RateLimit-Policy`, and `RateLimit` where
 * the count is known. Switched off, or on an exempt path, it does nothing at all.
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
    const credential = name === 'auth' ? undefined : bearerToken(c.req.header('authorization'));
    const spent = await spend(c, name, credential);
    const refusal = turnedAway(c, name, spent);
    if (refusal) return refusal;
    await next();
    if (c.res.status === 101) return;
    for (const [k, v] of Object.entries(spent.headers)) c.header(k, v);
  };
}
