import { blob, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { jobs } from './jobs.ts';

/**
 * Outputs small enough to live in the database (`INLINE_OUTPUT_MAX_BYTES`): written in the
 * transaction that marks the job succeeded, so the WAL's group fsync makes both durable at
 * once, where a file would cost its own write, fsync and rename.
 */
export const jobOutputs = sqliteTable('job_outputs', {
  jobId: text('job_id')
    .primaryKey()
    .references(() => jobs.id),
  bytes: blob('bytes', { mode: 'buffer' }).notNull(),
});
