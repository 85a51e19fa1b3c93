import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type {
  AccountStore,
  AttemptOutcome,
  ClaimedDelivery,
  WebhookStore,
} from '../store/store.ts';
import { signWebhook } from './signature.ts';
import { guardedLookup, isBlockedAddress } from './url-guard.ts';

export interface DelivererOptions {
  webhooks: WebhookStore;
  accounts: Pick<AccountStore, 'findUserById'>;
  logger: Logger;
  timeoutMs: number;
  maxAttempts: number;
  /** First retry after this; each next one waits twice as long (capped at an hour). */
  retryBaseMs: number;
  /** Development only: allow http and private addresses. */
  allowInsecure: boolean;
  concurrency: number;
  /**
   * A claimed attempt is not due again before this (so no other process sends it meanwhile);
   * an attempt a dead process began is retried after it.
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

/** One POST: the status code, or the network error / timeout that ended it. No redirects. */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: Pick<DelivererOptions, 'timeoutMs' | 'allowInsecure'>,
): Promise<{ statusCode: number } | { error: string }> {
  return new Promise((resolve) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowInsecure && isIP(host) !== 0 && isBlockedAddress(host)) {
      resolve({ error: 'blocked address' });
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Overture-Webhooks/1',
        },
        lookup: guardedLookup(options.allowInsecure),
        timeout: options.timeoutMs,
      },
      (res) => {
        res.resume(); // the receiver's body is not read, only drained
        resolve({ statusCode: res.statusCode ?? 0 });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)));
    req.on('error', (error) => resolve({ error: error.message.slice(0, 200) }));
    req.end(body);
  });
}

/**
 * Sends pending webhook deliveries, off the job path: retries network errors, timeouts,
 * 429 and 5xx with exponential backoff up to `maxAttempts`; any other 4xx (and a 3xx,
 * since redirects are not followed) ends the delivery as failed.
 */
export class WebhookDeliverer {
  readonly #o: DelivererOptions;
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: DelivererOptions) {
    this.#o = options;
  }

  /** Looks for due deliveries now (call after an event that may have written one). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = this.#drain()
      .catch((error: unknown) => this.#o.logger.error({ err: error }, 'webhook delivery failed'))
      .finally(() => {
        this.#running = undefined;
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

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#poll);
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  async #drain(): Promise<void> {
    for (;;) {
      const due = await this.#o.webhooks.claimDue(Date.now(), this.#o.concurrency, this.#o.claimMs);
      if (due.length === 0 || this.#stopped) return;
      await Promise.all(due.map((d) => this.#attempt(d)));
    }
  }

  async #scheduleNext(): Promise<void> {
    const next = await this.#o.webhooks.nextDue();
    if (next === undefined || this.#stopped) return;
    const wait = Math.max(0, next - Date.now());
    this.#timer = setTimeout(() => this.wake(), wait);
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
    const answer = await post(new URL(d.url), headers, d.payload, this.#o);
    const outcome = this.#judge(d, answer);
    await this.#o.webhooks.recordAttempt(claim, outcome, Date.now());
    this.#o.onAttempt?.(outcome.result);
    this.#o.logger.info(
      { jobId: d.jobId, deliveryId: d.id, event: d.event, result: outcome.result },
      'webhook attempt',
    );
  }

  /** `d.attempts` counts this attempt: the claim counted it before anything was sent. */
  #judge(d: ClaimedDelivery, answer: { statusCode: number } | { error: string }): AttemptOutcome {
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
