import { integer, json, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { jobEventKinds } from '../../../../shared/job-states.ts';
import type { Job } from '../../../../shared/schemas/jobs.ts';
import { epochMs, idText } from './columns.ts';
import { jobs } from './jobs.ts';

/** Every state change of a job, numbered per job, written in the transaction that made it. */
export const jobEvents = pgTable(
  'job_events',
  {
    jobId: idText('job_id')
      .notNull()
      .references(() => jobs.id),
    seq: integer('seq').notNull(),
    kind: text('kind', { enum: jobEventKinds }).notNull(),
    /** The job as it was right after this event. */
    snapshot: json('snapshot').notNull().$type<Job>(),
    createdAt: epochMs('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);
