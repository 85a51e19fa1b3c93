import { z } from 'zod';

/** Job statuses, shared by the table's column and the API's enum. */
export const jobStatuses = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type JobStatus = (typeof jobStatuses)[number];
export const terminalStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];

/** Kinds of job event; each state change of a job is one, with a per-job `seq`. */
export const jobEventKinds = [
  'queued',
  'started',
  'progress',
  'succeeded',
  'failed',
  'canceled',
] as const;
export type JobEventKind = (typeof jobEventKinds)[number];

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
export const createJobSchema = z.strictObject({
  model: z.string().min(1).max(100),
  input: z.record(z.string(), z.unknown()),
  webhook: z
    .strictObject({
      url: z.string().min(1).max(2048),
      events: z.array(z.enum(webhookEventKinds)).min(1).max(5).optional(),
    })
    .optional(),
});
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

export interface JobError {
  code: string;
  message: string;
}

export interface JobOutput {
  url: string;
  contentType: string;
  bytes: number;
}

/** The job as every answer and every event shows it (API.md "Jobs"). */
export interface Job {
  id: string;
  model: string;
  status: JobStatus;
  progress: number;
  queuePosition: number | null;
  input: Record<string, unknown>;
  cost: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: JobError | null;
  output: JobOutput | null;
  seq: number;
}

export interface JobPage {
  data: Job[];
  nextCursor: string | null;
}

/** One entry of `GET /v1/jobs/:id/webhook-deliveries`. */
export interface WebhookDeliveryInfo {
  id: string;
  event: JobEventKind;
  seq: number;
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string | null;
  finishedAt: string | null;
}
