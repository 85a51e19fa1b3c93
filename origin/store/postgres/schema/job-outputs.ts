import { customType, pgTable } from 'drizzle-orm/pg-core';
import { idText } from './columns.ts';
import { jobs } from './jobs.ts';

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });

/**
 * Outputs small enough to live in the database (`INLINE_OUTPUT_MAX_BYTES`): written in the
 * transaction that marks the job succeeded, durable with its commit, readable by every origin.
 */
export const jobOutputs = pgTable('job_outputs', {
  jobId: idText('job_id')
    .primaryKey()
    .references(() => jobs.id),
  bytes: bytea('bytes').notNull(),
});
