import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { jobEventKinds } from '../../../../shared/job-states.ts';
import type { Job } from '../../../../shared/schemas/jobs.ts';
import { jobs } from './jobs.ts';

/** Every state change of a job, numbered per job, written in the transaction that made it. */
export const jobEvents = sqliteTable(
  'job_events',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id),
    seq: integer('seq').notNull(),
    kind: text('kind', { enum: jobEventKinds }).notNull(),
    /** The job as it was right after this event. */
    snapshot: text('snapshot', { mode: 'json' }).notNull().$type<Job>(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);
