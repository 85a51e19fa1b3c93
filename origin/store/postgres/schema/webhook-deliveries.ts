import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { jobEventKinds } from '../../../../shared/job-states.ts';
import { deliveryStatuses } from '../../records.ts';
import { epochMs, idText } from './columns.ts';
import { jobs } from './jobs.ts';
import { users } from './users.ts';

/** One outbound webhook message, written in the transaction of the job event it reports. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: idText('id').primaryKey(),
    jobId: idText('job_id')
      .notNull()
      .references(() => jobs.id),
    userId: idText('user_id')
      .notNull()
      .references(() => users.id),
    url: text('url').notNull(),
    event: text('event', { enum: jobEventKinds }).notNull(),
    seq: integer('seq').notNull(),
    payload: text('payload').notNull(),
    status: text('status', { enum: deliveryStatuses }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: epochMs('next_attempt_at').notNull(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: epochMs('created_at').notNull(),
    finishedAt: epochMs('finished_at'),
    /** The claimed attempt's fence: only its outcome is recorded. */
    claimToken: text('claim_token'),
  },
  (t) => [
    index('webhook_deliveries_due').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_job').on(t.jobId, t.seq),
  ],
);
