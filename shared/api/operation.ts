import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import { z } from 'zod';
import { codeToStatus, type ErrorCode, errorBodySchema } from '../errors.ts';
import { idSchema } from '../schemas/jobs.ts';
import { endpoints, type OperationId } from './endpoints.ts';

/** What a contract declares besides its method and path, which `endpoints` holds. */
export interface OperationSpec {
  summary: string;
  /** A bearer token (session JWT or API key) is required: the origin enforces what this says. */
  auth: boolean;
  /** The edge rate-limits every /v1 path but health and Stripe's webhook (default true). */
  rateLimited?: boolean;
  request?: RouteConfig['request'];
  /** The answers a handler returns, by status. */
  responses: RouteConfig['responses'];
  /** Error codes beyond those the operation's shape implies (see `impliedErrors`). */
  errors?: readonly ErrorCode[];
}

/** A JSON answer. */
export const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A JSON request body, read by the origin's `readJsonBody` and validated against `schema`. */
export const jsonBody = <S extends z.ZodType>(schema: S) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** The `{id}` of a path: one that cannot be an id is answered 404, like a missing one. */
export const idParams = z.object({ id: idSchema });

/** Codes an operation can answer by its shape alone, then the edge's and the server's. */
function impliedErrors(path: string, spec: OperationSpec): ErrorCode[] {
  const codes: ErrorCode[] = [...(spec.errors ?? [])];
  if (spec.auth) codes.push('unauthorized');
  if (spec.request?.body)
    codes.push('invalid_request', 'unsupported_media_type', 'payload_too_large');
  if (spec.request?.query) codes.push('invalid_request');
  if (path.includes('/{')) codes.push('not_found');
  if (spec.rateLimited ?? true) codes.push('rate_limited');
  codes.push('internal', 'bad_gateway', 'gateway_timeout');
  return [...new Set(codes)];
}

/** One answer per status, its error body narrowed to the codes of that status. */
function errorResponses(codes: ErrorCode[]) {
  const byStatus = new Map<number, [ErrorCode, ...ErrorCode[]]>();
  for (const code of codes) {
    const status = codeToStatus(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code] as [ErrorCode, ...ErrorCode[]]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      status,
      json(
        z.intersection(errorBodySchema, z.object({ error: z.object({ code: z.enum(codes) }) })),
        codes.join(', '),
      ),
    ]),
  );
}

/**
 * One operation of the API, declared once: its method and path (from `endpoints`), request
 * schemas, answers, whether it needs a token, and the errors it can answer. The origin
 * registers it with `app.openapi`, the document is generated from it, and the client's types
 * are read from it.
 *
 * @example
 * export const getJob = operation('getJob', {
 *   summary: 'A job',
 *   auth: true,
 *   request: { params: idParams },
 *   responses: { 200: json(jobSchema, 'the job') },
 * });
 */
export function operation<const Id extends OperationId, const S extends OperationSpec>(
  id: Id,
  spec: S,
) {
  const { method, path } = endpoints[id];
  const { auth, rateLimited: _, errors: __, responses, ...rest } = spec;
  return createRoute({
    ...rest,
    method,
    path,
    operationId: id,
    tags: [path.split('/')[2] ?? 'v1'],
    security: auth ? [{ bearer: [] }] : [],
    // Errors are thrown as ApiError and answered by the app's onError, never returned by a
    // handler: their answers are documented, but the type keeps only the ones handlers return.
    responses: { ...responses, ...errorResponses(impliedErrors(path, spec)) } as S['responses'],
  });
}
