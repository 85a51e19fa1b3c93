import { describe, expect, it } from 'vitest';
import { inverseNormal, sigmaLevel } from '../../../origin/stats/sigma.ts';
import { percentiles, summarize } from '../../../origin/stats/summarize.ts';
import type { JobSample } from '../../../origin/store/store.ts';

describe('inverseNormal (Acklam)', () => {
  it.each([
    // Standard normal quantiles from tables, to 6 decimals.
    [0.5, 0],
    [0.975, 1.959964],
    [0.025, -1.959964],
    [0.841345, 1.0],
    [0.001, -3.090232],
    [0.999, 3.090232],
    [1e-9, -5.997807],
  ])('NORMSINV(%s) ≈ %s', (p, x) => {
    expect(inverseNormal(p)).toBeCloseTo(x, 5);
  });

  it('is infinite at 0 and 1, and NaN outside [0, 1]', () => {
    expect(inverseNormal(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(inverseNormal(1)).toBe(Number.POSITIVE_INFINITY);
    expect(inverseNormal(-0.1)).toBeNaN();
    expect(inverseNormal(1.1)).toBeNaN();
  });

  it('is continuous where its three regions meet (p = 0.02425 and 1 − 0.02425)', () => {
    for (const p of [0.02425, 1 - 0.02425]) {
      expect(inverseNormal(p - 1e-12)).toBeCloseTo(inverseNormal(p + 1e-12), 8);
    }
  });
});

describe('sigmaLevel: NORMSINV(1 − dpmo/1e6) + 1.5, within 0..6', () => {
  it.each([
    // The classic table: Φ(−1.5) = 0.066807, Φ(−2.5) = 0.006210, Φ(−3.5) = 0.000233,
    // Φ(−4.5) = 0.0000034; so these rates sit at 3, 4, 5 and 6 sigma (z + 1.5).
    [66_807, 3.0],
    [6_210, 4.0],
    [233, 5.0],
    [3.4, 6.0],
    // Half the opportunities failed: z = 0, level 1.5.
    [500_000, 1.5],
    // Φ(−0.5) = 0.308538: 2 sigma; Φ(0.5) = 0.691462: 1 sigma.
    [308_538, 2.0],
    [691_462, 1.0],
  ])('dpmo %s → %s sigma', (dpmo, sigma) => {
    expect(sigmaLevel(dpmo)).toBeCloseTo(sigma, 3);
  });

  it('caps a perfect record at 6 and floors a hopeless one at 0', () => {
    expect(sigmaLevel(0)).toBe(6);
    // 1 dpmo would be 6.25 uncapped: the cap keeps the level from rising as failures grow.
    expect(sigmaLevel(1)).toBe(6);
    expect(sigmaLevel(1_000_000)).toBe(0);
    // Φ(1.5) = 0.933193: past this rate the level would go below 0.
    expect(sigmaLevel(933_193)).toBeCloseTo(0, 3);
    expect(sigmaLevel(990_000)).toBe(0);
  });

  it('never rises as the defect rate grows', () => {
    let previous = Number.POSITIVE_INFINITY;
    for (let dpmo = 0; dpmo <= 1_000_000; dpmo += 997) {
      const level = sigmaLevel(dpmo);
      expect(level).toBeLessThanOrEqual(previous);
      previous = level;
    }
  });
});

describe('percentiles (nearest rank)', () => {
  it('is null on an empty sample', () => {
    expect(percentiles([])).toEqual({ samples: 0, p50: null, p95: null, p99: null });
  });

  it('takes the value at rank ceil(p·n/100), never interpolating', () => {
    // n = 4: p50 rank 2 → 20; p95 rank ceil(3.8) = 4 → 40; p99 rank 4 → 40.
    expect(percentiles([40, 10, 30, 20])).toEqual({ samples: 4, p50: 20, p95: 40, p99: 40 });
    // n = 1: every percentile is the one value.
    expect(percentiles([7])).toEqual({ samples: 1, p50: 7, p95: 7, p99: 7 });
    // n = 100 (1..100): p50 rank 50 → 50, p95 rank 95 → 95, p99 rank 99 → 99.
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(hundred)).toEqual({ samples: 100, p50: 50, p95: 95, p99: 99 });
    // n = 20: 95·20/100 is exactly 19 (no float drift to rank 20).
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentiles(twenty).p95).toBe(19);
  });
});

describe('summarize', () => {
  it('turns 621 failures in 100,000 opportunities into 6,210 dpmo and 4 sigma', () => {
    const at = 1_000_000;
    const job = (status: 'succeeded' | 'failed', n: number): JobSample => ({
      model: 'm',
      status,
      errorCode: status === 'failed' ? 'model_error' : null,
      createdAt: at,
      startedAt: at + (n % 10),
      finishedAt: at + 100,
    });
    const samples = Array.from({ length: 100_000 }, (_, n) =>
      job(n < 621 ? 'failed' : 'succeeded', n),
    );
    const stats = summarize('m', samples);
    // 621 / 100,000 · 1e6 = 6,210; success rate 99,379 / 100,000 = 0.99379.
    expect(stats).toMatchObject({
      jobs: 100_000,
      succeeded: 99_379,
      failed: 621,
      canceled: 0,
      open: 0,
    });
    expect(stats.dpmo).toBeCloseTo(6_210, 6);
    expect(stats.successRate).toBeCloseTo(0.99379, 10);
    expect(stats.sigma).toBe(4);
    expect(stats.failedByCode).toEqual({ model_error: 621 });
  });
});
