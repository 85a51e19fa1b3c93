import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { jobErrorCodes } from '../../../../shared/errors.ts';
import { type JobEventKind, jobStatuses } from '../../../../shared/job-states.ts';
import { users } from './users.ts';

/**
 * One row per job. Ids sort by creation time, so the queue runs in id order and
 * pagination (newest first) walks ids downwards.
 */
export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    model: text('model').notNull(),
    modelVersion: text('model_version').notNull(),
    status: text('status', { enum: jobStatuses }).notNull(),
    progress: real('progress').notNull().default(0),
    input: text('input', { mode: 'json' }).notNull().$type<Record<string, unknown>>(),
    cost: integer('cost').notNull(),
    idempotencyKey: text('idempotency_key'),
    /** SHA-256 of the request (model + input) that first used the idempotency key. */
    requestHash: text('request_hash'),
    attempts: integer('attempts').notNull().default(0),
    errorCode: text('error_code', { enum: jobErrorCodes }),
    errorMessage: text('error_message'),
    outputFile: text('output_file'),
    outputContentType: text('output_content_type'),
    outputBytes: integer('output_bytes'),
    outputEtag: text('output_etag'),
    /** When retention removed the output file; the job keeps its record. */
    outputExpiredAt: integer('output_expired_at'),
    /** Inference time the worker measured, for benchmarks and stats. */
    runMs: integer('run_ms'),
    /** Where this job's events are POSTed, and which of them. */
    webhookUrl: text('webhook_url'),
    webhookEvents: text('webhook_events', { mode: 'json' }).$type<JobEventKind[]>(),
    /** Sequence number of the job's latest event. */
    seq: integer('seq').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    /** Still queued at this time (epoch ms): canceled `deadline_exceeded`. */
    deadlineAt: integer('deadline_at'),
    /** The output format asked for (`wav`, `mp3`); null: the model's own output. */
    outputFormat: text('output_format'),
    /** The running attempt's owner, fence and lease (see JobRecord). */
    claimedBy: text('claimed_by'),
    claimToken: text('claim_token'),
    leaseUntil: integer('lease_until'),
  },
  (t) => [
    index('jobs_user_id').on(t.userId, t.id),
    index('jobs_status_id').on(t.status, t.id),
    // Stats read a window of creation times, for one user or for all.
    index('jobs_user_created').on(t.userId, t.createdAt),
    index('jobs_created').on(t.createdAt),
    // The sweep of abandoned claims reads running jobs by lease end.
    index('jobs_status_lease').on(t.status, t.leaseUntil),
    // The jobs holding a thread (fair order, per-user caps): a few rows, however long the history.
    index('jobs_holding').on(t.userId).where(sql`${t.claimToken} IS NOT NULL`),
    uniqueIndex('jobs_user_idempotency').on(t.userId, t.idempotencyKey),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
