import { ApiError } from '../../shared/errors.ts';
import type { Job, JobPage, ListJobsQuery } from '../../shared/schemas/jobs.ts';
import type { Principal } from '../auth/principal.ts';
import type { OutputLocation } from '../outputs/output-store.ts';
import type { Services } from '../services.ts';

type Deps = Pick<Services, 'store' | 'outputs'>;

/** The user's job as stored; another user's is as unknown as a missing one (404, not 403). */
export async function findJob(
  deps: Pick<Services, 'store'>,
  principal: Principal,
  jobId: string,
): Promise<Job> {
  const job = await deps.store.jobs.get(principal.userId, jobId);
  if (!job) throw new ApiError('not_found', 'No job with that id.');
  return job;
}

/** The user's job, a queued one with its estimated start. */
export async function getJob(
  deps: Pick<Services, 'store' | 'estimates'>,
  principal: Principal,
  jobId: string,
): Promise<Job> {
  return deps.estimates.withEta(await findJob(deps, principal, jobId));
}

/** The user's jobs, newest first, the queued ones with their estimated starts. */
export async function listJobs(
  deps: Pick<Services, 'store' | 'estimates'>,
  principal: Principal,
  query: ListJobsQuery,
): Promise<JobPage> {
  const page = await deps.store.jobs.list(principal.userId, query);
  return { ...page, data: await deps.estimates.withEtas(page.data) };
}

export interface StoredOutput {
  location: OutputLocation;
  /** Its size in bytes, as the job recorded it. */
  size: number;
  contentType: string;
  etag: string;
}

/** Where the output of a succeeded job is: a file here, bytes kept with the job, or an object in the edge's bucket. */
export async function findOutput(
  deps: Deps,
  principal: Principal,
  jobId: string,
): Promise<StoredOutput> {
  const job = await findJob(deps, principal, jobId);
  if (job.status !== 'succeeded') {
    throw new ApiError('conflict', `The job has no output: it is ${job.status}.`);
  }
  const row = await deps.store.jobs.record(jobId);
  if (!row?.outputFile || row.outputExpiredAt !== null) {
    throw new ApiError('gone', 'The output of this job was removed by the retention policy.');
  }
  const location = await deps.outputs.locate(row.outputFile);
  if (!location) throw new ApiError('gone', 'The output of this job was removed.');
  return {
    location,
    // What is here was measured; an object in the bucket is as the job recorded it.
    size: location.at === 'edge' ? (row.outputBytes ?? 0) : location.size,
    contentType: row.outputContentType ?? 'application/octet-stream',
    etag: `"${row.outputEtag ?? row.id}"`,
  };
}
