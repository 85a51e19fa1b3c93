import type { JobEventKind } from '../../shared/schemas/jobs.ts';
import { newId } from '../lib/ids.ts';
import type { JobRecord, NewDelivery } from '../store/records.ts';
import type { JobEvent } from '../store/store.ts';
import { webhookPayload } from '../webhooks/payload.ts';
import { toJob } from './view.ts';

/**
 * The event a change of `job` records (the job as it is right after), and the webhook
 * delivery to write with it when the job asked for events of this kind. The store writes
 * both in the transaction of the change.
 */
export function eventOf(
  job: JobRecord,
  kind: JobEventKind,
  at: number,
  queuePosition: number | null,
): { event: JobEvent; delivery: NewDelivery | undefined } {
  const snapshot = toJob(job, queuePosition);
  const wanted = job.webhookUrl !== null && job.webhookEvents?.includes(kind) === true;
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
