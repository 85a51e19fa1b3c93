import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadEnv, loadStoreEnv } from '../../origin/env.ts';
import { edgeSecretCases } from '../fixtures/edge-secrets.ts';

const secret = 'a-secret-of-at-least-thirty-two-bytes!';
/** The one variable the origin cannot default: the secret shared with the edge. */
const base = { EDGE_SIGNING_SECRET: 'edge-secret-of-at-least-32-bytes!!' };

function errorOf(source: Record<string, string>): string {
  try {
    loadEnv({ ...base, ...source });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('loadEnv accepted the environment');
}

describe('loadEnv', () => {
  it('applies the documented defaults', () => {
    const env = loadEnv(base);
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: 8788,
      DATA_DIR: './data',
      MODEL_DIR: './models',
      POOL_THREADS: availableParallelism(),
      EXECUTION_PROVIDER: 'cpu',
      QUEUE_LIMIT: 100,
      JOB_TIMEOUT_MS: 120_000,
      ABORT_GRACE_MS: 2_000,
      MAX_ATTEMPTS: 3,
      PROGRESS_INTERVAL_MS: 100,
      BODY_LIMIT_BYTES: 64 * 1024,
      JWT_TTL_SECONDS: 7 * 24 * 3600,
      EDGE_SIGNATURE_CHECK: 'on',
      FREE_GRANT_CREDITS: 20,
      LOG_LEVEL: 'info',
    });
    expect(env.JWT_SECRET).toBeUndefined();
  });

  it('reads numbers from strings and treats blank variables as unset', () => {
    const env = loadEnv({ ...base, PORT: '0', QUEUE_LIMIT: '7', HOST: '', JWT_SECRET: '' });
    expect(env.PORT).toBe(0);
    expect(env.QUEUE_LIMIT).toBe(7);
    expect(env.HOST).toBe('127.0.0.1');
    expect(env.JWT_SECRET).toBeUndefined();
  });

  it('ignores variables it does not know', () => {
    expect(() => loadEnv({ ...base, PATH: '/usr/bin', HOME: '/root' })).not.toThrow();
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['QUEUE_LIMIT', '0'],
    ['QUEUE_LIMIT', '2.5'],
    ['EXECUTION_PROVIDER', 'tpu'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['MAX_ATTEMPTS', '0'],
    ['JOB_TIMEOUT_MS', '10'],
    ['USER_JOB_LIMIT', '0'],
    ['MAX_QUEUE_WAIT_MS', '-1'],
  ])('refuses %s=%s with an error naming the variable', (name, value) => {
    const message = errorOf({ [name]: value });
    expect(message).toMatch(/^invalid environment:/);
    expect(message).toContain(`${name}:`);
  });

  it('refuses an ABORT_GRACE_MS not shorter than LEASE_MS (a canceled job would leave the cap early)', () => {
    expect(errorOf({ ABORT_GRACE_MS: '10000', LEASE_MS: '10000' })).toContain('ABORT_GRACE_MS:');
    expect(loadEnv({ ...base, ABORT_GRACE_MS: '9999', LEASE_MS: '10000' }).ABORT_GRACE_MS).toBe(
      9999,
    );
  });

  it('names every bad variable at once', () => {
    const message = errorOf({ PORT: 'x', QUEUE_LIMIT: '-1', LOG_LEVEL: 'loud' });
    for (const name of ['PORT', 'QUEUE_LIMIT', 'LOG_LEVEL']) expect(message).toContain(`${name}:`);
  });

  it('refuses a JWT_SECRET shorter than 32 bytes without echoing it', () => {
    const short = 'short-secret-31-bytes-long-xxxxx'.slice(0, 31);
    const message = errorOf({ JWT_SECRET: short });
    expect(message).toContain('JWT_SECRET:');
    expect(message).toContain('32 bytes');
    expect(message).not.toContain(short);
    expect(loadEnv({ ...base, JWT_SECRET: secret }).JWT_SECRET).toBe(secret);
  });

  it('counts JWT_SECRET in bytes, not characters', () => {
    // 16 two-byte characters: 16 characters, 32 bytes.
    expect(loadEnv({ ...base, JWT_SECRET: 'é'.repeat(16) }).JWT_SECRET).toBe('é'.repeat(16));
    expect(errorOf({ JWT_SECRET: 'é'.repeat(15) })).toContain('JWT_SECRET:');
  });

  it('requires the edge signing secret unless the check is off, and never off in production', () => {
    expect(() => loadEnv({})).toThrow(/EDGE_SIGNING_SECRET: required/);
    expect(loadEnv({ EDGE_SIGNATURE_CHECK: 'off' }).EDGE_SIGNING_SECRET).toBeUndefined();
    const message = errorOf({ EDGE_SIGNATURE_CHECK: 'off', NODE_ENV: 'production' });
    expect(message).toContain('EDGE_SIGNATURE_CHECK:');
    const short = 'too-short-edge-secret';
    const tooShort = errorOf({ EDGE_SIGNING_SECRET: short });
    expect(tooShort).toContain('EDGE_SIGNING_SECRET:');
    expect(tooShort).not.toContain(short);
  });

  // The edge's config test runs the same cases: both ends count the secret in UTF-8 bytes.
  it.each(edgeSecretCases.accepted)(
    'accepts an EDGE_SIGNING_SECRET of %s, as the edge does',
    (_, secret) => {
      expect(loadEnv({ EDGE_SIGNING_SECRET: secret }).EDGE_SIGNING_SECRET).toBe(secret);
    },
  );

  it.each(edgeSecretCases.refused)(
    'refuses an EDGE_SIGNING_SECRET of %s, as the edge does',
    (_, secret) => {
      const message = errorOf({ EDGE_SIGNING_SECRET: secret });
      expect(message).toContain('EDGE_SIGNING_SECRET:');
      expect(message).not.toContain(secret);
    },
  );

  it('never lets webhooks reach http or private addresses in production', () => {
    expect(loadEnv({ ...base, WEBHOOK_ALLOW_INSECURE: 'true' }).WEBHOOK_ALLOW_INSECURE).toBe(true);
    const message = errorOf({ WEBHOOK_ALLOW_INSECURE: 'true', NODE_ENV: 'production' });
    expect(message).toContain('WEBHOOK_ALLOW_INSECURE: must be false in production');
    expect(errorOf({ WEBHOOK_ALLOW_INSECURE: '1', NODE_ENV: 'production' })).toContain(
      'WEBHOOK_ALLOW_INSECURE:',
    );
    const production = { ...base, NODE_ENV: 'production', WEBHOOK_ALLOW_INSECURE: 'false' };
    expect(loadEnv(production).WEBHOOK_ALLOW_INSECURE).toBe(false);
  });

  it('bounds webhook delivery: a deadline per attempt, in flight overall and per user, progress per job', () => {
    expect(loadEnv(base)).toMatchObject({
      WEBHOOK_TIMEOUT_MS: 10_000,
      WEBHOOK_CONCURRENCY: 16,
      WEBHOOK_MAX_IN_FLIGHT_PER_USER: 4,
      WEBHOOK_MAX_PROGRESS_PER_JOB: 10,
    });
    expect(
      loadEnv({ ...base, WEBHOOK_MAX_PROGRESS_PER_JOB: '0' }).WEBHOOK_MAX_PROGRESS_PER_JOB,
    ).toBe(0);
    expect(errorOf({ WEBHOOK_MAX_IN_FLIGHT_PER_USER: '0' })).toContain(
      'WEBHOOK_MAX_IN_FLIGHT_PER_USER:',
    );
    expect(errorOf({ WEBHOOK_MAX_PROGRESS_PER_JOB: '101' })).toContain(
      'WEBHOOK_MAX_PROGRESS_PER_JOB:',
    );
    expect(errorOf({ WEBHOOK_CONCURRENCY: '0' })).toContain('WEBHOOK_CONCURRENCY:');
  });

  it('no longer reads ADMIN_EMAILS: administrators are a flag an operator grants', () => {
    const env = loadEnv({ ...base, ADMIN_EMAILS: 'ops@example.test' });
    expect(env).not.toHaveProperty('ADMIN_EMAILS');
  });

  it('reads only the store variables for a store of its own (the admin command)', () => {
    const defaults = { DATA_DIR: './data', DB_POOL_SIZE: 10, WEBHOOK_MAX_PROGRESS_PER_JOB: 10 };
    expect(loadStoreEnv({})).toEqual(defaults);
    const url = 'postgres://overture@db.internal:5432/overture';
    expect(loadStoreEnv({ DATABASE_URL: url, DATA_DIR: '', PORT: 'x' })).toEqual({
      ...defaults,
      DATABASE_URL: url,
    });
    expect(() => loadStoreEnv({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL:/);
  });

  it('refuses POOL_THREADS above the cores, and zero', () => {
    const cores = availableParallelism();
    expect(loadEnv({ ...base, POOL_THREADS: String(cores) }).POOL_THREADS).toBe(cores);
    expect(errorOf({ POOL_THREADS: String(cores + 1) })).toContain('POOL_THREADS:');
    expect(errorOf({ POOL_THREADS: '0' })).toContain('POOL_THREADS:');
  });
});
