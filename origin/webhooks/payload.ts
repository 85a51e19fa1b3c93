import type { Job, JobEventKind } from '../../shared/schemas/jobs.ts';

/**
 * The body of an outbound webhook, in the Standard Webhooks shape: a dotted `type`, a
 * timestamp, and the job as `data`.
 *
 * @example
 * webhookPayload('succeeded', job, Date.now()); // '{"type":"job.succeeded",…}'
 */
export function webhookPayload(kind: JobEventKind, job: Job, at: number): string {
  return JSON.stringify({ type: `job.${kind}`, timestamp: new Date(at).toISOString(), data: job });
}
