/**
 * Invariant 4 on real processes: the origin serves nothing but its own liveness probe to a
 * request without a valid, fresh, unreplayed edge signature, whatever the kind of request;
 * the same requests through the real edge work.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { signEdgeRequest } from '../../shared/edge-signature.ts';
import { uniqueEmail } from '../helpers/api.ts';
import type { EdgePair } from '../helpers/edge-pair.ts';
import { expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { openSocket, upgradeStatus, wsUrl } from '../helpers/ws-client.ts';

/** One kind of request: how to send it, and what a good answer is. */
interface Kind {
  name: string;
  method: string;
  path: () => string;
  body?: () => string;
  ok: number;
}

let token: string;
it.beforeAll(async ({ pair }) => {
  token = (await pair.api.signUp()).token;
});

const kinds: Kind[] = [
  { name: 'GET /v1/health', method: 'GET', path: () => '/v1/health', ok: 200 },
  {
    name: 'POST /v1/auth/register',
    method: 'POST',
    path: () => '/v1/auth/register',
    body: () => JSON.stringify({ email: uniqueEmail(), password: 'correct horse battery' }),
    ok: 201,
  },
  { name: 'GET /v1/jobs (valid token)', method: 'GET', path: () => '/v1/jobs?limit=5', ok: 200 },
];

type Signing = 'none' | 'forged' | 'stale';

/**
 * The edge's headers for a request, signed with `secret` at `timestamp`, with the headers it
 * travels with (by default the user's token, as `direct` sends it).
 */
function edgeHeaders(
  secret: string,
  method: string,
  pathWithQuery: string,
  body?: string,
  options: { timestamp?: number; headers?: Record<string, string> } = {},
) {
  return signEdgeRequest(
    secret,
    {
      method,
      pathWithQuery,
      body: body === undefined ? undefined : new TextEncoder().encode(body),
      clientIp: '203.0.113.7',
      requestId: randomUUID(),
      headers: options.headers ?? { authorization: `Bearer ${token}` },
    },
    options.timestamp,
  );
}

async function headersFor(
  pair: EdgePair,
  signing: Signing | 'valid',
  method: string,
  path: string,
  body?: string,
  headers?: Record<string, string>,
) {
  switch (signing) {
    case 'none':
      return {};
    case 'forged':
      return edgeHeaders(`forged-${randomUUID()}-${randomUUID()}`, method, path, body, {
        headers,
      });
    case 'stale':
      return edgeHeaders(pair.secret, method, path, body, {
        timestamp: Math.floor(Date.now() / 1000) - 600,
        headers,
      });
    case 'valid':
      return edgeHeaders(pair.secret, method, path, body, { headers });
  }
}

/** Sends one kind of request straight to the origin with the given edge headers. */
function direct(
  pair: EdgePair,
  kind: Kind,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
) {
  return pair.direct.call(kind.method, path, {
    token,
    ...(body === undefined ? {} : { body }),
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  });
}

describe('straight to the origin', () => {
  const signings: Signing[] = ['none', 'forged', 'stale'];
  for (const kind of kinds) {
    it.for(signings)(`${kind.name} with signature %s is 401`, async (signing, { pair }) => {
      const path = kind.path();
      const body = kind.body?.();
      const res = await direct(
        pair,
        kind,
        path,
        body,
        await headersFor(pair, signing, kind.method, path, body),
      );
      expectApiError(res, 401, 'unauthorized');
    });

    it(`${kind.name} signed validly works once, and its replay is 401`, async ({ pair }) => {
      const path = kind.path();
      const body = kind.body?.();
      const headers = await headersFor(pair, 'valid', kind.method, path, body);
      const first = await direct(pair, kind, path, body, headers);
      expect(first.status, JSON.stringify(first.body)).toBe(kind.ok);
      expectApiError(await direct(pair, kind, path, body, headers), 401, 'unauthorized');
    });
  }

  it.for(signings)(
    'the WebSocket upgrade with signature %s is refused (401)',
    async (signing, { pair }) => {
      const url = wsUrl(pair.origin.url, token);
      const headers = await headersFor(
        pair,
        signing,
        'GET',
        new URL(url).pathname + new URL(url).search,
        undefined,
        {},
      );
      expect(await upgradeStatus(url, headers)).toBe(401);
    },
  );

  it('the WebSocket upgrade signed validly opens once, and its replay is refused', async ({
    pair,
  }) => {
    const url = wsUrl(pair.origin.url, token);
    const headers = await headersFor(
      pair,
      'valid',
      'GET',
      new URL(url).pathname + new URL(url).search,
      undefined,
      {},
    );
    expect(await upgradeStatus(url, headers)).toBe(101);
    expect(await upgradeStatus(url, headers)).toBe(401);
  });

  it('a signature for another path or body does not carry over', async ({ pair }) => {
    const headers = await headersFor(pair, 'valid', 'GET', '/v1/health');
    expectApiError(
      await pair.direct.call('GET', '/v1/me', { token, headers }),
      401,
      'unauthorized',
    );
    const body = JSON.stringify({ email: uniqueEmail(), password: 'correct horse battery' });
    const signed = await headersFor(pair, 'valid', 'POST', '/v1/auth/register', body);
    const other = JSON.stringify({ email: uniqueEmail(), password: 'correct horse battery' });
    const res = await pair.direct.call('POST', '/v1/auth/register', {
      body: other,
      headers: signed,
    });
    expectApiError(res, 401, 'unauthorized');
  });

  it('/healthz, the liveness probe, answers without a signature', async ({ pair }) => {
    const res = await pair.direct.call('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});

describe('through the edge', () => {
  for (const kind of kinds) {
    it(`${kind.name} works`, async ({ pair }) => {
      const body = kind.body?.();
      const res = await pair.api.call(kind.method, kind.path(), {
        token,
        ...(body === undefined ? {} : { body: JSON.parse(body) }),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(kind.ok);
    });
  }

  it('the same request twice works twice (each is signed anew)', async ({ pair }) => {
    for (let i = 0; i < 2; i++) {
      expect((await pair.api.call('GET', '/v1/jobs', { token })).status).toBe(200);
    }
  });

  it('the WebSocket opens and authenticates', async ({ pair }) => {
    const socket = await openSocket(pair.edge.url, { token });
    expect(socket.messages[0]).toMatchObject({ type: 'ready' });
  });

  it("a client's own edge headers are replaced, so they cannot smuggle a signature", async ({
    pair,
  }) => {
    const forged = await headersFor(pair, 'forged', 'GET', '/v1/jobs');
    const res = await pair.api.call('GET', '/v1/jobs', { token, headers: forged });
    expect(res.status).toBe(200);
  });
});

it('never shows the signing secret in either process output', ({ pair }) => {
  expect(pair.origin.output()).not.toContain(pair.secret);
  expect(pair.edge.output()).not.toContain(pair.secret);
});
