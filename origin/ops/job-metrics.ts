import { terminalStatuses } from '../../shared/schemas/jobs.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { JobStore } from '../store/store.ts';

const terminal = new Set<string>(terminalStatuses);

/**
 * Turns the job events this process committed into metrics: queue wait at start, endings by
 * status. Its own only: in a cluster each origin counts what it did, once.
 */
export function watchJobMetrics(jobs: Pick<JobStore, 'onCommit'>, metrics: Metrics): () => void {
  return jobs.onCommit(({ kind, job }) => {
    if (kind === 'started' && job.startedAt) {
      metrics.queueWait(job.model, (Date.parse(job.startedAt) - Date.parse(job.createdAt)) / 1000);
    } else if (terminal.has(kind)) {
      metrics.jobFinished(job.model, kind);
    }
  });
}
