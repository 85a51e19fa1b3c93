import { z } from 'zod';

/**
 * The one error vocabulary of the API (API.md "Errors"), shared by the edge, the origin
 * and clients. A code names what went wrong; `codeToStatus` is the only place that maps
 * a code to an HTTP status, `codeForStatus` the only one that maps a status to a code.
 * Beyond HTTP: the codes of a failed job (`jobErrorCodes`) and of WebSocket errors
 * (`wsErrorCodes`).
 */
export const errorCodes = [
  'invalid_request',
  'unauthorized',
  'insufficient_credits',
  'forbidden',
  'not_found',
  'conflict',
  'gone',
  'payload_too_large',
  'unsupported_media_type',
  /** An upload that is not what its content type says (a WAV that does not parse as one). */
  'invalid_file',
  'range_not_satisfiable',
  'rate_limited',
  'too_many_jobs',
  /** A user's files at the most one account may keep. */
  'too_many_files',
  'internal',
  'bad_gateway',
  'gateway_timeout',
  'overloaded',
  'not_ready',
  'disk_full',
  'billing_disabled',
  'invalid_signature',
  'misconfigured',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/**
 * @example
 * codeToStatus('insufficient_credits'); // 402
 */
export function codeToStatus(code: ErrorCode): number {
  switch (code) {
    case 'invalid_request':
    case 'invalid_signature':
    case 'invalid_file':
      return 400;
    case 'unauthorized':
      return 401;
    case 'insufficient_credits':
      return 402;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
    case 'billing_disabled':
      return 409;
    case 'gone':
      return 410;
    case 'payload_too_large':
      return 413;
    case 'unsupported_media_type':
      return 415;
    case 'range_not_satisfiable':
      return 416;
    case 'rate_limited':
    case 'too_many_jobs':
    case 'too_many_files':
      return 429;
    case 'internal':
    case 'misconfigured':
      return 500;
    case 'bad_gateway':
      return 502;
    case 'overloaded':
    case 'not_ready':
    case 'disk_full':
      return 503;
    case 'gateway_timeout':
      return 504;
  }
}

/**
 * Each status's own code, for errors that come with a status alone (Hono's `HTTPException`):
 * the inverse of `codeToStatus`, with the general code where several share a status
 * (400, 409, 500, 503).
 */
const codeByStatus: Partial<Record<number, ErrorCode>> = {
  400: 'invalid_request',
  401: 'unauthorized',
  402: 'insufficient_credits',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  416: 'range_not_satisfiable',
  429: 'rate_limited',
  500: 'internal',
  502: 'bad_gateway',
  503: 'overloaded',
  504: 'gateway_timeout',
};

/**
 * The code of an HTTP status: its own code where it has one, else `invalid_request` for any
 * other 4xx and `internal` for anything else. So an error answered by its code keeps its
 * status's class: a client error is never turned into a 500, nor the reverse.
 *
 * @example
 * codeForStatus(413); // 'payload_too_large'
 * codeForStatus(405); // 'invalid_request'
 */
export function codeForStatus(status: number): ErrorCode {
  return codeByStatus[status] ?? (status >= 400 && status < 500 ? 'invalid_request' : 'internal');
}

/**
 * Hono's `HTTPException` (or any error with a status) as our error: the one mapping both
 * apps' error handlers use. Typed by shape so that this file imports nothing from Hono.
 *
 * @example
 * if (error instanceof HTTPException) return errorResponse(c, fromHttpException(error));
 */
export function fromHttpException(error: { status: number; message: string }): ApiError {
  const code = codeForStatus(error.status);
  return new ApiError(code, error.message || code, { cause: error });
}

/**
 * What `job.error.code` can be: why a job failed, or why the server canceled it (a job the
 * user canceled has no error). `model_error`: the model threw; `invalid_output`: it produced
 * no output; `timeout`: it ran longer than the job timeout; `interrupted`: restarts
 * interrupted it on every attempt; `internal`: the origin could not finish the job;
 * `deadline_exceeded` (on a `canceled` job): it was still queued at its deadline, or had
 * waited `MAX_QUEUE_WAIT_MS`; `file_gone`: a file its input names was deleted or expired
 * before it ran.
 */
export const jobErrorCodes = [
  'model_error',
  'invalid_output',
  'timeout',
  'interrupted',
  'internal',
  'deadline_exceeded',
  'file_gone',
] as const;
export type JobErrorCode = (typeof jobErrorCodes)[number];

/** Codes of the WebSocket's `{"type":"error"}` messages (API.md "WebSocket"). */
export const wsErrorCodes = [
  'not_found',
  'invalid_message',
  'message_too_large',
  'unauthorized',
  'too_many_subscriptions',
] as const;
export type WsErrorCode = (typeof wsErrorCodes)[number];

/** The JSON body of every error answer. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(errorCodes),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string().optional(),
    }),
  })
  .meta({ id: 'ErrorBody' });
export type ErrorBody = z.infer<typeof errorBodySchema>;

/**
 * The one error class: thrown by services and middleware, turned into an answer by each
 * app's single error handler.
 *
 * @example
 * throw new ApiError('not_found', 'No job with that id.');
 * throw new ApiError('overloaded', 'The queue is full.', { retryAfter: 5 });
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  /** Seconds, sent as `Retry-After` (429 and 503 answers). */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }

  get status(): number {
    return codeToStatus(this.code);
  }

  toBody(requestId?: string): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    if (requestId !== undefined) error.requestId = requestId;
    return { error };
  }
}
