import { DurableObject } from 'cloudflare:workers';

export interface TakeResult {
  allowed: boolean;
  /**
   * Whole requests left now; undefined where the counter does not say (the rate-limiting
   * binding answers allowed or not, nothing more).
   */
  remaining: number | undefined;
  /** Seconds until the bucket is full again (the counting window ends, for the binding). */
  resetSeconds: number;
  /** Seconds until one more request is allowed (0 when allowed). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
  /** When the bucket is full again if nothing more is taken (ms since the epoch). */
  fullAt?: number;
}

/**
 * A token bucket per key (one Durable Object per budget and client). A Durable Object runs
 * one call at a time, so concurrent requests can never both take the last token; the
 * bucket is kept in the object's storage so an evicted object does not forget it. A full
 * bucket is the same as none, so an alarm deletes the object's storage once the bucket is
 * full again (idle for as long as it takes to refill): clients that come once, or keys that
 * are never seen again, leave nothing stored behind.
 */
export class RateLimiter extends DurableObject {
  async take(capacity: number, windowSeconds: number): Promise<TakeResult> {
    const now = Date.now();
    const perMs = capacity / (windowSeconds * 1000);
    const stored = this.ctx.storage.kv.get<Bucket>('bucket');
    let tokens = stored ? Math.min(capacity, stored.tokens + (now - stored.at) * perMs) : capacity;
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    const fullAt = now + Math.ceil((capacity - tokens) / perMs);
    this.ctx.storage.kv.put('bucket', { tokens, at: now, fullAt } satisfies Bucket);
    // One alarm is pending while anything is stored (`alarm` moves it on): a new bucket, or
    // one stored before buckets expired, sets it.
    if (stored?.fullAt === undefined) await this.ctx.storage.setAlarm(fullAt);
    return {
      allowed,
      remaining: Math.floor(tokens),
      resetSeconds: Math.ceil((capacity - tokens) / perMs / 1000),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)),
    };
  }

  /** Deletes the bucket once it is full again; until then, comes back when it will be. */
  override async alarm(): Promise<void> {
    const fullAt = this.ctx.storage.kv.get<Bucket>('bucket')?.fullAt;
    if (fullAt !== undefined && fullAt > Date.now()) {
      await this.ctx.storage.setAlarm(fullAt);
      return;
    }
    await this.ctx.storage.deleteAll();
  }
}
