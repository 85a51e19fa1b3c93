import type { JobEventKind } from '../../shared/schemas/jobs.ts';
import { newId } from '../lib/ids.ts';
import type { JobRecord, NewDelivery } from '../store/records.ts';
import type { JobEvent } from '../store/store.ts';
import { webhookPayload } from '../webhooks/payload.ts';
import { toJob } from './view.ts';

/** `progress` deliveries a job writes at most, when the store is not told otherwise. */
export const defaultMaxProgressDeliveries = 10;

/** What decides whether a `progress` event gets a delivery. */
export interface ProgressBudget {
  /** `progress` deliveries a job may write in all (`WEBHOOK_MAX_PROGRESS_PER_JOB`). */
  max: number;
  /** Those the job has written so far (the store counts them when `countsProgress` says so). */
  written: number;
}

const asked = (job: JobRecord, kind: JobEventKind): boolean =>
  job.webhookUrl !== null && job.webhookEvents?.includes(kind) === true;

/** True when the delivery of this change depends on the job's count of `progress` deliveries. */
export function countsProgress(job: JobRecord, kind: JobEventKind): boolean {
  return kind === 'progress' && asked(job, kind);
}

/**
 * A job writes at most `max` progress deliveries, one each time its progress passes the next
 * 1/max of the way: a job that reports every step floods neither its receiver nor the
 * deliverer, and a job run again after a restart does not send its first steps twice.
 */
function progressDue(progress: number, budget: ProgressBudget): boolean {
  const passed = Math.floor(progress * budget.max + 1e-9);
  return budget.written < budget.max && passed > budget.written;
}

/**
 * The event a change of `job` records (the job as it is right after), and the webhook
 * delivery to write with it when the job asked for events of this kind (for `progress`,
 * within its budget). The store writes both in the transaction of the change.
 */
export function eventOf(
  job: JobRecord,
  kind: JobEventKind,
  at: number,
  queuePosition: number | null,
  progress: ProgressBudget,
): { event: JobEvent; delivery: NewDelivery | undefined } {
  const snapshot = toJob(job, queuePosition);
  const wanted = asked(job, kind) && (kind !== 'progress' || progressDue(job.progress, progress));
  const delivery: NewDelivery | undefined =
    wanted && job.webhookUrl !== null
      ? {
          id: newId('msg', at),
          jobId: job.id,
          userId: job.userId,
          url: job.webhookUrl,
          event: kind,
          seq: job.seq,
          payload: webhookPayload(kind, snapshot, at),
          at,
        }
      : undefined;
  const event: JobEvent = {
    jobId: job.id,
    userId: job.userId,
    seq: job.seq,
    kind,
    job: snapshot,
    createdAt: at,
    delivery: delivery !== undefined,
  };
  return { event, delivery };
}
