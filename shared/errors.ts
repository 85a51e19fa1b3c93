import { z } from 'zod';

/**
 * The one error vocabulary of the API (API.md "Errors"), shared by the edge, the origin
 * and clients. A code names what went wrong; `codeToStatus` is the only place that maps
 * a code to an HTTP status.
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
  'range_not_satisfiable',
  'rate_limited',
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
