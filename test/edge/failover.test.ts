import { env } from 'cloudflare:test';
import { describe, expect, inject, it, vi } from 'vitest';
import { verifyEdgeRequest } from '../../shared/edge-signature.ts';
import {
  clusterEdge,
  type Echoed,
  echoedBody,
  expectError,
  misbehave,
  newTag,
  seenAt,
  signStripe,
} from './support.ts';

// Three echo origins of one cluster (they share their accepted Idempotency-Keys, as origins
// share their database), switched by this file alone.
const [a = '', b = '', c = ''] = inject('echoClusters').failover;
const retryAfterMs = 600;
const edge = (origins: string[], more: Parameters<typeof clusterEdge>[1] = {}) =>
  clusterEdge(origins, { ORIGIN_RETRY_AFTER_MS: String(retryAfterMs), ...more });
/** Switched for this test; serves again, and is no longer skipped, when it ends. */
const misbehaving = (origin: string, behaviour: Parameters<typeof misbehave>[1]) =>
  misbehave(origin, behaviour, retryAfterMs + 50);

/** The edge's log lines saying it skipped an origin, for this test. */
function skips() {
  const lines: { requestId: string; origin: string; failure: string }[] = [];
  const spy = vi.spyOn(console, 'warn').mockImplementation((line: unknown) => {
    const entry = JSON.parse(String(line));
    if (entry.msg === 'origin skipped') lines.push(entry);
  });
  return { lines, restore: () => spy.mockRestore() };
}

const verified = async (echoed: Echoed) =>
  (
    await verifyEdgeRequest(
      env.EDGE_SIGNING_SECRET as string,
      {
        method: echoed.method,
        pathWithQuery: echoed.path,
        body: echoed.method === 'GET' ? undefined : echoedBody(echoed),
        header: (name) => echoed.headers[name],
      },
      { maxAgeSeconds: 30 },
    )
  ).ok;

const createJob = (send: ReturnType<typeof edge>, tag: string, headers = {}) =>
  send('/v1/jobs', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-echo-tag': tag, ...headers },
    body: JSON.stringify({ model: 'steps', input: { steps: 1 } }),
  });

describe('several origins (ORIGIN_URLS)', () => {
  it('take turns: requests are spread over them', async () => {
    const send = edge([a, b]);
    const tag = newTag();
    for (let i = 0; i < 4; i++) {
      const res = await send('/v1/me', { headers: { 'x-echo-tag': tag } });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    expect((await seenAt(a, tag)).length).toBe(2);
    expect((await seenAt(b, tag)).length).toBe(2);
  });

  it('skip one that refuses connections: every GET is answered 200, and it is tried once', async () => {
    await misbehaving(a, 'down');
    const log = skips();
    const send = edge([a, b, c]);
    const tag = newTag();
    try {
      for (let i = 0; i < 6; i++) {
        const res = await send('/v1/jobs?limit=5', { headers: { 'x-echo-tag': tag } });
        expect(res.status).toBe(200);
        await res.body?.cancel();
      }
    } finally {
      log.restore();
    }
    // Skipped after its first refusal (for ORIGIN_RETRY_AFTER_MS): the others take the turns.
    expect(log.lines.filter((l) => l.origin === a)).toHaveLength(1);
    expect((await seenAt(b, tag)).length + (await seenAt(c, tag)).length).toBe(6);
  });

  it('take a skipped origin back after ORIGIN_RETRY_AFTER_MS', async () => {
    const send = edge([a, b]);
    await misbehaving(a, 'down');
    for (let i = 0; i < 2; i++) await (await send('/v1/me')).body?.cancel();
    await misbehaving(a, 'serve');
    const tag = newTag();
    const read = async () => (await send('/v1/me', { headers: { 'x-echo-tag': tag } })).text();
    await Promise.all([read(), read()]);
    expect(await seenAt(a, tag)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs + 50));
    await read();
    await read();
    expect(await seenAt(a, tag)).toHaveLength(1);
  });

  it('answer a GET that timed out on one origin from the next, with the same request id', async () => {
    await misbehaving(a, 'hang');
    // Over a second: the retry is signed when it is sent, not when the first attempt was.
    const send = edge([a, b], { ORIGIN_TIMEOUT_MS: '1100' });
    const tag = newTag();
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await send('/v1/jobs/job_1', { headers: { 'x-echo-tag': tag } });
      expect(res.status).toBe(200);
      ids.push(res.headers.get('x-request-id') ?? '');
      await res.body?.cancel();
    }
    // One of the two went to `a` first (the turns alternate) and was answered by `b`.
    const [atA] = await seenAt(a, tag);
    const atB = await seenAt(b, tag);
    expect(atB).toHaveLength(2);
    expect(ids).toContain(atA?.headers['x-request-id']);
    const retried = atB.find((r) => r.headers['x-request-id'] === atA?.headers['x-request-id']);
    if (!atA || !retried) throw new Error(`not retried: ${JSON.stringify({ atA, atB })}`);
    expect(await verified(retried)).toBe(true);
    expect(Number(retried.headers['x-edge-timestamp'])).toBeGreaterThan(
      Number(atA.headers['x-edge-timestamp']),
    );
  });

  it('never send a request again once an origin answered, even a GET', async () => {
    const send = edge([a, b]);
    const tag = newTag();
    for (let i = 0; i < 2; i++) {
      const res = await send('/v1/me', {
        headers: { 'x-echo-tag': tag, 'x-echo-mode': 'html-500' },
      });
      await expectError(res, 502, 'bad_gateway');
    }
    expect((await seenAt(a, tag)).length + (await seenAt(b, tag)).length).toBe(2);
  });
});

describe('POST /v1/jobs', () => {
  it('after a refused connection reaches the next origin, with the edge Idempotency-Key, and is 202', async () => {
    await misbehaving(a, 'down');
    const log = skips();
    const send = edge([a, b]);
    const tag = newTag();
    const answers: Response[] = [];
    try {
      for (let i = 0; i < 2; i++) answers.push(await createJob(send, tag));
    } finally {
      log.restore();
    }
    const [skipped] = log.lines;
    expect(skipped?.origin).toBe(a);
    const atB = await seenAt(b, tag);
    expect(atB).toHaveLength(2);
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(202);
      const id = res.headers.get('x-request-id');
      expect(atB[i]?.headers['x-request-id']).toBe(id);
      expect(atB[i]?.headers['idempotency-key']).toBe(`edge-${id}`);
      await res.body?.cancel();
    }
    expect(answers.map((r) => r.headers.get('x-request-id'))).toContain(skipped?.requestId);
  });

  it('answered 503 not_ready goes to the next origin with the same key, request id and body', async () => {
    await misbehaving(a, 'not_ready');
    const send = edge([a, b]);
    const tag = newTag();
    for (let i = 0; i < 2; i++) {
      const res = await createJob(send, tag);
      expect(res.status).toBe(202);
      await res.body?.cancel();
    }
    const [first] = await seenAt(a, tag);
    const atB = await seenAt(b, tag);
    const retried = atB.find((r) => r.headers['x-request-id'] === first?.headers['x-request-id']);
    if (!first || !retried) throw new Error(`not retried: ${JSON.stringify({ first, atB })}`);
    expect(retried.headers['idempotency-key']).toBe(first.headers['idempotency-key']);
    expect(retried.headers['idempotency-key']).toBe(`edge-${first.headers['x-request-id']}`);
    expect(retried.body).toBe(first.body);
    // Signed for each origin it was sent to.
    expect(await verified(first)).toBe(true);
    expect(await verified(retried)).toBe(true);
  });

  it('whose model is still loading on one origin goes to the next, which stays in the turns', async () => {
    await misbehaving(a, 'model_loading');
    const log = skips();
    const send = edge([a, b]);
    const tag = newTag();
    try {
      const res = await createJob(send, tag);
      expect(res.status).toBe(202);
      await res.body?.cancel();
      // `a` serves everything else: it takes its turns at once, not after ORIGIN_RETRY_AFTER_MS.
      for (let i = 0; i < 4; i++) {
        const read = await send('/v1/me', { headers: { 'x-echo-tag': tag } });
        expect(read.status).toBe(200);
        await read.body?.cancel();
      }
    } finally {
      log.restore();
    }
    const atA = await seenAt(a, tag);
    expect(atA.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(atA.filter((r) => r.method === 'GET')).toHaveLength(2);
    expect((await seenAt(b, tag)).filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(log.lines).toEqual([]);
  });

  it('that timed out on an origin which took it is replayed by the next: one job, and 202', async () => {
    await misbehaving(a, 'hang');
    const send = edge([a, b], { ORIGIN_TIMEOUT_MS: '300' });
    const tag = newTag();
    const answers = [await createJob(send, tag), await createJob(send, tag)];
    const [atA] = await seenAt(a, tag);
    const replayed = answers.find((r) => r.headers.get('x-echo-replayed') === 'true');
    // `b` answered 200 (the job `a` accepted); the client, who sent one request, hears 202.
    expect(replayed?.headers.get('x-request-id')).toBe(atA?.headers['x-request-id']);
    for (const res of answers) {
      expect(res.status).toBe(202);
      await res.body?.cancel();
    }
  });

  it("with the client's own key, timed out on an origin which took it, is 202 from the next", async () => {
    await misbehaving(a, 'hang');
    const send = edge([a, b], { ORIGIN_TIMEOUT_MS: '300' });
    const tag = newTag();
    const key = `client-${crypto.randomUUID()}`;
    const answers = [
      await createJob(send, tag, { 'idempotency-key': key }),
      await createJob(send, tag, { 'idempotency-key': `${key}-2` }),
    ];
    // One of the two went to `a` first, which took it and hung; `b` replayed it (200).
    const replayed = answers.find((r) => r.headers.get('x-echo-replayed') === 'true');
    expect(replayed).toBeDefined();
    for (const res of answers) {
      expect(res.status).toBe(202);
      await res.body?.cancel();
    }
  });

  it("keeps the client's own Idempotency-Key, and its replay stays a 200", async () => {
    const send = edge([a, b]);
    const tag = newTag();
    const key = `client-${crypto.randomUUID()}`;
    const first = await createJob(send, tag, { 'idempotency-key': key });
    const again = await createJob(send, tag, { 'idempotency-key': key });
    expect([first.status, again.status]).toEqual([202, 200]);
    await Promise.all([first.body?.cancel(), again.body?.cancel()]);
    const seen = [...(await seenAt(a, tag)), ...(await seenAt(b, tag))];
    expect(seen.map((r) => r.headers['idempotency-key'])).toEqual([key, key]);
  });
});

describe('other writes are sent once', () => {
  const register = (send: ReturnType<typeof edge>, tag: string) =>
    send('/v1/auth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-echo-tag': tag },
      body: JSON.stringify({ email: 'once@example.com', password: 'correct horse' }),
    });

  it('POST /v1/auth/register to an origin that refuses the connection is a 502', async () => {
    await misbehaving(a, 'down');
    const send = edge([a, b]);
    const tags = [newTag(), newTag()];
    const answers = [await register(send, tags[0] ?? ''), await register(send, tags[1] ?? '')];
    const refused = answers.findIndex((r) => r.status === 502);
    expect(refused).toBeGreaterThanOrEqual(0);
    await expectError(answers[refused] as Response, 502, 'bad_gateway');
    expect(await seenAt(b, tags[refused] ?? '')).toEqual([]);
    expect(answers[1 - refused]?.status).toBe(200);
  });

  it("POST /v1/auth/register answered 503 not_ready passes the origin's 503 on", async () => {
    await misbehaving(a, 'not_ready');
    const send = edge([a, b]);
    const tags = [newTag(), newTag()];
    const answers = [await register(send, tags[0] ?? ''), await register(send, tags[1] ?? '')];
    const refused = answers.findIndex((r) => r.status === 503);
    expect(refused).toBeGreaterThanOrEqual(0);
    const { error } = (await (answers[refused] as Response).json()) as { error: { code: string } };
    expect(error.code).toBe('not_ready');
    expect(await seenAt(a, tags[refused] ?? '')).toHaveLength(1);
    expect(await seenAt(b, tags[refused] ?? '')).toEqual([]);
  });
});

describe('writes that may be repeated', () => {
  it('POST /v1/jobs/:id/cancel goes on to the next origin (cancel is idempotent)', async () => {
    await misbehaving(a, 'not_ready');
    const send = edge([a, b]);
    const tag = newTag();
    for (let i = 0; i < 2; i++) {
      const res = await send('/v1/jobs/job_1/cancel', {
        method: 'POST',
        headers: { 'x-echo-tag': tag },
      });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    expect(await seenAt(a, tag)).toHaveLength(1);
    expect(await seenAt(b, tag)).toHaveLength(2);
  });

  const stripeEvent = async (send: ReturnType<typeof edge>, tag: string) => {
    const body = JSON.stringify({ id: `evt_${crypto.randomUUID()}`, type: 'ping' });
    return send('/v1/webhooks/stripe', {
      method: 'POST',
      headers: { 'stripe-signature': await signStripe(body), 'x-echo-tag': tag },
      body,
    });
  };

  it("Stripe's webhook goes on to the next origin; with every origin down it is a 503", async () => {
    await misbehaving(a, 'not_ready');
    const send = edge([a, b]);
    const tag = newTag();
    for (let i = 0; i < 2; i++) expect((await stripeEvent(send, tag)).status).toBe(200);
    expect(await seenAt(a, tag)).toHaveLength(1);
    expect(await seenAt(b, tag)).toHaveLength(2);

    await misbehaving(b, 'down');
    await misbehaving(c, 'hang');
    const down = await stripeEvent(edge([a, b, c], { ORIGIN_TIMEOUT_MS: '300' }), newTag());
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    await expectError(down, 503, 'not_ready');
  });
});

describe('a WebSocket upgrade', () => {
  it('goes to an origin that takes it when the first refuses the connection', async () => {
    await misbehaving(a, 'down');
    const send = edge([a, b]);
    for (let i = 0; i < 2; i++) {
      const res = await send('/v1/ws', { headers: { upgrade: 'websocket' } });
      expect(res.status).toBe(101);
      const socket = res.webSocket;
      if (!socket) throw new Error('no WebSocket');
      const hello = new Promise<string>((resolve) =>
        socket.addEventListener('message', (event) => resolve(String(event.data))),
      );
      socket.accept();
      expect(JSON.parse(await hello)).toEqual({
        type: 'hello',
        originId: `echo-${new URL(b).port}`,
      });
      socket.close(1000);
    }
  });
});
