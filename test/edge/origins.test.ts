import { describe, expect, it } from 'vitest';
import { OriginPool } from '../../edge/origins/pool.ts';
import { retryRule } from '../../edge/origins/retry-rule.ts';
import { endpoints } from '../../shared/api/endpoints.ts';

describe('retryRule', () => {
  // The writes that may go on to another origin; every other write is sent once.
  const repeatable = new Set(['createJob', 'cancelJob', 'receiveStripeEvent']);

  it.each(Object.entries(endpoints))('decides %s', (id, { method, path }) => {
    const rule = retryRule(method, path.replaceAll('{id}', 'job_01HZX'));
    expect(rule.retried).toBe(method === 'get' || repeatable.has(id));
    expect(rule.attachesIdempotencyKey).toBe(id === 'createJob');
    expect(rule.why).toEqual(expect.any(String));
  });

  it.each([
    ['HEAD', '/v1/jobs/job_1/output', true],
    ['GET', '/v1/ws', true],
    ['POST', '/v1/files', false],
    ['POST', '/v1/jobs/', false],
    ['POST', '/v1/jobs/job_1/cancel/again', false],
    ['PUT', '/v1/jobs', false],
    ['DELETE', '/v1/jobs/job_1', false],
    ['OPTIONS', '/v1/jobs', false],
  ])('%s %s is retried: %s', (method, path, retried) => {
    expect(retryRule(method, path).retried).toBe(retried);
  });
});

describe('OriginPool', () => {
  const origins = ['https://o1.example', 'https://o2.example', 'https://o3.example'];

  it('gives each origin its turn', () => {
    const pool = new OriginPool();
    const firsts = Array.from({ length: 6 }, () => pool.order(origins)[0]);
    expect(firsts).toEqual([...origins, ...origins]);
    expect(pool.order(origins)).toEqual(origins);
  });

  it('leaves a skipped origin out of the turns, then takes it back', () => {
    const pool = new OriginPool();
    pool.skip('https://o2.example', 1_000, 10_000);
    const firsts = Array.from({ length: 4 }, () => pool.order(origins, 10_500)[0]);
    expect(firsts).toEqual([
      'https://o1.example',
      'https://o3.example',
      'https://o1.example',
      'https://o3.example',
    ]);
    // Still tried, last, as a last resort.
    expect(pool.order(origins, 10_500).at(-1)).toBe('https://o2.example');
    expect(pool.order(origins, 11_000)).toContain('https://o2.example');
    expect(pool.order(origins, 11_000).at(-1)).not.toBe('https://o2.example');
  });

  it('tries the skipped origins, the soonest due first, when every one is skipped', () => {
    const pool = new OriginPool();
    pool.skip('https://o1.example', 3_000, 0);
    pool.skip('https://o2.example', 1_000, 0);
    pool.skip('https://o3.example', 2_000, 0);
    expect(pool.order(origins, 500)).toEqual([
      'https://o2.example',
      'https://o3.example',
      'https://o1.example',
    ]);
  });

  it('takes an origin back at once when it answered', () => {
    const pool = new OriginPool();
    pool.skip('https://o1.example', 60_000);
    pool.restore('https://o1.example');
    const firsts = Array.from({ length: 3 }, () => pool.order(origins)[0]);
    expect(firsts).toEqual(origins);
  });
});
