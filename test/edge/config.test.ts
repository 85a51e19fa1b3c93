import { env } from 'cloudflare:test';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Bindings } from '../../edge/config.ts';
import { edgeSecretCases } from '../fixtures/edge-secrets.ts';
import { edgeWith, expectError, newTag, seenByOrigin, verifyEchoed } from './support.ts';

type Overrides = Partial<Record<keyof Bindings, string | undefined>>;

const cases: [string, Overrides, string][] = [
  ['ORIGIN_URL is missing', { ORIGIN_URL: undefined }, 'ORIGIN_URL'],
  ['ORIGIN_URL is empty', { ORIGIN_URL: '' }, 'ORIGIN_URL'],
  ['ORIGIN_URL has a path', { ORIGIN_URL: `${env.ORIGIN_URL}/api` }, 'ORIGIN_URL'],
  ['ORIGIN_URL is not a URL', { ORIGIN_URL: 'origin.internal:8788' }, 'ORIGIN_URL'],
  [
    'ORIGIN_URL and ORIGIN_URLS are both set',
    { ORIGIN_URLS: 'https://origin-1.example.com,https://origin-2.example.com' },
    'ORIGIN_URLS',
  ],
  [
    'ORIGIN_URLS holds an origin with a path',
    { ORIGIN_URL: undefined, ORIGIN_URLS: 'https://origin-1.example.com,https://o2.example/api' },
    'ORIGIN_URLS',
  ],
  [
    'ORIGIN_URLS holds a non-URL',
    { ORIGIN_URL: undefined, ORIGIN_URLS: 'https://origin-1.example.com, origin-2:8788' },
    'ORIGIN_URLS',
  ],
  [
    'ORIGIN_URLS lists an origin twice',
    { ORIGIN_URL: undefined, ORIGIN_URLS: 'https://o1.example,https://o1.example/' },
    'ORIGIN_URLS',
  ],
  ['ORIGIN_URLS lists nothing', { ORIGIN_URL: undefined, ORIGIN_URLS: ' , ' }, 'ORIGIN_URLS'],
  [
    'ORIGIN_RETRY_AFTER_MS is not a number',
    { ORIGIN_RETRY_AFTER_MS: '5s' },
    'ORIGIN_RETRY_AFTER_MS',
  ],
  [
    'ORIGIN_HEALTH_TIMEOUT_MS is too short',
    { ORIGIN_HEALTH_TIMEOUT_MS: '5' },
    'ORIGIN_HEALTH_TIMEOUT_MS',
  ],
  ['EDGE_SIGNING_SECRET is missing', { EDGE_SIGNING_SECRET: undefined }, 'EDGE_SIGNING_SECRET'],
  [
    'EDGE_SIGNING_SECRET is short',
    { EDGE_SIGNING_SECRET: 'short-secret-31-characters-long' },
    'EDGE_SIGNING_SECRET',
  ],
  ...edgeSecretCases.refused.map(([what, secret]): [string, Overrides, string] => [
    `EDGE_SIGNING_SECRET is ${what}`,
    { EDGE_SIGNING_SECRET: secret },
    'EDGE_SIGNING_SECRET',
  ]),
  [
    'RATE_LIMIT_JOBS is not <requests>/<seconds>',
    { RATE_LIMIT_JOBS: '10 per minute' },
    'RATE_LIMIT_JOBS',
  ],
  ['RATE_LIMIT_AUTH allows nothing', { RATE_LIMIT_AUTH: '0/60' }, 'RATE_LIMIT_AUTH'],
  [
    'RATE_LIMIT_UPGRADES is not <requests>/<seconds>',
    { RATE_LIMIT_UPGRADES: '30' },
    'RATE_LIMIT_UPGRADES',
  ],
  // The rate-limiting binding that counts it knows periods of 10 and 60 seconds only.
  [
    'RATE_LIMIT_DEFAULT counts over an hour',
    { RATE_LIMIT_DEFAULT: '300/3600' },
    'RATE_LIMIT_DEFAULT',
  ],
  [
    'the rate-limiting binding is missing',
    { RATE_LIMITER_DEFAULT: undefined },
    'RATE_LIMITER_DEFAULT',
  ],
  [
    'JWT_SECRET is shorter than 32 bytes',
    { JWT_SECRET: 'a-jwt-secret-of-31-bytes-length' },
    'JWT_SECRET',
  ],
  ['RATE_LIMIT_ENABLED is not true/false', { RATE_LIMIT_ENABLED: 'yes' }, 'RATE_LIMIT_ENABLED'],
  [
    'STRIPE_WEBHOOK_SECRET is not a whsec_',
    { STRIPE_WEBHOOK_SECRET: 'sk_live_oops' },
    'STRIPE_WEBHOOK_SECRET',
  ],
  ['BODY_LIMIT_BYTES is not a number', { BODY_LIMIT_BYTES: '64k' }, 'BODY_LIMIT_BYTES'],
  ['CORS_ORIGINS holds a non-URL', { CORS_ORIGINS: 'https://ok.example, *' }, 'CORS_ORIGINS'],
];

describe('a misconfigured edge', () => {
  let logged: string[];
  beforeEach(() => {
    logged = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
      logged.push(String(line));
    });
    return () => spy.mockRestore();
  });

  it.each(cases)(
    'answers 500 misconfigured naming the binding when %s',
    async (_, overrides, name) => {
      const edge = edgeWith(overrides);
      const tag = newTag();
      for (const path of ['/v1/me', '/healthz']) {
        const res = await edge(path, { headers: { 'x-echo-tag': tag } });
        const { error } = await expectError(res, 500, 'misconfigured');
        expect(error.message).toContain(name);
        // The problem is named, its value (perhaps a secret) never shown.
        for (const value of Object.values(overrides)) {
          if (value) expect(error.message).not.toContain(value);
        }
        expect(error.message).not.toContain(env.EDGE_SIGNING_SECRET);
      }
      // Logged as plainly: the name, never the value.
      expect(logged.join('\n')).toContain(name);
      for (const value of Object.values(overrides)) {
        if (value) expect(logged.join('\n')).not.toContain(value);
      }
      expect(await seenByOrigin(tag)).toEqual([]);
    },
  );

  it('names every bad binding at once', async () => {
    const res = await edgeWith({ ORIGIN_URL: undefined, RATE_LIMIT_JOBS: 'ten' })('/v1/me');
    const { error } = await expectError(res, 500, 'misconfigured');
    expect(error.message).toContain('ORIGIN_URL');
    expect(error.message).toContain('RATE_LIMIT_JOBS');
  });

  it('names ORIGIN_URL and ORIGIN_URLS when neither is set', async () => {
    const res = await edgeWith({ ORIGIN_URL: undefined, ORIGIN_URLS: '' })('/healthz');
    const { error } = await expectError(res, 500, 'misconfigured');
    expect(error.message).toMatch(/ORIGIN_URL: .*ORIGIN_URLS/);
  });

  it('is not a misconfiguration when the optional bindings are left out', async () => {
    const res = await edgeWith({
      STRIPE_WEBHOOK_SECRET: undefined,
      CORS_ORIGINS: undefined,
      RATE_LIMIT_JOBS: undefined,
      RATE_LIMIT_UPGRADES: undefined,
      JWT_SECRET: undefined,
      BODY_LIMIT_BYTES: '',
    })('/healthz');
    expect(res.status).toBe(200);
  });
});

// The origin's env test runs the same cases: both ends count the secret in UTF-8 bytes.
describe('EDGE_SIGNING_SECRET', () => {
  it.each(edgeSecretCases.accepted)('of %s is accepted, as at the origin', async (_, secret) => {
    const tag = newTag();
    const res = await edgeWith({ EDGE_SIGNING_SECRET: secret })('/v1/me', {
      headers: { 'x-echo-tag': tag },
    });
    // The echo origin holds the Worker's own secret, so it refuses this one's signature
    // (401, not the edge's 500 `misconfigured`); the signature verifies with its secret.
    expect(res.status).toBe(401);
    await res.body?.cancel();
    const seen = await seenByOrigin(tag);
    expect(seen.map((s) => s.edgeCheck)).toEqual(['mismatch']);
    const [forwarded] = seen;
    if (!forwarded) throw new Error('not forwarded');
    expect((await verifyEchoed(forwarded, secret)).ok).toBe(true);
  });
});

describe('ORIGIN_URLS', () => {
  it('in place of ORIGIN_URL (left out or empty) is a working edge', async () => {
    for (const ORIGIN_URL of [undefined, '']) {
      const tag = newTag();
      const res = await edgeWith({ ORIGIN_URL, ORIGIN_URLS: ` ${env.ORIGIN_URL} , ` })('/v1/me', {
        headers: { 'x-echo-tag': tag },
      });
      expect(res.status).toBe(200);
      await res.body?.cancel();
      expect(await seenByOrigin(tag)).toHaveLength(1);
    }
  });
});
