import { z } from 'zod';
import type { WsErrorCode } from './errors.ts';
import type { Job, JobEventKind } from './schemas/jobs.ts';

/** Messages a client sends on `/v1/ws` (API.md "WebSocket"). */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auth'), token: z.string().min(1).max(4096) }),
  z.strictObject({
    type: z.literal('subscribe'),
    jobId: z.string().min(1).max(100),
    since: z.number().int().min(0).optional(),
  }),
  z.strictObject({ type: z.literal('unsubscribe'), jobId: z.string().min(1).max(100) }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** Messages the server sends. */
export type ServerMessage =
  | { type: 'ready'; userId: string }
  | { type: 'subscribed'; jobId: string; seq: number; job: Job }
  | { type: 'unsubscribed'; jobId: string }
  | { type: 'job'; jobId: string; seq: number; event: JobEventKind; job: Job }
  /**
   * A queued job moved in the line, or its estimated start did: not a stored event, so `seq`
   * stays the job's latest. `etaSeconds` is an estimate (README "Fair scheduling").
   */
  | { type: 'queue'; jobId: string; seq: number; queuePosition: number; etaSeconds: number }
  | { type: 'error'; code: WsErrorCode; message: string; jobId?: string };

// Declared with the rest of the error vocabulary; re-exported for the socket's importers.
export { type WsErrorCode, wsErrorCodes } from './errors.ts';

/** Close codes the server uses; 4xxx are this API's own (RFC 6455 §7.4.2). */
export const closeCodes = {
  /** The origin is restarting: reconnect and resubscribe with `since`. */
  restarting: 1012,
  /** Unsent bytes passed the bound (slow consumer): reconnect and resume. */
  tryAgainLater: 1013,
  /** Too many bad messages, or too many sockets for one user. */
  policyViolation: 1008,
  /** No valid token, or none within the auth deadline. */
  unauthorized: 4401,
} as const;
