import { describe, expect, it } from 'vitest';
import {
  takeAtLocation,
  windowLeftSeconds,
} from '../../edge/middleware/rate-limit/location-limiter.ts';

/** A stand-in for the binding that answers `success` and records the keys it was asked. */
function binding(success: boolean) {
  const keys: string[] = [];
  const limiter: RateLimit = {
    limit: async ({ key }) => {
      keys.push(key);
      return { success };
    },
  };
  return { limiter, keys };
}

const at = (iso: string) => Date.parse(iso);

describe('windowLeftSeconds', () => {
  it.each([
    [60, '2026-12-01T12:00:45.000Z', 15],
    [60, '2026-12-01T12:00:00.000Z', 60],
    [60, '2026-12-01T12:00:59.900Z', 1],
    [10, '2026-12-01T12:00:07.200Z', 3],
    [10, '2026-12-01T12:00:09.999Z', 1],
  ])('of %i s windows at %s is %i', (seconds, now, left) => {
    expect(windowLeftSeconds(seconds, at(now))).toBe(left);
  });
});

describe('takeAtLocation', () => {
  const budget = { requests: 300, seconds: 60 };

  it('asks the binding for the key, and says nothing of what is left when allowed', async () => {
    const { limiter, keys } = binding(true);
    const result = await takeAtLocation(limiter, 'user:usr_1', budget, at('2026-12-01T12:00:45Z'));
    expect(keys).toEqual(['user:usr_1']);
    expect(result).toEqual({
      allowed: true,
      remaining: undefined,
      resetSeconds: 15,
      retryAfterSeconds: 0,
    });
  });

  it('refuses until the window ends', async () => {
    const { limiter } = binding(false);
    const result = await takeAtLocation(
      limiter,
      'ip:192.0.2.7',
      budget,
      at('2026-12-01T12:00:45Z'),
    );
    expect(result).toEqual({
      allowed: false,
      remaining: 0,
      resetSeconds: 15,
      retryAfterSeconds: 15,
    });
  });
});
