import { maxJobDeadlineMs } from '../../shared/duration.ts';
import { terminalStatuses } from '../../shared/job-states.ts';
import type { JobEventKind } from '../../shared/schemas/jobs.ts';
import { inlineOutputKey } from '../outputs/inline-outputs.ts';
import type { JobRecord, LedgerEntryInput } from '../store/records.ts';
import type { JobEnding, NewJob } from '../store/store.ts';

/**
 * The rules of a job's life, as pure functions over what the store read. A store reads the
 * facts in a transaction, asks a rule what changes, and writes the answer (the job's new
 * columns, its event, its ledger row) in the same transaction; no store decides anything.
 */

/** What a rule decided for one job: the columns that change, the event and any ledger row. */
export interface JobChange {
  kind: JobEventKind;
  set: Partial<JobRecord>;
  /** The debit of a new job, or the refund of one that ended without succeeding. */
  ledger?: LedgerEntryInput;
}

/** The job after `change`, its `seq` moved to the event's: what the event shows. */
export function applyChange(job: JobRecord, change: JobChange): JobRecord {
  return { ...job, ...change.set, seq: job.seq + 1 };
}

const released = { claimedBy: null, claimToken: null, leaseUntil: null } as const;

const isTerminal = (job: Pick<JobRecord, 'status'>): boolean =>
  terminalStatuses.includes(job.status);

/** True while `token` is the running attempt's: every write of an attempt checks it. */
const holdsClaim = (job: JobRecord, token: string): boolean =>
  job.status === 'running' && job.claimToken === token;

export interface CreateFacts {
  /** The job an earlier request of this user made with the same Idempotency-Key. */
  prior: JobRecord | undefined;
  /** Queued jobs of every user. */
  queued: number;
  /** The user's jobs queued or holding a thread (their claim not yet released). */
  userJobs: number;
  balance: number;
}

export type CreateDecision =
  | { kind: 'replayed'; job: JobRecord }
  | { kind: 'idempotency_conflict'; jobId: string }
  | { kind: 'insufficient_credits'; balance: number; cost: number }
  | { kind: 'invalid_deadline' }
  | { kind: 'too_many_jobs'; jobs: number; limit: number }
  | { kind: 'queue_full'; queued: number }
  | { kind: 'create'; job: JobRecord; debit: LedgerEntryInput | undefined };

/**
 * Whether a job is accepted: a replay answers the first job (whatever its deadline is now);
 * a deadline not in the future or more than `maxJobDeadlineMs` away, the user's cap (jobs
 * queued or holding a thread), the queue bound and the balance refuse, in that order (the
 * user's own cap first: a user past it hears so, never the box's backstop); else the job is
 * created and debited `job:<id>`. A balance taken below zero by a chargeback refuses every job until a
 * purchase makes it positive again.
 */
export function decideCreate(input: NewJob, facts: CreateFacts): CreateDecision {
  if (facts.prior) {
    return facts.prior.requestHash === input.requestHash
      ? { kind: 'replayed', job: facts.prior }
      : { kind: 'idempotency_conflict', jobId: facts.prior.id };
  }
  const deadline = input.deadlineAt;
  if (deadline !== undefined && (deadline <= input.at || deadline > input.at + maxJobDeadlineMs)) {
    return { kind: 'invalid_deadline' };
  }
  if (facts.userJobs >= input.userJobLimit) {
    return { kind: 'too_many_jobs', jobs: facts.userJobs, limit: input.userJobLimit };
  }
  if (facts.queued >= input.queueLimit) return { kind: 'queue_full', queued: facts.queued };
  if (facts.balance < input.cost || facts.balance < 0) {
    return { kind: 'insufficient_credits', balance: facts.balance, cost: input.cost };
  }
  const job: JobRecord = {
    id: input.id,
    userId: input.userId,
    model: input.model,
    modelVersion: input.modelVersion,
    status: 'queued',
    progress: 0,
    input: input.input,
    cost: input.cost,
    idempotencyKey: input.idempotencyKey ?? null,
    requestHash: input.requestHash,
    attempts: 0,
    errorCode: null,
    errorMessage: null,
    outputFile: null,
    outputContentType: null,
    outputBytes: null,
    outputEtag: null,
    outputExpiredAt: null,
    runMs: null,
    webhookUrl: input.webhook?.url ?? null,
    webhookEvents: input.webhook?.events ?? null,
    seq: 1,
    createdAt: input.at,
    startedAt: null,
    finishedAt: null,
    deadlineAt: input.deadlineAt ?? null,
    outputFormat: input.format ?? null,
    ...released,
  };
  const debit: LedgerEntryInput | undefined =
    input.cost > 0
      ? {
          userId: input.userId,
          delta: -input.cost,
          reason: 'job',
          reference: input.id,
          at: input.at,
        }
      : undefined;
  return { kind: 'create', job, debit };
}

/** A queued job starts an attempt owned by `owner`, fenced by `token`, leased until `leaseUntil`. */
export function startAttempt(
  job: JobRecord,
  claim: { owner: string; token: string; at: number; leaseUntil: number },
): JobChange | undefined {
  if (job.status !== 'queued') return undefined;
  return {
    kind: 'started',
    set: {
      status: 'running',
      startedAt: claim.at,
      progress: 0,
      attempts: job.attempts + 1,
      claimedBy: claim.owner,
      claimToken: claim.token,
      leaseUntil: claim.leaseUntil,
    },
  };
}

/** Progress (0..1) of the attempt holding `token`; nothing once it no longer runs. */
export function recordProgress(
  job: JobRecord,
  token: string,
  progress: number,
): JobChange | undefined {
  if (!holdsClaim(job, token)) return undefined;
  return { kind: 'progress', set: { progress: Math.min(1, Math.max(0, progress)) } };
}

/**
 * Ends a job that is not terminal yet. With a `token`, only the attempt holding it may end
 * the job (a stale attempt changes nothing); without one (a user's cancel) any open job
 * ends. Every ending but `succeeded` refunds the job's cost, once, as `refund:<job id>`.
 * The claim is released, but by a cancel of a running job without its token (the user's):
 * its task holds the thread until it stops (see `cancelJob`).
 */
export function endJob(
  job: JobRecord,
  ending: JobEnding,
  at: number,
  token?: string,
): JobChange | undefined {
  if (isTerminal(job)) return undefined;
  if (token !== undefined && !holdsClaim(job, token)) return undefined;
  const keepsThread =
    token === undefined && ending.status === 'canceled' && job.status === 'running';
  const set: Partial<JobRecord> = {
    status: ending.status,
    finishedAt: at,
    ...(keepsThread ? {} : released),
  };
  if (ending.status === 'succeeded') {
    const { file, contentType, bytes, etag, runMs, inline } = ending.output;
    Object.assign(set, {
      progress: 1,
      // Bytes kept with the job are found by its own key, whatever the caller named.
      outputFile: inline ? inlineOutputKey(job.id) : file,
      outputContentType: contentType,
      outputBytes: bytes,
      outputEtag: etag,
      runMs,
    });
  } else if (ending.error) {
    Object.assign(set, { errorCode: ending.error.code, errorMessage: ending.error.message });
  }
  const refund: LedgerEntryInput | undefined =
    ending.status !== 'succeeded' && job.cost > 0
      ? { userId: job.userId, delta: job.cost, reason: 'refund', reference: job.id, at }
      : undefined;
  return refund ? { kind: ending.status, set, ledger: refund } : { kind: ending.status, set };
}

/**
 * The user's cancel: the job ends `canceled`, refunded. A running job keeps its claim, since
 * its task holds the thread until it stops: the store's `leaveThread` releases it then (or
 * the lease sweep, if its process died), and until then the job counts against its user's
 * cap and share, so canceling and resubmitting cannot hold more threads than the cap.
 */
export function cancelJob(job: JobRecord, at: number): JobChange | undefined {
  return endJob(job, { status: 'canceled' }, at);
}

/**
 * A graceful stop puts the attempt holding `token` back in the queue and gives the attempt
 * back: the stop was the origin's doing, not the job's.
 */
export function giveBack(job: JobRecord, token: string): JobChange | undefined {
  if (!holdsClaim(job, token)) return undefined;
  return {
    kind: 'queued',
    set: {
      status: 'queued',
      startedAt: null,
      progress: 0,
      attempts: Math.max(job.attempts - 1, 0),
      ...released,
    },
  };
}

/**
 * A running job whose lease ran out (its origin died, froze or lost the database) goes back
 * to the queue, keeping the attempt it used, since the crash may have been the job's own
 * doing; once it has used `maxAttempts` it fails `interrupted` instead, refunded.
 */
export function abandon(job: JobRecord, maxAttempts: number, at: number): JobChange | undefined {
  if (job.status !== 'running') return undefined;
  if (job.attempts >= maxAttempts) {
    const message = `The job was interrupted ${job.attempts} times (its origin stopped or lost its lease).`;
    return endJob(job, { status: 'failed', error: { code: 'interrupted', message } }, at);
  }
  return { kind: 'queued', set: { status: 'queued', startedAt: null, progress: 0, ...released } };
}

/**
 * Past its deadline, or `maxQueueWaitMs` (0: no such bound) after its creation: a queued job
 * that is overdue is never started (claims pass it over) and the sweep ends it.
 */
export function isOverdue(
  job: Pick<JobRecord, 'deadlineAt' | 'createdAt'>,
  maxQueueWaitMs: number,
  at: number,
): boolean {
  return pastDeadline(job, at) || (maxQueueWaitMs > 0 && job.createdAt + maxQueueWaitMs <= at);
}

const pastDeadline = (job: Pick<JobRecord, 'deadlineAt'>, at: number): boolean =>
  job.deadlineAt !== null && job.deadlineAt <= at;

/**
 * A job still queued past its deadline, or past `maxQueueWaitMs` since its creation (0: no
 * such bound), ends `canceled` with the code `deadline_exceeded`, refunded. A running job is
 * never ended by its deadline (`JOB_TIMEOUT_MS` bounds running).
 */
export function expireQueued(
  job: JobRecord,
  maxQueueWaitMs: number,
  at: number,
): JobChange | undefined {
  if (job.status !== 'queued' || !isOverdue(job, maxQueueWaitMs, at)) return undefined;
  const message = pastDeadline(job, at)
    ? 'The job was still queued at its deadline.'
    : `The job waited in the queue longer than ${maxQueueWaitMs} ms.`;
  return endJob(job, { status: 'canceled', error: { code: 'deadline_exceeded', message } }, at);
}
