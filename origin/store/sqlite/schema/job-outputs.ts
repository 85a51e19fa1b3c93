import { blob, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { jobs } from './jobs.ts';

/**
 * Outputs small enough to live in the database (`INLINE_OUTPUT_MAX_BYTES`): written in the
 * transaction that marks the job succeeded, so they are as durable as the job's row (one
 * commit, one WAL fsync for both), where a file would cost its own write, fsync and rename.
 */
export const jobOutputs = sqliteTable('job_outputs', {
  jobId: text('job_id')
    .primaryKey()
    .references(() => jobs.id),
  bytes: blob('bytes', { mode: 'buffer' }).notNull(),
});
