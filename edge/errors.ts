import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError } from '../shared/errors.ts';
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

/** The edge's one error handler: ours, Hono's, and anything else as a logged 500. */
export function handleError(error: Error, c: Context<EdgeEnv>): Response {
  if (error instanceof ApiError) return errorResponse(c, error);
  if (error instanceof HTTPException && error.status < 500) {
    return errorResponse(c, new ApiError('invalid_request', error.message || 'bad request'));
  }
  console.error(
    JSON.stringify({
      msg: 'unhandled edge error',
      requestId: c.get('requestId'),
      error: String(error),
    }),
  );
  return errorResponse(
    c,
    new ApiError('internal', 'Something went wrong at the edge; quote the request id.'),
  );
}
