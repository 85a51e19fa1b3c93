import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../origin/lib/token-bucket.ts';

describe('TokenBucket', () => {
  it('starts full, takes while it can, and refills at its rate up to its capacity', () => {
    let now = 0;
    const bucket = new TokenBucket(3, 2, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    now = 500; // half a second at 2 per second: one token
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    now = 60_000;
    expect(bucket.available()).toBe(3);
    expect(bucket.take(4)).toBe(false);
    expect(bucket.available()).toBe(3);
    expect(bucket.take(3)).toBe(true);
  });

  it('refuses a capacity or rate that is not positive', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0)).toThrow(RangeError);
  });
});
