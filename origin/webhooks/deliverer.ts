import type { Logger } from 'pino';
import type {
  AccountStore,
  AttemptOutcome,
  ClaimedDelivery,
  WebhookStore,
} from '../store/store.ts';
import { type PostAnswer, postWebhook } from './post.ts';
import { signWebhook } from './signature.ts';

export interface DelivererOptions {
  webhooks: WebhookStore;
  accounts: Pick<AccountStore, 'findUserById'>;
  logger: Logger;
  /** One attempt's whole deadline: DNS, connect, TLS, headers and the answer's body. */
  deadlineMs: number;
  maxAttempts: number;
  /** First retry after this; each next one waits twice as long (capped at an hour). */
  retryBaseMs: number;
  /** Development only: allow http and private addresses. */
  allowInsecure: boolean;
  /** Attempts this process has under way at once, each on its own. */
  concurrency: number;
  /** Attempts one user may have under way at once, on every process together. */
  maxInFlightPerUser: number;
  /**
   * A claimed attempt is not due again before this (so no other process sends it meanwhile);
   * an attempt a dead process began is retried after it. Longer than `deadlineMs`.
   */
  claimMs: number;
  /**
   * Due deliveries are looked for at least this often: another origin's (one that died
   * mid-attempt, say) are not announced to this one.
   */
  pollMs: number;
  /** Hears the result of each attempt (a metric). */
  onAttempt?: (result: AttemptOutcome['result']) => void;
}

const maxBackoffMs = 3_600_000;

/**
 * Sends pending webhook deliveries, off the job path: retries network errors, timeouts,
 * 429 and 5xx with exponential backoff up to `maxAttempts`; any other 4xx (and a 3xx,
 * since redirects are not followed) ends the delivery as failed.
 *
 * Each attempt runs on its own, in one of `concurrency` slots, within its deadline: a
 * receiver that stalls holds one slot for one deadline, and delays no other delivery; a
 * user's stalling receivers hold at most `maxInFlightPerUser` slots, and a freed slot goes
 * first to the users with the fewest attempts under way.
 */
export class WebhookDeliverer {
  readonly #o: DelivererOptions;
  /** The attempts under way, each its own promise. */
  readonly #inFlight = new Set<Promise<void>>();
  /** Ends the attempts still under way when a stop's grace is over. */
  readonly #abandon = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #claiming: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: DelivererOptions) {
    this.#o = options;
  }

  /** Claims what is due into the free slots now (call after an event that may have written one). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#claiming = this.#claim()
      .catch((error: unknown) => this.#o.logger.error({ err: error }, 'webhook claim failed'))
      .finally(() => {
        this.#claiming = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        } else {
          this.#scheduleNext().catch((error: unknown) =>
            this.#o.logger.warn({ err: error }, 'next webhook delivery not scheduled'),
          );
        }
      });
  }

  /** Sends what is due now, then looks again every `pollMs` until stopped. */
  start(): void {
    this.#poll ??= setInterval(() => this.wake(), this.#o.pollMs);
    this.#poll.unref();
    this.wake();
  }

  /**
   * Claims nothing more, and waits at most `graceMs` for the attempts under way. Those still
   * under way then are abandoned: they record nothing, so each one's claim stands and it is
   * retried when the claim ends, as the attempt of a process that died would be.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#poll);
    if (this.#timer) clearTimeout(this.#timer);
    await this.#claiming;
    const settled = Promise.allSettled([...this.#inFlight]);
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'over'>((resolve) => {
      graceTimer = setTimeout(() => resolve('over'), graceMs);
    });
    const first = await Promise.race([settled, graceOver]);
    clearTimeout(graceTimer);
    if (first !== 'over') return;
    const abandoned = this.#inFlight.size;
    this.#abandon.abort();
    await settled;
    this.#o.logger.warn({ abandoned }, 'grace period over: webhook attempts left to their claims');
  }

  /** Claims due deliveries into the free slots, and starts each on its own. */
  async #claim(): Promise<void> {
    for (;;) {
      const free = this.#o.concurrency - this.#inFlight.size;
      if (free <= 0 || this.#stopped) return;
      const due = await this.#o.webhooks.claimDue({
        now: Date.now(),
        limit: free,
        claimMs: this.#o.claimMs,
        maxInFlightPerUser: this.#o.maxInFlightPerUser,
        maxAttempts: this.#o.maxAttempts,
      });
      for (const delivery of due) this.#launch(delivery);
      if (due.length < free) return;
    }
  }

  #launch(d: ClaimedDelivery): void {
    const attempt: Promise<void> = this.#attempt(d)
      .catch((error: unknown) =>
        this.#o.logger.error({ err: error, deliveryId: d.id }, 'webhook attempt failed'),
      )
      .finally(() => {
        this.#inFlight.delete(attempt);
        // A slot is free, and the user has one attempt fewer under way.
        this.wake();
      });
    this.#inFlight.add(attempt);
  }

  /**
   * Sleeps until the next delivery comes due. One due already but not claimed waits for a
   * free slot, or for its user's attempts under way: the end of each attempt wakes this,
   * and the poll covers another origin's.
   */
  async #scheduleNext(): Promise<void> {
    const now = Date.now();
    const next = await this.#o.webhooks.nextDue(now);
    if (next === undefined || this.#stopped) return;
    this.#timer = setTimeout(() => this.wake(), Math.max(0, next - Date.now()));
    this.#timer.unref();
  }

  async #attempt(d: ClaimedDelivery): Promise<void> {
    const user = await this.#o.accounts.findUserById(d.userId);
    const now = Date.now();
    const claim = { id: d.id, token: d.token };
    if (!user) {
      const gone = { result: 'failed', statusCode: null, error: 'account gone' } as const;
      await this.#o.webhooks.recordAttempt(claim, gone, now);
      return;
    }
    const headers = signWebhook(user.webhookSecret, d.id, Math.floor(now / 1000), d.payload);
    const answer = await postWebhook(new URL(d.url), headers, d.payload, {
      deadlineMs: this.#o.deadlineMs,
      allowInsecure: this.#o.allowInsecure,
      signal: this.#abandon.signal,
    });
    if (this.#abandon.signal.aborted) return;
    const outcome = this.#judge(d, answer);
    await this.#o.webhooks.recordAttempt(claim, outcome, Date.now());
    this.#o.onAttempt?.(outcome.result);
    this.#o.logger.info(
      { jobId: d.jobId, deliveryId: d.id, event: d.event, result: outcome.result },
      'webhook attempt',
    );
  }

  /** `d.attempts` counts this attempt: the claim counted it before anything was sent. */
  #judge(d: ClaimedDelivery, answer: PostAnswer): AttemptOutcome {
    const statusCode = 'statusCode' in answer ? answer.statusCode : null;
    if (statusCode !== null && statusCode >= 200 && statusCode < 300) {
      return { result: 'delivered', statusCode };
    }
    const error = 'error' in answer ? answer.error : `answered ${statusCode}`;
    const retryable = statusCode === null || statusCode === 429 || statusCode >= 500;
    if (!retryable || d.attempts >= this.#o.maxAttempts) {
      return { result: 'failed', statusCode, error };
    }
    const backoff = Math.min(maxBackoffMs, this.#o.retryBaseMs * 2 ** (d.attempts - 1));
    return { result: 'retry', statusCode, error, nextAttemptAt: Date.now() + backoff };
  }
}
