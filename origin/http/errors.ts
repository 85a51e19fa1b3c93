import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError, fromHttpException } from '../../shared/errors.ts';
import type { AppEnv } from './context.ts';

/** Answers an `ApiError` with the API's JSON error shape and `Retry-After` where it applies. */
export function errorResponse(c: Context<AppEnv>, error: ApiError): Response {
  if (error.retryAfter !== undefined) c.header('Retry-After', String(error.retryAfter));
  if (error.code === 'unauthorized') c.header('WWW-Authenticate', 'Bearer');
  return c.json(error.toBody(c.get('requestId')), error.status as ContentfulStatusCode);
}

/**
 * The app's one error handler, in three tiers: our errors, Hono's HTTPException, and
 * anything else, which is logged and answered as a 500 with no detail but the request id.
 */
export function handleError(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof ApiError) {
    // A failure of ours (Stripe unreachable, say) is for operators to see, with its cause;
    // a 503 (starting, overloaded, disk full) is the system working as designed.
    if (error.status >= 500 && error.status !== 503) {
      c.get('services').logger.error(
        { err: error.cause ?? error, code: error.code, requestId: c.get('requestId') },
        error.message,
      );
    }
    return errorResponse(c, error);
  }
  if (error instanceof HTTPException) return errorResponse(c, fromHttpException(error));
  c.get('services').logger.error(
    { err: error, requestId: c.get('requestId'), route: c.req.routePath },
    'unhandled error',
  );
  return errorResponse(
    c,
    new ApiError('internal', 'Something went wrong on our side; quote the request id.'),
  );
}

export function handleNotFound(c: Context<AppEnv>): Response {
  return errorResponse(c, new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`));
}
