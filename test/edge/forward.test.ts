import { env } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import { edgeHeaders, signedHeaders } from '../../shared/edge-signature.ts';
import { respell } from '../helpers/edge-signing.ts';
import {
  type Echoed,
  echoedBody,
  edgeFetch,
  edgeWith,
  expectError,
  newClientIp,
  newTag,
  seenByOrigin,
  verifyEchoed,
} from './support.ts';

describe('forwarding', () => {
  it('signs every request so that the origin can verify it', async () => {
    const body = JSON.stringify({ model: 'steps', input: { steps: 3 } });
    const answers = await Promise.all([
      edgeFetch('/v1/jobs', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      }),
      edgeFetch('/v1/me'),
      edgeFetch('/v1/api-keys/key_1', { method: 'DELETE' }),
      edgeFetch('/v1/jobs/job_1/output', { headers: { range: 'bytes=0-9' } }),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(res.url.endsWith('/v1/jobs') ? 202 : 200);
      const echoed = (await res.json()) as Echoed;
      const check = await verifyEchoed(echoed);
      expect(check.ok, `${echoed.method} ${echoed.path} ${JSON.stringify(check)}`).toBe(true);
    }
    const posted = (await (await edgeFetch('/v1/jobs', { method: 'POST', body })).json()) as Echoed;
    expect(new TextDecoder().decode(echoedBody(posted))).toBe(body);
  });

  it('signs the Authorization, Idempotency-Key and Range it forwards: changing one breaks it', async () => {
    const sent = {
      authorization: 'Bearer ovt_forwarded',
      'idempotency-key': 'client-key-1',
      range: 'bytes=0-9',
    };
    const res = await edgeFetch('/v1/jobs/job_1/output', { headers: sent });
    expect(res.status).toBe(200);
    const echoed = (await res.json()) as Echoed;
    expect(echoed.edgeCheck).toBe('ok');
    for (const name of signedHeaders) {
      expect(echoed.headers[name]).toBe(sent[name]);
      for (const value of ['another value', undefined]) {
        const changed = {
          ...echoed,
          headers: { ...echoed.headers, [name]: value } as Echoed['headers'],
        };
        expect(await verifyEchoed(changed), `${name}: ${value}`).toEqual({
          ok: false,
          reason: 'mismatch',
        });
      }
    }
    // A request that carried none of them: adding one breaks it as well.
    const bare = (await (await edgeFetch('/v1/me')).json()) as Echoed;
    expect(bare.edgeCheck).toBe('ok');
    for (const name of signedHeaders) {
      const added = { ...bare, headers: { ...bare.headers, [name]: 'added' } };
      expect((await verifyEchoed(added)).ok, name).toBe(false);
    }
  });

  it('signs the Idempotency-Key it attaches to POST /v1/jobs, as it sends it', async () => {
    const res = await edgeFetch('/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ovt_jobs' },
      body: JSON.stringify({ model: 'steps', input: { steps: 1 } }),
    });
    expect(res.status).toBe(202);
    const echoed = (await res.json()) as Echoed;
    expect(echoed.headers['idempotency-key']).toBe(`edge-${res.headers.get('x-request-id')}`);
    expect(echoed.edgeCheck).toBe('ok');
    const { 'idempotency-key': _, ...withoutKey } = echoed.headers;
    expect(await verifyEchoed({ ...echoed, headers: withoutKey })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('sends what the origin refuses to take twice, however its signature is spelled', async () => {
    const res = await edgeFetch('/v1/me', { headers: { authorization: 'Bearer ovt_replayed' } });
    const echoed = (await res.json()) as Echoed;
    expect(echoed.edgeCheck).toBe('ok');
    // The request as captured on its way, sent again straight to the origin.
    const kept = ['authorization', ...Object.values(edgeHeaders)];
    const captured = Object.fromEntries(kept.map((name) => [name, echoed.headers[name] ?? '']));
    const again = (signature: string) =>
      fetch(`${inject('echoOrigin')}${echoed.path}`, {
        headers: { ...captured, [edgeHeaders.signature]: signature },
      });
    const signature = captured[edgeHeaders.signature] ?? '';
    const replay = await again(signature);
    expect(replay.status).toBe(401);
    expect(await replay.text()).toContain('replayed');
    for (const spelling of respell(signature)) {
      const respelled = await again(spelling);
      expect(respelled.status, spelling).toBe(401);
      expect(await respelled.text()).toContain('malformed');
    }
  });

  it('signs a WebSocket upgrade with its Authorization: the origin takes it', async () => {
    const res = await edgeFetch('/v1/ws?token=t', {
      headers: { upgrade: 'websocket', authorization: 'Bearer ovt_socket' },
    });
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    res.webSocket?.close(1000);
  });

  it('signs the client IP and request id: changing either breaks the signature', async () => {
    const ip = newClientIp();
    const res = await edgeFetch('/v1/me', { headers: { 'cf-connecting-ip': ip } });
    const echoed = (await res.json()) as Echoed;
    expect(echoed.headers['x-edge-client-ip']).toBe(ip);
    expect((await verifyEchoed(echoed)).ok).toBe(true);
    const withIp = {
      ...echoed,
      headers: { ...echoed.headers, 'x-edge-client-ip': '203.0.113.10' },
    };
    expect(await verifyEchoed(withIp)).toEqual({ ok: false, reason: 'mismatch' });
    const withPath = { ...echoed, path: '/v1/api-keys' };
    expect(await verifyEchoed(withPath)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a signed header that is not ASCII, without forwarding what could not verify', async () => {
    // Past ASCII, workerd and Node read a header's bytes as different text (UTF-8 and
    // latin-1): forwarded, such a request would be refused for its signature.
    const cases = [
      ['idempotency-key', 'cl\xe9', 400, 'invalid_request', 'POST'],
      ['range', 'bytes=0-\xe9', 400, 'invalid_request', 'GET'],
      ['authorization', 'Bearer \xff\xfe\xe9', 401, 'unauthorized', 'GET'],
    ] as const;
    for (const [name, value, status, code, method] of cases) {
      const tag = newTag();
      const res = await edgeFetch(method === 'POST' ? '/v1/jobs' : '/v1/jobs/job_1/output', {
        method,
        headers: { 'x-echo-tag': tag, [name]: value },
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      const body = await expectError(res, status, code);
      expect(body.error.message, name).toMatch(/must be ASCII/);
      expect(await seenByOrigin(tag), name).toEqual([]);
    }
    // The same headers in ASCII are forwarded and verify.
    const tag = newTag();
    const res = await edgeFetch('/v1/jobs', {
      method: 'POST',
      headers: { 'x-echo-tag': tag, 'idempotency-key': 'cle', range: 'bytes=0-9' },
      body: '{}',
    });
    expect(res.status).toBe(202);
    expect(await verifyEchoed((await res.json()) as Echoed)).toMatchObject({ ok: true });
  });

  it("drops the client's x-edge-*, cf-* and x-forwarded-* headers", async () => {
    const ip = newClientIp();
    const res = await edgeFetch('/v1/me', {
      headers: {
        'cf-connecting-ip': ip,
        'x-edge-signature': 'v1=forged',
        'x-edge-timestamp': '1',
        'x-edge-client-ip': '10.0.0.1',
        'x-edge-admin': 'yes',
        'cf-ray': 'forged-ray',
        'cf-ipcountry': 'XX',
        'x-forwarded-for': '10.0.0.2',
        'x-forwarded-host': 'origin.internal',
        'x-forwarded-proto': 'http',
        'x-real-ip': '10.0.0.3',
        authorization: 'Bearer ovt_kept',
      },
    });
    const { headers } = (await res.json()) as Echoed;
    const forged = [
      'v1=forged',
      '1',
      '10.0.0.1',
      'yes',
      'forged-ray',
      'XX',
      '10.0.0.2',
      'origin.internal',
    ];
    for (const [name, value] of Object.entries(headers)) {
      expect(forged, `${name}: ${value}`).not.toContain(value);
      expect(name).not.toMatch(/^x-forwarded-|^x-real-ip$|^cf-(ray|ipcountry|connecting-ip)$/);
    }
    expect(headers['x-edge-client-ip']).toBe(ip);
    expect(headers['x-edge-admin']).toBeUndefined();
    expect(headers.authorization).toBe('Bearer ovt_kept');
  });

  it("sends the edge's x-request-id to the origin and answers it, not the client's", async () => {
    const res = await edgeFetch('/v1/me', { headers: { 'x-request-id': 'client-chosen-id' } });
    const echoed = (await res.json()) as Echoed;
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(echoed.headers['x-request-id']).toBe(id);
  });

  it('keeps the path and query string exactly', async () => {
    const pathWithQuery = '/v1/jobs?status=queued&limit=5&cursor=a%2Fb%3D%3D&empty=&x=%C3%A9';
    const echoed = (await (await edgeFetch(pathWithQuery)).json()) as Echoed;
    expect(echoed.path).toBe(pathWithQuery);
    expect((await verifyEchoed(echoed)).ok).toBe(true);
  });

  it("passes the origin's JSON errors through as they are", async () => {
    const res = await edgeFetch('/v1/jobs', { headers: { 'x-echo-mode': 'json-503' } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('internal');
  });
});

describe('a failing origin', () => {
  it('answering a non-JSON 500 is a 502 bad_gateway in JSON, never its HTML', async () => {
    const res = await edgeFetch('/v1/me', { headers: { 'x-echo-mode': 'html-500' } });
    const error = await expectError(res, 502, 'bad_gateway');
    expect(JSON.stringify(error)).not.toContain('<html');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('that cannot be reached is a 502 bad_gateway', async () => {
    const edge = edgeWith({ ORIGIN_URL: inject('deadOrigin') });
    await expectError(await edge('/v1/me'), 502, 'bad_gateway');
  });

  it('slower than ORIGIN_TIMEOUT_MS is a 504 gateway_timeout', async () => {
    const edge = edgeWith({ ORIGIN_TIMEOUT_MS: '300' });
    const tag = newTag();
    const res = await edge('/v1/jobs', { headers: { 'x-echo-mode': 'hang', 'x-echo-tag': tag } });
    await expectError(res, 504, 'gateway_timeout');
    expect(await seenByOrigin(tag)).toHaveLength(1);
  });
});

/** A streamed body of `total` bytes (endless without one), and how much was pulled. */
function countedStream(total = Number.POSITIVE_INFINITY) {
  const chunk = new TextEncoder().encode('w'.repeat(4096));
  const seen = { pulled: 0, ended: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled >= total) {
        seen.ended = true;
        return controller.close();
      }
      seen.pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { body, seen };
}

describe('at the edge only', () => {
  it('refuses a body over BODY_LIMIT_BYTES with 413, without forwarding it', async () => {
    const limit = Number(env.BODY_LIMIT_BYTES);
    const tag = newTag();
    const res = await edgeFetch('/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-echo-tag': tag },
      body: JSON.stringify({ model: 'steps', input: { prompt: 'x'.repeat(limit) } }),
    });
    await expectError(res, 413, 'payload_too_large');
    expect(await seenByOrigin(tag)).toEqual([]);
  });

  it('refuses a streamed body (no Content-Length) that grows past the limit', async () => {
    const limit = Number(env.BODY_LIMIT_BYTES);
    const tag = newTag();
    const { body } = countedStream(limit * 2);
    const res = await edgeFetch('/v1/jobs', {
      method: 'POST',
      headers: { 'x-echo-tag': tag },
      body,
    });
    await expectError(res, 413, 'payload_too_large');
    expect(await seenByOrigin(tag)).toEqual([]);
  });

  it('reads a refused body to its end first, so a client that writes it all reads the 413', async () => {
    const limit = Number(env.BODY_LIMIT_BYTES);
    const { body, seen } = countedStream(limit * 20);
    const res = await edgeFetch('/v1/jobs', { method: 'POST', body });
    await expectError(res, 413, 'payload_too_large');
    expect(seen.ended).toBe(true);
  });

  it('stops reading a refused body past its drain budget (1 MiB)', async () => {
    const { body, seen } = countedStream();
    const res = await edgeFetch('/v1/jobs', { method: 'POST', body });
    await expectError(res, 413, 'payload_too_large');
    // The stream runs a few chunks ahead of the reader.
    expect(seen.pulled).toBeGreaterThanOrEqual(1024 * 1024);
    expect(seen.pulled).toBeLessThan(1024 * 1024 + 256 * 1024);
    expect(seen.ended).toBe(false);
    await body.cancel().catch(() => undefined);
  });

  it('lets a body of exactly the limit through', async () => {
    const limit = Number(env.BODY_LIMIT_BYTES);
    const res = await edgeFetch('/v1/jobs', { method: 'POST', body: 'z'.repeat(limit) });
    expect(res.status).toBe(202);
    expect(echoedBody((await res.json()) as Echoed)).toHaveLength(limit);
  });

  it('gives an upload (POST /v1/files) its own limit, UPLOAD_LIMIT_BYTES, and streams its bytes on, signed', async () => {
    const send = edgeWith({ BODY_LIMIT_BYTES: '1024', UPLOAD_LIMIT_BYTES: '4096' });
    const tag = newTag();
    const bytes = new Uint8Array(3000).map((_, i) => i % 251);
    const upload = await send('/v1/files?name=a.wav', {
      method: 'POST',
      headers: { 'content-type': 'audio/wav', 'content-length': '3000', 'x-echo-tag': tag },
      body: bytes,
    });
    expect(upload.status).toBe(200);
    const echoed = (await upload.json()) as Echoed;
    expect(echoed.path).toBe('/v1/files?name=a.wav');
    expect(echoed.headers['content-type']).toBe('audio/wav');
    expect([...echoedBody(echoed)]).toEqual([...bytes]);
    // Streamed, signed by its length: the echo origin's own check took it.
    expect(echoed.headers['x-edge-body']).toBe('stream');
    expect(echoed.headers['content-length']).toBe('3000');
    expect(echoed.edgeCheck).toBe('ok');
    expect((await verifyEchoed(echoed)).ok).toBe(true);
    // Past its own limit, refused at the edge; the same bytes elsewhere are past BODY_LIMIT_BYTES.
    const big = await send('/v1/files', {
      method: 'POST',
      headers: { 'x-echo-tag': tag },
      body: new Uint8Array(5000),
    });
    await expectError(big, 413, 'payload_too_large');
    const elsewhere = await send('/v1/jobs', {
      method: 'POST',
      headers: { 'x-echo-tag': tag },
      body: bytes,
    });
    await expectError(elsewhere, 413, 'payload_too_large');
    expect((await seenByOrigin(tag)).map((r) => r.path)).toEqual(['/v1/files?name=a.wav']);
  });

  it('does not forward /metrics (the origin keeps it to itself)', async () => {
    const tag = newTag();
    const res = await edgeFetch('/metrics', { headers: { 'x-echo-tag': tag } });
    await res.body?.cancel();
    // The static assets' 404 where there are assets (as here), the API's JSON 404 otherwise.
    expect(res.status).toBe(404);
    expect(await seenByOrigin(tag)).toEqual([]);
  });

  it('answers its own liveness at /healthz', async () => {
    const res = await edgeFetch('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', service: 'edge' });
  });
});

describe('security headers', () => {
  it.each([
    ['a forwarded answer', () => edgeFetch('/v1/me')],
    ['an edge error', () => edgeFetch('/metrics')],
    ['the liveness probe', () => edgeFetch('/healthz')],
    ['a gateway error', () => edgeFetch('/v1/me', { headers: { 'x-echo-mode': 'html-500' } })],
  ])('are on %s', async (_, send) => {
    const res = await send();
    await res.body?.cancel();
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'self'");
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});
