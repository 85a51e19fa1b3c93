import { DurableObject } from 'cloudflare:workers';

export interface TakeResult {
  allowed: boolean;
  /** Whole requests left now. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until one more request is allowed (0 when allowed). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key (one Durable Object per budget and client). A Durable Object runs
 * one call at a time, so concurrent requests can never both take the last token; the
 * bucket is kept in the object's storage so an evicted object does not forget it.
 */
export class RateLimiter extends DurableObject {
  take(capacity: number, windowSeconds: number): TakeResult {
    const now = Date.now();
    const perMs = capacity / (windowSeconds * 1000);
    const stored = this.ctx.storage.kv.get<Bucket>('bucket');
    let tokens = stored ? Math.min(capacity, stored.tokens + (now - stored.at) * perMs) : capacity;
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    this.ctx.storage.kv.put('bucket', { tokens, at: now } satisfies Bucket);
    return {
      allowed,
      remaining: Math.floor(tokens),
      resetSeconds: Math.ceil((capacity - tokens) / perMs / 1000),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)),
    };
  }
}
