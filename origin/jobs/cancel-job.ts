import { ApiError } from '../../shared/errors.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';

/**
 * Cancels a queued or running job (refunded in full). Canceling a canceled job answers it
 * again; a job that succeeded or failed is a 409.
 */
export async function cancelJob(
  deps: Pick<Services, 'store'>,
  principal: Principal,
  jobId: string,
): Promise<Job> {
  const job = await deps.store.jobs.get(principal.userId, jobId);
  if (!job) throw new ApiError('not_found', 'No job with that id.');
  if (job.status === 'queued' || job.status === 'running') {
    // The origin running the job hears the event and stops its worker, wherever it is.
    const event = await deps.store.jobs.cancel(jobId, Date.now());
    // The refund is on disk before the client hears of it (durableAnswers).
    if (event) return event.job;
  }
  // Ended meanwhile, or already: answer what it is now.
  const now = await deps.store.jobs.get(principal.userId, jobId);
  if (now?.status === 'canceled') return now;
  throw new ApiError('conflict', `The job has already ${now?.status ?? 'ended'}.`);
}
