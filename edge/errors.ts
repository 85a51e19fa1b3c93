import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError, fromHttpException } from '../shared/errors.ts';
import type { EdgeEnv } from './context.ts';

/** The API's JSON error, with `Retry-After` where it applies and the edge's request id. */
export function errorResponse(c: Context<EdgeEnv>, error: ApiError): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
  const requestId = c.get('requestId');
  if (requestId) headers['x-request-id'] = requestId;
  return new Response(JSON.stringify(error.toBody(requestId)), {
    status: error.status as ContentfulStatusCode,
    headers,
  });
}

/**
 * The edge's one error handler: ours; Hono's `HTTPException`, mapped by status as the origin
 * maps it (a 5xx one is a bug, so it is logged too); anything else as a logged 500.
 */
export function handleError(error: Error, c: Context<EdgeEnv>): Response {
  if (error instanceof ApiError) return errorResponse(c, error);
  const fromHono = error instanceof HTTPException;
  if (!fromHono || error.status >= 500) {
    console.error(
      JSON.stringify({
        msg: 'unhandled edge error',
        requestId: c.get('requestId'),
        error: String(error),
      }),
    );
  }
  return errorResponse(
    c,
    fromHono
      ? fromHttpException(error)
      : new ApiError('internal', 'Something went wrong at the edge; quote the request id.'),
  );
}
