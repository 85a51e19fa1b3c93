import { z } from 'zod';
import { type JobErrorCode, jobErrorCodes } from '../errors.ts';
import {
  type JobEventKind,
  type JobStatus,
  jobEventKinds,
  jobStatuses,
  terminalStatuses,
} from '../job-states.ts';
import { outputFormatNames } from '../output-formats.ts';
import { timestampSchema as timestamp } from './timestamp.ts';

export {
  type JobErrorCode,
  type JobEventKind,
  type JobStatus,
  jobErrorCodes,
  jobEventKinds,
  jobStatuses,
  terminalStatuses,
};

export const idSchema = z.string().regex(/^[a-z]{2,4}_[0-9A-Za-z]{10,40}$/, 'not a valid id');

/** Events an outbound webhook may ask for; without a list, the terminal ones. */
export const webhookEventKinds = [
  'started',
  'progress',
  'succeeded',
  'failed',
  'canceled',
] as const;
export const defaultWebhookEvents: JobEventKind[] = ['succeeded', 'failed', 'canceled'];

/** Body of `POST /v1/jobs`. `input` is checked against the model's own JSON Schema. */
export const createJobSchema = z
  .strictObject({
    model: z.string().min(1).max(100),
    input: z.record(z.string(), z.unknown()),
    webhook: z
      .strictObject({
        url: z.string().min(1).max(2048),
        events: z.array(z.enum(webhookEventKinds)).min(1).max(5).optional(),
      })
      .optional(),
    deadline: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(
        'if the job is still queued at this time it ends canceled, code deadline_exceeded, refunded',
      ),
    format: z
      .enum(outputFormatNames)
      .optional()
      .describe(
        "the output's format, one the model offers (GET /v1/models `formats`); wav by default",
      ),
  })
  .meta({ id: 'CreateJobBody' });
export type CreateJobBody = z.infer<typeof createJobSchema>;

/** Query of `GET /v1/jobs`. */
export const listJobsQuerySchema = z.strictObject({
  status: z.enum(jobStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: idSchema.optional(),
});
export type ListJobsQuery = z.infer<typeof listJobsQuerySchema>;

/** `Idempotency-Key` header: printable, bounded. */
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const jobErrorSchema = z
  .object({
    code: z.enum(jobErrorCodes).describe('machine-readable: why the job failed'),
    message: z.string(),
  })
  .meta({ id: 'JobError' });
export type JobError = z.infer<typeof jobErrorSchema>;

export const jobOutputSchema = z
  .object({
    url: z.string().describe('where to download the file, relative to the API host'),
    contentType: z.string(),
    bytes: z.number().int().min(0),
  })
  .meta({ id: 'JobOutput' });
export type JobOutput = z.infer<typeof jobOutputSchema>;

/** The job as every answer and every event shows it (API.md "Jobs"). */
export const jobSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    status: z.enum(jobStatuses),
    progress: z.number().min(0).max(1),
    queuePosition: z
      .number()
      .int()
      .min(1)
      .nullable()
      .describe(
        'among the queued jobs of its model (each model has its own pool): 1 for the next to start, in the fair order across users',
      ),
    etaSeconds: z
      .number()
      .int()
      .min(0)
      .nullable()
      .describe('while queued: an estimate of the seconds until the job starts'),
    deadline: timestamp.nullable().describe('still queued at this time → canceled'),
    input: z.record(z.string(), z.unknown()),
    format: z
      .string()
      .nullable()
      .describe("the output's format (wav, mp3); null for a model that offers no choice"),
    cost: z.number().int().min(0),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    // A union, not `.nullable()`: zod-to-openapi 9 documents a nullable named schema wrongly.
    error: z.union([jobErrorSchema, z.null()]),
    output: z.union([jobOutputSchema, z.null()]),
    /** True once retention removed the output: the job stays, its file is gone (410). */
    outputExpired: z.boolean(),
    seq: z.number().int().min(0).describe("sequence number of the job's latest event"),
  })
  .meta({ id: 'Job' });
export type Job = z.infer<typeof jobSchema>;

export const jobPageSchema = z
  .object({
    data: z.array(jobSchema),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'JobPage' });
export type JobPage = z.infer<typeof jobPageSchema>;

/** One entry of `GET /v1/jobs/:id/webhook-deliveries`. */
export const webhookDeliveryInfoSchema = z
  .object({
    id: z.string(),
    event: z.enum(jobEventKinds),
    seq: z.number().int().min(1),
    url: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int().min(0),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: timestamp,
    nextAttemptAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .meta({ id: 'WebhookDeliveryInfo' });
export type WebhookDeliveryInfo = z.infer<typeof webhookDeliveryInfoSchema>;

/** Answer of `GET /v1/jobs/:id/webhook-deliveries`. */
export const webhookDeliveryListSchema = z
  .object({ data: z.array(webhookDeliveryInfoSchema) })
  .meta({ id: 'WebhookDeliveryList' });

/** Answer of `GET /v1/webhooks/secret`: the key that signs this user's webhooks. */
export const webhookSecretSchema = z
  .object({ secret: z.string().regex(/^whsec_/) })
  .meta({ id: 'WebhookSecret' });
