import { createHash } from 'node:crypto';
import { maxJobDeadlineMs, minCancelAfterMs, parseDuration } from '../../shared/duration.ts';
import { ApiError } from '../../shared/errors.ts';
import { type CreateJobBody, defaultWebhookEvents, type Job } from '../../shared/schemas/jobs.ts';
import type { Principal } from '../auth/principal.ts';
import { checkFileInputs } from '../files/file-inputs.ts';
import { formatsOf } from '../inference/models/registry.ts';
import { canonicalJson } from '../lib/canonical-json.ts';
import { newId } from '../lib/ids.ts';
import type { Services } from '../services.ts';
import { checkWebhookUrl } from '../webhooks/url-guard.ts';

type Deps = Pick<
  Services,
  'env' | 'store' | 'models' | 'pool' | 'accepting' | 'disk' | 'metrics' | 'estimates'
>;

/** Seconds a client should wait before retrying when the queue is full. */
const overloadedRetryAfter = 5;

function checkedWebhookUrl(raw: string, allowInsecure: boolean): string {
  const check = checkWebhookUrl(raw, allowInsecure);
  if (check.ok) return check.url.href;
  throw new ApiError('invalid_request', `The webhook URL is refused: ${check.reason}.`, {
    details: [{ path: 'webhook.url', message: check.reason }],
  });
}

/**
 * When a job still queued ends: its `deadline`, or its creation plus `Cancel-After`; both is
 * a 400, as is a `Cancel-After` that is no duration from 1 s to 168 h. Whether a deadline is
 * in the allowed range is the create rule's to say (`decideCreate`), after a replay: a retry
 * of a job created before its deadline passed answers that job.
 */
function deadlineOf(
  body: CreateJobBody,
  cancelAfter: string | undefined,
  at: number,
): number | undefined {
  if (body.deadline !== undefined && cancelAfter !== undefined) {
    throw new ApiError('invalid_request', 'Give a deadline or a Cancel-After header, not both.', {
      details: [{ path: 'deadline', message: 'not with Cancel-After' }],
    });
  }
  if (cancelAfter !== undefined) {
    const ms = parseDuration(cancelAfter.trim());
    if (ms === undefined || ms < minCancelAfterMs || ms > maxJobDeadlineMs) {
      throw new ApiError(
        'invalid_request',
        `Cancel-After is not a duration from ${minCancelAfterMs / 1000}s to ${maxJobDeadlineMs / 3_600_000}h.`,
        { details: [{ path: 'Cancel-After', message: 'a duration such as 90s, 5m or 1h30m' }] },
      );
    }
    return at + ms;
  }
  return body.deadline === undefined ? undefined : Date.parse(body.deadline);
}

/**
 * Validates the input against the model, then debits and queues the job in one
 * transaction. The same `Idempotency-Key` with the same body answers the first job
 * (`replayed`) and charges nothing more; with another body it is a 409.
 */
export async function createJob(
  deps: Deps,
  principal: Principal,
  body: CreateJobBody,
  headers: { idempotencyKey?: string | undefined; cancelAfter?: string | undefined },
): Promise<{ job: Job; replayed: boolean }> {
  const { idempotencyKey, cancelAfter } = headers;
  if (!deps.accepting || !deps.pool.isReady) {
    throw new ApiError('not_ready', 'The origin is starting or stopping; try again shortly.', {
      retryAfter: 5,
    });
  }
  if (deps.disk.state().low) {
    throw new ApiError(
      'disk_full',
      'The server is low on disk space; new jobs are refused for now.',
      {
        retryAfter: 60,
      },
    );
  }
  const model = deps.models.get(body.model);
  if (!model) {
    throw new ApiError('invalid_request', `Unknown model '${body.model}'.`, {
      details: [{ path: 'model', message: 'unknown model; see GET /v1/models' }],
    });
  }
  if (!deps.pool.isModelReady(body.model)) {
    // This model only: the others serve. The `model` detail tells the edge the origin is
    // up (another origin may have the model loaded; this one is not skipped for the rest).
    const state = deps.pool.states().find((s) => s.id === body.model);
    throw new ApiError(
      'not_ready',
      `Model '${body.model}' is still loading on this server; try again shortly.`,
      {
        retryAfter: 5,
        details: [
          {
            path: 'model',
            message: `${state?.status ?? 'loading'} for ${Math.round((state?.loadMs ?? 0) / 1000)} s`,
          },
        ],
      },
    );
  }
  const checked = deps.models.check(body.model, body.input);
  if (!checked.ok) {
    throw new ApiError('invalid_request', 'The input does not match the model.', {
      details: checked.issues,
    });
  }
  await checkFileInputs(deps.store.files, model.fileFields, principal.userId, checked.input);
  const formats = formatsOf(model.manifest);
  if (body.format !== undefined && !formats.includes(body.format)) {
    throw new ApiError('invalid_request', `Model '${body.model}' does not make ${body.format}.`, {
      details: [
        {
          path: 'format',
          message:
            formats.length > 0
              ? `one of ${formats.join(', ')}`
              : 'this model offers no choice of format: leave it out',
        },
      ],
    });
  }
  const webhook = body.webhook && {
    url: checkedWebhookUrl(body.webhook.url, deps.env.WEBHOOK_ALLOW_INSECURE),
    events: [...new Set(body.webhook.events ?? defaultWebhookEvents)],
  };
  const at = Date.now();
  const deadlineAt = deadlineOf(body, cancelAfter, at);
  // A deadline is part of the request: the same key with another deadline is a conflict.
  // (A Cancel-After is relative to each request's time, so its text is what is compared.)
  const requestHash = createHash('sha256')
    .update(
      canonicalJson({
        model: body.model,
        input: body.input,
        webhook: body.webhook ?? null,
        ...(body.deadline === undefined ? {} : { deadline: deadlineAt }),
        ...(cancelAfter === undefined ? {} : { cancelAfter: cancelAfter.trim() }),
        // Named only when not the default (wav): a key used with and without `format: "wav"`
        // is one request, and keys of requests made before formats still match.
        ...(body.format === undefined || body.format === 'wav' ? {} : { format: body.format }),
      }),
    )
    .digest('hex');
  const result = await deps.store.jobs.create({
    id: newId('job', at),
    at,
    userId: principal.userId,
    model: model.manifest.id,
    modelVersion: model.manifest.version,
    input: checked.input,
    cost: model.manifest.cost,
    idempotencyKey,
    requestHash,
    queueLimit: deps.env.QUEUE_LIMIT,
    userJobLimit: deps.env.USER_JOB_LIMIT,
    deadlineAt,
    webhook,
    // A model that offers formats makes wav unless asked: the job says what it will get.
    format: body.format ?? (formats.length > 0 ? 'wav' : undefined),
  });
  switch (result.kind) {
    case 'created':
      // Every scheduler sharing the store hears the `queued` event and may take the job.
      deps.metrics.jobCreated(result.job.model);
      // The debit and the job are on disk before the client hears 202 (durableAnswers).
      return { job: await deps.estimates.withEta(result.job, result.queue), replayed: false };
    case 'replayed':
      return { job: await deps.estimates.withEta(result.job), replayed: true };
    case 'idempotency_conflict':
      throw new ApiError('conflict', 'This Idempotency-Key was used with a different request.', {
        details: { jobId: result.jobId },
      });
    case 'insufficient_credits':
      throw new ApiError('insufficient_credits', 'Not enough credits for this job.', {
        details: { balance: result.balance, cost: result.cost },
      });
    case 'invalid_deadline':
      throw new ApiError(
        'invalid_request',
        `The deadline must be in the next ${maxJobDeadlineMs / 86_400_000} days.`,
        { details: [{ path: 'deadline', message: 'in the future, at most 7 days away' }] },
      );
    case 'too_many_jobs':
      throw new ApiError(
        'too_many_jobs',
        `You have ${result.jobs} jobs queued or running, the most one account may have; submit more as they end.`,
        {
          retryAfter: deps.estimates.retryAfterSeconds(model.manifest.id),
          details: { jobs: result.jobs, limit: result.limit },
        },
      );
    case 'queue_full':
      throw new ApiError('overloaded', 'The queue is full; try again shortly.', {
        retryAfter: overloadedRetryAfter,
        details: { queued: result.queued },
      });
  }
}
