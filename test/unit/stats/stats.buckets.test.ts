import { describe, expect, it } from 'vitest';
import { bucketGrid, bucketStarts, inBuckets } from '../../../origin/stats/buckets.ts';
import { creditFlows } from '../../../origin/stats/credit-flows.ts';
import {
  bucketsAtMost,
  maxStatsBuckets,
  resolveBucket,
  statsQuerySchema,
} from '../../../shared/schemas/stats.ts';
import { usageQuerySchema } from '../../../shared/schemas/usage.ts';

const min = 60_000;
const hour = 60 * min;
const day = 24 * hour;

describe('the buckets of a window', () => {
  it('are aligned on multiples of their size, the first and last partial', () => {
    // [00:01:30, 00:03:20] in minutes: buckets 00:01, 00:02, 00:03.
    const grid = bucketGrid(90_000, 200_000, min);
    expect(grid).toEqual({ first: min, size: min, count: 3 });
    expect(bucketStarts(grid)).toEqual([min, 2 * min, 3 * min]);
    // A window that ends on a boundary has a last bucket holding that instant only.
    expect(bucketGrid(0, hour, 5 * min).count).toBe(13);
  });

  it("are a day long from the caller's midnight with an offset", () => {
    const noonUtc = Date.UTC(2025, 0, 1, 12);
    // UTC+1: the day began at 23:00 UTC; UTC−5: at 05:00 UTC.
    expect(bucketGrid(noonUtc, noonUtc, day, hour).first).toBe(Date.UTC(2024, 11, 31, 23));
    expect(bucketGrid(noonUtc, noonUtc, day, -5 * hour).first).toBe(Date.UTC(2025, 0, 1, 5));
  });

  it('hold each item in the bucket of its instant, an instant on a boundary in the later one', () => {
    const grid = bucketGrid(0, 3 * min - 1, min);
    const buckets = inBuckets(grid, [0, min - 1, min, 2 * min + 5, 3 * min, -1], (t) => t);
    expect(buckets).toEqual([[0, min - 1], [min], [2 * min + 5]]);
  });

  it('never number more than the worst case the query check uses', () => {
    for (const [span, size] of [
      [hour, min],
      [day, hour],
      [7 * day, 6 * hour],
      [hour + 1, 7 * min],
    ] as const) {
      for (const to of [0, 1, size - 1, size, 12_345_678]) {
        expect(bucketGrid(to - span, to, size).count).toBeLessThanOrEqual(
          bucketsAtMost(span, size),
        );
      }
    }
  });
});

describe('bucket=auto', () => {
  it.for([
    ['30m', '1m'],
    ['1h', '1m'],
    ['3h', '5m'],
    ['6h', '15m'],
    ['24h', '1h'],
    ['7d', '6h'],
    ['30d', '1d'],
    ['90d', '1d'],
  ])('picks %s → %s', ([window, bucket]) => {
    expect(resolveBucket(window ?? '', 'auto')).toBe(bucket);
  });

  it('leaves a named size as it is', () => {
    expect(resolveBucket('7d', '1h')).toBe('1h');
  });
});

describe('the query of GET /v1/stats', () => {
  const issues = (query: Record<string, string>) => {
    const parsed = statsQuerySchema.safeParse(query);
    return parsed.success
      ? []
      : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes no bucket (no series), auto, or a size the window holds at most 500 of', () => {
    expect(statsQuerySchema.parse({})).toEqual({ window: '24h', scope: 'own' });
    expect(issues({ window: '1h', bucket: 'auto' })).toEqual([]);
    expect(issues({ window: '7d', bucket: '1h' })).toEqual([]);
    // 90 days of hours: 2,161 buckets.
    expect(issues({ window: '90d', bucket: '1h' })).toEqual([
      `bucket: at most ${maxStatsBuckets} buckets: 2161 of 1h in 90d`,
    ]);
    // 499 minutes: 500 buckets at most; 500 minutes: 501.
    expect(issues({ window: '499m', bucket: '1m' })).toEqual([]);
    expect(issues({ window: '500m', bucket: '1m' })).toHaveLength(1);
  });

  it.for([
    [{ bucket: '2h', window: '1h' }, 'bucket: no longer than the window'],
    [{ bucket: '5s' }, 'bucket: `auto`, or a number and a unit: m, h or d (e.g. 1h)'],
    [{ bucket: '0m' }, 'bucket: `auto`, or a number and a unit: m, h or d (e.g. 1h)'],
    [{ bucket: '' }, 'bucket: `auto`, or a number and a unit: m, h or d (e.g. 1h)'],
    [{ bucket: 'hourly' }, 'bucket: `auto`, or a number and a unit: m, h or d (e.g. 1h)'],
  ] as const)('refuses %o', ([query, issue]) => {
    expect(issues(query)).toEqual([issue]);
  });
});

describe('the query of GET /v1/usage', () => {
  it('defaults to 30 days from UTC midnight, and takes 1..90 days and offsets within ±14 h', () => {
    expect(usageQuerySchema.parse({})).toEqual({ days: 30, utcOffset: 0 });
    expect(usageQuerySchema.parse({ days: '7', utcOffset: '-300' })).toEqual({
      days: 7,
      utcOffset: -300,
    });
    for (const bad of [
      { days: '0' },
      { days: '91' },
      { days: '1.5' },
      { days: 'a' },
      { utcOffset: '841' },
      { utcOffset: '-841' },
      { since: '1d' },
    ]) {
      expect(usageQuerySchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('credit flows', () => {
  it('name each reason as an amount, and net the deltas', () => {
    expect(
      creditFlows([
        { reason: 'grant', delta: 20, createdAt: 0 },
        { reason: 'purchase', delta: 50, createdAt: 0 },
        { reason: 'job', delta: -3, createdAt: 0 },
        { reason: 'refund', delta: 1, createdAt: 0 },
        { reason: 'chargeback', delta: -50, createdAt: 0 },
        { reason: 'adjustment', delta: -2, createdAt: 0 },
      ]),
    ).toEqual({
      purchased: 50,
      granted: 20,
      spent: 3,
      refunded: 1,
      takenBack: 50,
      adjusted: -2,
      net: 16,
    });
  });
});
