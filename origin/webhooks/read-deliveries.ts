import type { WebhookDeliveryInfo } from '../../shared/schemas/jobs.ts';
import type { Principal } from '../auth/principal.ts';
import { findJob } from '../jobs/read-jobs.ts';
import type { Services } from '../services.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The webhook deliveries of the user's job, with every attempt's outcome. */
export async function listDeliveries(
  deps: Pick<Services, 'store'>,
  principal: Principal,
  jobId: string,
): Promise<WebhookDeliveryInfo[]> {
  await findJob(deps, principal, jobId);
  return (await deps.store.webhooks.forJob(jobId)).map((d) => ({
    id: d.id,
    event: d.event,
    seq: d.seq,
    url: d.url,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: new Date(d.createdAt).toISOString(),
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    finishedAt: iso(d.finishedAt),
  }));
}
