import type { JobStatus } from '../../shared/schemas/jobs.ts';
import type { JobLoad } from './store.ts';

/** One row of both stores' load query: jobs of a status, model and claim owner. */
export interface LoadRow {
  status: JobStatus;
  model: string;
  originId: string | null;
  jobs: number;
}

/**
 * The load both stores answer from their one grouped read: queued jobs per model (a queued
 * job's last owner, if any, does not matter), running ones per model and owner.
 *
 * @example
 * jobLoad([{ status: 'running', model: 'steps', originId: 'o-1', jobs: 2 }]);
 * // { queued: [], running: [{ model: 'steps', originId: 'o-1', jobs: 2 }] }
 */
export function jobLoad(rows: readonly LoadRow[]): JobLoad {
  const queued = new Map<string, number>();
  const running: JobLoad['running'] = [];
  for (const row of rows) {
    const jobs = Number(row.jobs);
    if (row.status === 'queued') queued.set(row.model, (queued.get(row.model) ?? 0) + jobs);
    else if (row.status === 'running')
      running.push({ model: row.model, originId: row.originId, jobs });
  }
  return { queued: [...queued].map(([model, jobs]) => ({ model, jobs })), running };
}
