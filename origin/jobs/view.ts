import type { Job } from '../../shared/schemas/jobs.ts';
import type { JobRecord } from '../store/records.ts';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Where a job's output is downloaded, relative to the API's host. */
export const outputUrl = (jobId: string): string => `/v1/jobs/${jobId}/output`;

/**
 * The public shape of a job (API.md `Job`), from its row.
 *
 * @example
 * toJob(row, 3).queuePosition; // 3
 */
export function toJob(row: JobRecord, queuePosition: number | null): Job {
  const hasOutput =
    row.status === 'succeeded' && row.outputFile !== null && row.outputExpiredAt === null;
  return {
    id: row.id,
    model: row.model,
    status: row.status,
    progress: row.progress,
    queuePosition: row.status === 'queued' ? queuePosition : null,
    // Estimated where the queue is known (`QueueEstimates`): never stored with an event.
    etaSeconds: null,
    deadline: iso(row.deadlineAt),
    input: row.input,
    format: row.outputFormat,
    cost: row.cost,
    createdAt: new Date(row.createdAt).toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    error: row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? '' },
    output: hasOutput
      ? {
          url: outputUrl(row.id),
          contentType: row.outputContentType ?? 'application/octet-stream',
          bytes: row.outputBytes ?? 0,
        }
      : null,
    outputExpired: row.outputExpiredAt !== null,
    seq: row.seq,
  };
}

/**
 * A job as an event stored it: snapshots written before a field existed get its empty value
 * (`etaSeconds`, `deadline`: none stored before fair scheduling; `format`: none before output formats), so every replay is a `Job`.
 */
export function storedJob(snapshot: Job): Job {
  return {
    ...snapshot,
    etaSeconds: null,
    deadline: snapshot.deadline ?? null,
    format: snapshot.format ?? null,
  };
}
