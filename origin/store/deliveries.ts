import type { AttemptOutcome } from './store.ts';

/**
 * What a store writes to a webhook delivery when a claimed attempt ends, the same in every
 * dialect: a record's fields, and the claim's token cleared. Each store puts these in the
 * `SET` of its update.
 */

/** A recorded outcome: delivered and failed end the delivery; a retry is due again later. */
export function attemptRecorded(outcome: AttemptOutcome, at: number) {
  const changes =
    outcome.result === 'delivered'
      ? { status: 'delivered' as const, lastError: null, finishedAt: at }
      : outcome.result === 'retry'
        ? { lastError: outcome.error, nextAttemptAt: outcome.nextAttemptAt }
        : { status: 'failed' as const, lastError: outcome.error, finishedAt: at };
  return { ...changes, lastStatusCode: outcome.statusCode, claimToken: null };
}

/** A due delivery whose last allowed attempt recorded no outcome fails instead of being claimed. */
export function gaveUp(at: number) {
  return {
    status: 'failed' as const,
    lastError: 'gave up: the last attempt recorded no outcome',
    finishedAt: at,
    claimToken: null,
  };
}
