import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type SignedParts,
  screenEdgeRequest,
  signEdgeRequest,
  verifyEdgeRequest,
} from '../../../shared/edge-signature.ts';
import { respell } from '../../helpers/edge-signing.ts';

const secret = 'edge-signature-unit-secret-0123456789abcdef';
const now = 1_800_000_000;
const body = new TextEncoder().encode('{"model":"steps","input":{}}');
const headers = {
  authorization: 'Bearer ovt_alice',
  'idempotency-key': 'key-1',
  range: 'bytes=0-9',
};
const parts = (more: Partial<SignedParts> = {}): SignedParts => ({
  method: 'POST',
  pathWithQuery: '/v1/jobs?x=1',
  body,
  clientIp: '203.0.113.9',
  requestId: 'req-1',
  headers,
  ...more,
});

/** The request the origin receives: the signature headers and the ones it travels with. */
const received = (
  signed: Record<string, string>,
  travelled: Record<string, string | undefined> = headers,
  more: { body?: Uint8Array } = {},
) => {
  const all: Record<string, string | undefined> = { ...travelled, ...signed };
  return {
    method: 'POST',
    pathWithQuery: '/v1/jobs?x=1',
    body: 'body' in more ? more.body : body,
    header: (name: string) => all[name],
  };
};

const verify = (request: ReturnType<typeof received>, at = now) =>
  verifyEdgeRequest(secret, request, { maxAgeSeconds: 30, now: at });

/**
 * The MAC of `parts()`'s canonical string as the scheme documents it, computed here on its
 * own: the ten lines from v2 to the three signed headers (Authorization, Idempotency-Key,
 * Range) given.
 */
const macOf = (signedHeaders: [string, string, string]) => {
  const canonical = [
    'v2',
    String(now),
    'POST',
    '/v1/jobs?x=1',
    createHash('sha256').update(body).digest('hex'),
    '203.0.113.9',
    'req-1',
    ...signedHeaders,
  ].join('\n');
  return createHmac('sha256', secret).update(canonical).digest('base64url');
};

describe('the edge signature (v2)', () => {
  it('is the HMAC of the documented canonical string, ten lines from v2 to Range', async () => {
    const signed = await signEdgeRequest(secret, parts(), now);
    expect(signed['x-edge-signature']).toBe(
      `v2=${macOf(['Bearer ovt_alice', 'key-1', 'bytes=0-9'])}`,
    );
    expect(await verify(received(signed))).toMatchObject({ ok: true, requestId: 'req-1' });
  });

  it('signs an absent header as an empty line', async () => {
    const signed = await signEdgeRequest(secret, parts({ headers: {} }), now);
    expect(signed['x-edge-signature']).toBe(`v2=${macOf(['', '', ''])}`);
  });

  it('reads the headers it signs whatever their case, from a record or Headers', async () => {
    const upper = {
      Authorization: 'Bearer ovt_alice',
      'Idempotency-Key': 'key-1',
      Range: 'bytes=0-9',
    };
    for (const given of [upper, new Headers(headers)]) {
      const signed = await signEdgeRequest(secret, parts({ headers: given }), now);
      expect((await verify(received(signed))).ok).toBe(true);
    }
  });

  it.each(['authorization', 'idempotency-key', 'range'])(
    'fails when %s is changed, added or taken away',
    async (name) => {
      const signed = await signEdgeRequest(secret, parts(), now);
      const mismatch = { ok: false, reason: 'mismatch' };
      expect(await verify(received(signed, { ...headers, [name]: 'other' }))).toEqual(mismatch);
      expect(await verify(received(signed, { ...headers, [name]: undefined }))).toEqual(mismatch);
      const without = await signEdgeRequest(
        secret,
        parts({ headers: { ...headers, [name]: '' } }),
        now,
      );
      const bare = { ...headers, [name]: undefined };
      expect((await verify(received(without, bare))).ok).toBe(true);
      expect(await verify(received(without, { ...headers, [name]: 'added' }))).toEqual(mismatch);
    },
  );

  it('still covers the body, path, client IP and request id', async () => {
    const signed = await signEdgeRequest(secret, parts(), now);
    const mismatch = { ok: false, reason: 'mismatch' };
    expect(await verify(received(signed, headers, { body: new Uint8Array(1) }))).toEqual(mismatch);
    expect(await verify({ ...received(signed), pathWithQuery: '/v1/jobs' })).toEqual(mismatch);
    for (const name of ['x-edge-client-ip', 'x-request-id']) {
      expect(await verify(received({ ...signed, [name]: 'other' }))).toEqual(mismatch);
    }
  });

  it('accepts its MAC in the one spelling it writes: the three others are malformed', async () => {
    const signed = await signEdgeRequest(secret, parts(), now);
    const spellings = respell(signed['x-edge-signature'] ?? '');
    expect(spellings).toHaveLength(3);
    for (const signature of spellings) {
      // The same bytes: a lenient decoder reads every one of them as the signature.
      const bytes = (s: string) => Buffer.from(s.slice(3), 'base64url').toString('hex');
      expect(bytes(signature)).toBe(bytes(signed['x-edge-signature'] ?? ''));
      const respelled = received({ ...signed, 'x-edge-signature': signature });
      expect(await verify(respelled)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('answers the MAC as its bytes in hex, the same for one signature however it came', async () => {
    const signed = await signEdgeRequest(secret, parts(), now);
    const check = await verify(received(signed));
    if (!check.ok) throw new Error(check.reason);
    const expected = Buffer.from((signed['x-edge-signature'] ?? '').slice(3), 'base64url');
    expect(check.mac).toBe(expected.toString('hex'));
  });

  it('refuses a v1 signature, which did not cover the headers', async () => {
    const signed = await signEdgeRequest(secret, parts(), now);
    const v1 = { ...signed, 'x-edge-signature': `v1=${signed['x-edge-signature']?.slice(3)}` };
    expect(await verify(received(v1))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a signed field holding a line break, which could shift the fields', async () => {
    const signed = await signEdgeRequest(secret, parts(), now);
    expect(await verify(received(signed, { ...headers, range: 'bytes=0-9\nx' }))).toEqual({
      ok: false,
      reason: 'malformed',
    });
    await expect(signEdgeRequest(secret, parts({ requestId: 'a\nb' }), now)).rejects.toThrow(
      /line break/,
    );
  });
});

describe('screenEdgeRequest', () => {
  it('tells missing, malformed and stale apart without the body', async () => {
    const signed = await signEdgeRequest(secret, parts(), now);
    const screen = (h: Record<string, string | undefined>, at = now) =>
      screenEdgeRequest((name) => h[name], { maxAgeSeconds: 30, now: at });
    expect(screen({})).toEqual({ ok: false, reason: 'missing' });
    expect(screen({ ...signed, 'x-edge-client-ip': undefined })).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(screen({ ...signed, 'x-edge-signature': 'v2=short' })).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(screen({ ...signed, 'x-edge-timestamp': 'soon' })).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(screen(signed, now + 31)).toEqual({ ok: false, reason: 'stale' });
    expect(screen(signed, now - 31)).toEqual({ ok: false, reason: 'stale' });
    // Well formed and fresh: only the MAC, over the body, can tell it is genuine.
    const forged = { ...signed, 'x-edge-signature': `v2=${'A'.repeat(43)}` };
    expect(screen(forged)).toMatchObject({ ok: true, timestamp: now });
    expect(await verify(received(forged))).toEqual({ ok: false, reason: 'mismatch' });
  });
});
