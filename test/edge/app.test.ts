import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createEdgeApp } from '../../edge/app.ts';
import type { Bindings } from '../../edge/config.ts';
import { bodyLimit } from '../../edge/middleware/body-limit/index.ts';
import { edgeBase, expectError, newClientIp } from './support.ts';

/** Bindings as two isolates of one deployment might hold them (the same Durable Objects). */
const bindings = (overrides: Partial<Record<keyof Bindings, string>>) =>
  ({ ...env, RATE_LIMIT_ENABLED: 'false', ...overrides }) as Bindings;

const request = (path: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  headers.set('cf-connecting-ip', newClientIp());
  return new Request(`${edgeBase}${path}`, { ...init, headers });
};

describe('the edge app', () => {
  it('is built once and follows the bindings of each request', async () => {
    const app = createEdgeApp();
    const first = bindings({ CORS_ORIGINS: 'https://one.example', BODY_LIMIT_BYTES: '300' });
    const second = bindings({ CORS_ORIGINS: 'https://two.example', BODY_LIMIT_BYTES: '600' });
    const preflight = (origin: string) =>
      request('/v1/jobs', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });

    expect((await app.fetch(preflight('https://one.example'), first)).status).toBe(204);
    await expectError(await app.fetch(preflight('https://two.example'), first), 403, 'forbidden');
    expect((await app.fetch(preflight('https://two.example'), second)).status).toBe(204);
    await expectError(await app.fetch(preflight('https://one.example'), second), 403, 'forbidden');

    const body = 'b'.repeat(400);
    const post = () => request('/v1/jobs', { method: 'POST', body });
    await expectError(await app.fetch(post(), first), 413, 'payload_too_large');
    const res = await app.fetch(post(), second);
    expect(res.status).toBe(202);
    await res.body?.cancel();
  });

  it("answers the UI's pages (/dashboard) with its index.html, and other paths as they are", async () => {
    const asked: string[] = [];
    const assets = {
      fetch: async (input: RequestInfo | URL) => {
        const path = new URL(input instanceof Request ? input.url : input).pathname;
        asked.push(path);
        return path === '/' || path === '/app.js'
          ? new Response(`asset ${path}`, { headers: { 'content-type': 'text/html' } })
          : new Response('not found', { status: 404 });
      },
    } as unknown as Fetcher;
    const app = createEdgeApp();
    const withAssets = { ...bindings({}), ASSETS: assets };
    const dashboard = await app.fetch(request(`/dashboard`), withAssets);
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toBe('asset /');
    // The Worker's own headers on the page as on every answer.
    expect(dashboard.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await (await app.fetch(request('/app.js'), withAssets)).text()).toBe('asset /app.js');
    expect((await app.fetch(request('/dashboard/x'), withAssets)).status).toBe(404);
    expect(asked).toEqual(['/', '/app.js', '/dashboard/x']);
  });
});

describe('bodyLimit', () => {
  it('checks its options when it is built, not per request', () => {
    for (const maxSize of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => bodyLimit({ maxSize }), String(maxSize)).toThrow(RangeError);
    }
    expect(() => bodyLimit({ maxSize: 10, drainBytes: -1 })).toThrow(/drainBytes/);
    expect(() => bodyLimit({ maxSize: () => 10 })).not.toThrow();
  });
});
