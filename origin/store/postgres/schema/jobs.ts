import { sql } from 'drizzle-orm';
import {
  doublePrecision,
  index,
  integer,
  json,
  pgTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { jobErrorCodes } from '../../../../shared/errors.ts';
import { type JobEventKind, jobStatuses } from '../../../../shared/job-states.ts';
import { epochMs, idText } from './columns.ts';
import { users } from './users.ts';

/**
 * One row per job (see `JobRecord`). Ids sort by creation time in the "C" collation, so the
 * queue runs in id order and pagination walks ids downwards. JSON columns are `json`, not
 * `jsonb`: they are read whole, never queried, and keep their key order.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: idText('id').primaryKey(),
    userId: idText('user_id')
      .notNull()
      .references(() => users.id),
    model: text('model').notNull(),
    modelVersion: text('model_version').notNull(),
    status: text('status', { enum: jobStatuses }).notNull(),
    progress: doublePrecision('progress').notNull().default(0),
    input: json('input').notNull().$type<Record<string, unknown>>(),
    cost: integer('cost').notNull(),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    attempts: integer('attempts').notNull().default(0),
    errorCode: text('error_code', { enum: jobErrorCodes }),
    errorMessage: text('error_message'),
    outputFile: text('output_file'),
    outputContentType: text('output_content_type'),
    outputBytes: integer('output_bytes'),
    outputEtag: text('output_etag'),
    outputExpiredAt: epochMs('output_expired_at'),
    runMs: integer('run_ms'),
    webhookUrl: text('webhook_url'),
    webhookEvents: json('webhook_events').$type<JobEventKind[]>(),
    seq: integer('seq').notNull().default(0),
    createdAt: epochMs('created_at').notNull(),
    startedAt: epochMs('started_at'),
    finishedAt: epochMs('finished_at'),
    deadlineAt: epochMs('deadline_at'),
    /** The output format asked for (`wav`, `mp3`); null: the model's own output. */
    outputFormat: text('output_format'),
    claimedBy: text('claimed_by'),
    claimToken: text('claim_token'),
    leaseUntil: epochMs('lease_until'),
  },
  (t) => [
    index('jobs_user_id').on(t.userId, t.id),
    index('jobs_status_id').on(t.status, t.id),
    index('jobs_user_created').on(t.userId, t.createdAt),
    index('jobs_created').on(t.createdAt),
    index('jobs_status_lease').on(t.status, t.leaseUntil),
    index('jobs_holding').on(t.userId).where(sql`${t.claimToken} IS NOT NULL`),
    uniqueIndex('jobs_user_idempotency').on(t.userId, t.idempotencyKey),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
