import type { Budget } from '../../config.ts';
import type { TakeResult } from './limiter.ts';

/**
 * Seconds left in the current counting window of `seconds` (at least 1), the windows taken as
 * the wall clock's (`now` a multiple of the period starts one), which is how Miniflare counts.
 * Cloudflare does not document its windows: in production this is an estimate, at most the
 * period.
 *
 * @example
 * windowLeftSeconds(60, Date.parse('2026-12-01T12:00:45Z')); // 15
 */
export function windowLeftSeconds(seconds: number, nowMs: number): number {
  const periodMs = seconds * 1000;
  return Math.max(1, Math.ceil((periodMs - (nowMs % periodMs)) / 1000));
}

/**
 * Spends one request of `budget` for `key` in the Workers Rate Limiting binding: counters
 * cached on the machine the Worker runs on, updated in the background within its Cloudflare
 * location, so the call waits on no network. The price: each location counts by itself, and
 * approximately (a burst can pass the limit by a little before the count catches up). The
 * binding's own `simple` setting is the limit counted; `budget` (RATE_LIMIT_DEFAULT, the same
 * numbers) only says when to come back. It answers allowed or not, never how much is left.
 *
 * @example
 * const result = await takeAtLocation(config.RATE_LIMITER_DEFAULT, 'user:usr_…', budget);
 * if (!result.allowed) retryAfter(result.retryAfterSeconds);
 */
export async function takeAtLocation(
  binding: RateLimit,
  key: string,
  budget: Budget,
  nowMs = Date.now(),
): Promise<TakeResult> {
  const { success } = await binding.limit({ key });
  const left = windowLeftSeconds(budget.seconds, nowMs);
  return success
    ? { allowed: true, remaining: undefined, resetSeconds: left, retryAfterSeconds: 0 }
    : { allowed: false, remaining: 0, resetSeconds: left, retryAfterSeconds: left };
}
