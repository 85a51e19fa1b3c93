import { endpoints, type OperationId } from '../../shared/api/endpoints.ts';

/**
 * How the edge may send a request to another origin once the one it chose could not take
 * it. A refused or broken connection, or a timeout, does not tell whether the origin already
 * acted on the request, so only a request whose repetition cannot double its effect is sent
 * again; any other is sent once.
 */
export interface RetryRule {
  /** Whether the request may go to the next origin. */
  retried: boolean;
  /** Why that is safe, or why not (logged when an origin is skipped; the README says the same). */
  why: string;
  /**
   * The edge adds an `Idempotency-Key` when the client sent none, which is what makes the
   * retry safe: a second origin answers the job the first one created.
   */
  attachesIdempotencyKey: boolean;
}

/** Reads change nothing, whichever origin answers and however often. */
const reads = new Set(['GET', 'HEAD']);

/** The writes that may be repeated, by operation (`shared/api/endpoints.ts`), and why. */
const repeatableWrites = {
  createJob: {
    why: 'the Idempotency-Key (the edge adds one) makes a repeated create answer the first job, charged once',
    attachesIdempotencyKey: true,
  },
  cancelJob: {
    why: 'idempotent by contract: canceling a canceled job answers it again',
    attachesIdempotencyKey: false,
  },
  receiveStripeEvent: {
    why: 'the ledger records each Stripe event id once',
    attachesIdempotencyKey: false,
  },
} satisfies Partial<Record<OperationId, Omit<RetryRule, 'retried'>>>;

const writeMatchers = Object.entries(repeatableWrites).map(([id, rule]) => {
  const { method, path } = endpoints[id as keyof typeof repeatableWrites];
  const pattern = path.replaceAll(/\{[^}]+\}/g, '[^/]+');
  return { method: method.toUpperCase(), path: new RegExp(`^${pattern}$`), rule };
});

const read: RetryRule = {
  retried: true,
  why: 'a read changes nothing',
  attachesIdempotencyKey: false,
};
const once: RetryRule = {
  retried: false,
  why: 'the first origin may have acted on it already',
  attachesIdempotencyKey: false,
};

/**
 * The one retry rule of the edge: GET and HEAD, job creation, job cancel and Stripe's
 * webhook may go on to another origin; everything else is sent once.
 *
 * @example
 * retryRule('POST', '/v1/jobs'); // { retried: true, attachesIdempotencyKey: true, … }
 * retryRule('POST', '/v1/auth/register').retried; // false
 */
export function retryRule(method: string, path: string): RetryRule {
  const upper = method.toUpperCase();
  if (reads.has(upper)) return read;
  const write = writeMatchers.find((m) => m.method === upper && m.path.test(path));
  return write ? { retried: true, ...write.rule } : once;
}
