import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { jobEventKinds } from '../../../../shared/job-states.ts';
import { deliveryStatuses } from '../../records.ts';
import { jobs } from './jobs.ts';
import { users } from './users.ts';

/**
 * One outbound webhook message, written in the transaction of the job event it reports,
 * so a terminal event's delivery survives a restart. Attempts update the row.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    /** Also the `webhook-id` header: the receiver's idempotency key. */
    id: text('id').primaryKey(),
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    url: text('url').notNull(),
    event: text('event', { enum: jobEventKinds }).notNull(),
    seq: integer('seq').notNull(),
    /** The exact JSON body sent on every attempt. */
    payload: text('payload').notNull(),
    status: text('status', { enum: deliveryStatuses }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    finishedAt: integer('finished_at'),
    /** The claimed attempt's fence: only its outcome is recorded. */
    claimToken: text('claim_token'),
  },
  (t) => [
    index('webhook_deliveries_due').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_job').on(t.jobId, t.seq),
  ],
);
