import { describe, expect, it } from 'vitest';
import { type Echoed, edgeFetch, expectError } from './support.ts';

// CORS_ORIGINS in vitest.config.ts.
const allowed = 'https://app.overture.test';
const alsoAllowed = 'https://admin.overture.test';
const refused = 'https://evil.example';

const preflight = (origin: string, path = '/v1/jobs') =>
  edgeFetch(path, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

const varies = (res: Response) =>
  (res.headers.get('vary') ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .includes('origin');

describe('preflight', () => {
  it.each([allowed, alsoAllowed])(
    'from the allowed %s is answered 204 at the edge',
    async (origin) => {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      const methods = res.headers.get('access-control-allow-methods')?.split(/,\s*/) ?? [];
      expect(methods).toEqual(expect.arrayContaining(['GET', 'POST', 'DELETE']));
      const headers = res.headers.get('access-control-allow-headers')?.split(/,\s*/) ?? [];
      expect(headers).toEqual(
        expect.arrayContaining([
          'authorization',
          'content-type',
          'idempotency-key',
          'cancel-after',
        ]),
      );
      expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      expect(varies(res)).toBe(true);
      expect(await res.text()).toBe('');
    },
  );

  it('from a refused origin is 403 forbidden, with no allow-origin', async () => {
    const res = await preflight(refused);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(varies(res)).toBe(true);
    await expectError(res, 403, 'forbidden');
  });

  it('from an origin that only resembles an allowed one is refused', async () => {
    for (const origin of [`${allowed}.evil.example`, 'http://app.overture.test', `${allowed}/`]) {
      const res = await preflight(origin);
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
      await expectError(res, 403, 'forbidden');
    }
  });

  it('with no Origin at all is refused', async () => {
    const res = await edgeFetch('/v1/jobs', {
      method: 'OPTIONS',
      headers: { 'access-control-request-method': 'POST' },
    });
    expect(varies(res)).toBe(true);
    await expectError(res, 403, 'forbidden');
  });
});

describe('a plain OPTIONS request', () => {
  it('(no Access-Control-Request-Method) is no preflight: it goes on to the origin', async () => {
    const res = await edgeFetch('/v1/jobs', { method: 'OPTIONS', headers: { origin: refused } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Echoed).method).toBe('OPTIONS');
    expect(varies(res)).toBe(true);
  });
});

describe('simple requests', () => {
  it('from an allowed origin carry that origin, credentials and the exposed headers', async () => {
    const res = await edgeFetch('/v1/models', { headers: { origin: allowed } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    const exposed = res.headers.get('access-control-expose-headers')?.split(/,\s*/) ?? [];
    expect(exposed).toEqual(expect.arrayContaining(['x-request-id', 'retry-after', 'ratelimit']));
    expect(varies(res)).toBe(true);
    // Forwarded as usual.
    expect(((await res.json()) as Echoed).path).toBe('/v1/models');
  });

  it('from a refused origin are answered (the browser withholds them) without any CORS grant', async () => {
    const res = await edgeFetch('/v1/models', { headers: { origin: refused } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('access-control-expose-headers')).toBeNull();
    expect(varies(res)).toBe(true);
  });

  it('never answer a wildcard, and always vary by Origin', async () => {
    const answers = await Promise.all([
      edgeFetch('/healthz', { headers: { origin: allowed } }),
      edgeFetch('/healthz'),
      edgeFetch('/v1/models'),
      edgeFetch('/v1/nowhere', { headers: { origin: allowed } }),
      edgeFetch('/metrics', { headers: { origin: refused } }),
      edgeFetch('/v1/webhooks/stripe', {
        method: 'POST',
        body: '{}',
        headers: { origin: allowed },
      }),
    ]);
    for (const res of answers) {
      expect(res.headers.get('access-control-allow-origin'), res.url).not.toBe('*');
      expect(varies(res), `${res.url} ${res.status}`).toBe(true);
      await res.body?.cancel();
    }
  });
});
