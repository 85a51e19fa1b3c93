/**
 * The origin's edge-signature check against an attacker who reaches the origin's port: a
 * captured, validly signed request sent again with its signature re-spelled or with another
 * Authorization, Idempotency-Key or Range is refused; an unsigned (or malformed, or stale)
 * request is refused before its body is read, even 1 MiB on the Stripe path; and a flood of
 * them costs the log a bounded number of lines.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { refusalLogIntervalMs } from '../../origin/auth/edge-trust.ts';
import { signEdgeRequest, streamedBodyHeader } from '../../shared/edge-signature.ts';
import { stripeEventLimitBytes } from '../../shared/limits.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { uniqueEmail } from '../helpers/api.ts';
import { clickTrack } from '../helpers/audio-fixtures.ts';
import {
  type CapturedRequest,
  captureCall,
  respelled,
  sendCaptured,
  signedLikeTheEdge,
} from '../helpers/edge-signing.ts';
import { expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { readAnswer } from '../helpers/http.ts';
import { logLines } from '../helpers/logs.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
import { partialPost } from '../helpers/partial-post.ts';
import { upgradeStatus, wsUrl } from '../helpers/ws-client.ts';

const secret = `edge-trust-security-${randomBytes(24).toString('hex')}`;
it.override({
  originOptions: { env: { EDGE_SIGNATURE_CHECK: 'on', EDGE_SIGNING_SECRET: secret } },
});

/** A one-step job: charged 1 credit. */
const jobBody = { model: 'steps', input: { steps: 1, stepMs: 0 } };

const send = (origin: OriginProcess, captured: CapturedRequest, changes = {}) =>
  sendCaptured(origin.url, captured, changes);

const edgeRefusal = (res: Awaited<ReturnType<typeof send>>) => {
  expectApiError(res, 401, 'unauthorized');
  expect(res.body.error.message).toMatch(/only through the edge/);
};

const refusalLines = (output: string) =>
  logLines(output).filter((l) => l.msg === 'edge signature refused');

describe('a flood of unsigned requests', () => {
  // First in the file: the refusal log's interval is the origin's, and starts with these.
  it('writes a bounded number of log lines: the first at once, then one with the count', async ({
    origin,
  }) => {
    const before = origin.output().length;
    const n = 120;
    const now = Math.floor(Date.now() / 1000);
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const headers: Record<string, string> =
          i % 3 === 0
            ? {}
            : {
                'x-edge-signature': i % 3 === 1 ? 'v2=forged' : `v2=${'A'.repeat(43)}`,
                'x-edge-timestamp': String(i % 3 === 1 ? now : now - 3600),
                'x-edge-client-ip': '203.0.113.7',
                'x-request-id': `r-${i}`,
              };
        return fetch(`${origin.url}${i % 2 ? '/v1/me' : '/v1/jobs?limit=1'}`, { headers });
      }),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(n).fill(401));
    await sleep(200);
    const during = logLines(origin.output().slice(before));
    expect(refusalLines(origin.output().slice(before))).toHaveLength(1);
    // Nor a request line each: those are for requests the origin serves.
    expect(during.filter((l) => l.msg === 'request' && l.status === 401)).toEqual([]);

    // When the interval ends, one line counts the rest.
    const deadline = Date.now() + refusalLogIntervalMs + 5000;
    while (refusalLines(origin.output().slice(before)).length < 2 && Date.now() < deadline) {
      await sleep(100);
    }
    const lines = refusalLines(origin.output().slice(before));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ count: 1 });
    expect(lines[1]).toMatchObject({ count: n - 1, intervalMs: refusalLogIntervalMs });
    const reasons = { missing: 0, malformed: 0, stale: 0, ...(lines[1]?.reasons as object) };
    reasons[lines[0]?.reason as keyof typeof reasons]++;
    expect(reasons).toEqual({ missing: n / 3, malformed: n / 3, stale: n / 3 });
  }, 30_000);
});

let alice: { token: string };
let bob: { token: string };
let done: Job;

it.beforeAll(async ({ origin }) => {
  const register = async () => {
    const res = await send(
      origin,
      await captureCall(secret, 'POST', '/v1/auth/register', {
        body: { email: uniqueEmail(), password: 'correct horse battery' },
      }),
    );
    expect(res.status, res.text).toBe(201);
    return { token: res.body.token as string };
  };
  [alice, bob] = [await register(), await register()];
  const created = await send(
    origin,
    await captureCall(secret, 'POST', '/v1/jobs', {
      token: alice.token,
      body: jobBody,
    }),
  );
  expect(created.status, created.text).toBe(202);
  for (;;) {
    const res = await send(
      origin,
      await captureCall(secret, 'GET', `/v1/jobs/${created.body.id}`, { token: alice.token }),
    );
    done = res.body as Job;
    if (done.status === 'succeeded') break;
    expect(['queued', 'running']).toContain(done.status);
    await sleep(20);
  }
});

const credits = async (origin: OriginProcess, token: string) =>
  (await send(origin, await captureCall(secret, 'GET', '/v1/me', { token }))).body
    .credits as number;

describe('a body signed by its length (an upload the edge streams)', () => {
  /** A request signed over `stream:<length>` (or, `hashed`, over the bytes' hash). */
  const streamed = async (
    path: string,
    bytes: Uint8Array,
    options: { contentType?: string; header?: boolean; hashed?: boolean } = {},
  ) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${alice.token}`,
      'content-type': options.contentType ?? 'audio/wav',
    };
    const signed = await signEdgeRequest(secret, {
      method: 'POST',
      pathWithQuery: path,
      body: options.hashed ? bytes : { streamedBytes: bytes.length },
      clientIp: '203.0.113.7',
      requestId: crypto.randomUUID(),
      headers,
    });
    if (options.header ?? true) headers[streamedBodyHeader] = 'stream';
    const request = {
      method: 'POST',
      headers: { ...headers, ...signed },
      body: bytes as Uint8Array<ArrayBuffer>,
    };
    return (base: string) => fetch(`${base}${path}`, request).then((r) => readAnswer(r));
  };

  it('is taken on the upload route, once, and nowhere else', async ({ origin }) => {
    const wav = clickTrack(2, 1);
    const upload = await streamed('/v1/files', wav);
    const made = await upload(origin.url);
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ contentType: 'audio/wav', bytes: wav.length });
    // The same request again: its MAC was taken.
    edgeRefusal(await upload(origin.url));
    // Signed by length elsewhere: refused, the job not made.
    const before = await credits(origin, alice.token);
    const job = new TextEncoder().encode(JSON.stringify(jobBody));
    edgeRefusal(
      await (await streamed('/v1/jobs', job, { contentType: 'application/json' }))(origin.url),
    );
    expect(await credits(origin, alice.token)).toBe(before);
  });

  it('does not pass for the other mode: the header and the signed field must agree', async ({
    origin,
  }) => {
    const wav = clickTrack(2, 1);
    // Signed by length, but not saying so: the origin hashes the bytes, and they differ.
    edgeRefusal(await (await streamed('/v1/files', wav, { header: false }))(origin.url));
    // Saying it is streamed, but signed over the hash.
    edgeRefusal(await (await streamed('/v1/files', wav, { hashed: true }))(origin.url));
    // Signed over the hash, not saying so: a buffered upload, taken.
    const buffered = await (await streamed('/v1/files', wav, { hashed: true, header: false }))(
      origin.url,
    );
    expect(buffered.status).toBe(201);
  });
});

describe('a captured, validly signed request', () => {
  it('sent again with its signature re-spelled is refused as the replay it is', async ({
    origin,
  }) => {
    const before = await credits(origin, alice.token);
    const job = await captureCall(secret, 'POST', '/v1/jobs', {
      token: alice.token,
      body: jobBody,
    });
    expect((await send(origin, job)).status).toBe(202);
    for (const spelling of respelled(job)) edgeRefusal(await send(origin, job, spelling));
    // One job, charged once.
    expect(await credits(origin, alice.token)).toBe(before - 1);

    const me = await captureCall(secret, 'GET', '/v1/me', { token: alice.token });
    const spellings = respelled(me);
    // Re-spelled before the original was ever sent: still not a signature of its own.
    edgeRefusal(await send(origin, me, spellings[0]));
    expect((await send(origin, me)).status).toBe(200);
    for (const spelling of spellings) edgeRefusal(await send(origin, me, spelling));
  });

  it('to open a WebSocket, re-spelled or with an Authorization added, is refused', async ({
    origin,
  }) => {
    const url = wsUrl(origin.url, alice.token);
    const upgrade = await captureCall(secret, 'GET', new URL(url).pathname + new URL(url).search);
    for (const spelling of respelled(upgrade)) {
      expect(await upgradeStatus(url, { ...upgrade.headers, ...spelling })).toBe(401);
    }
    const withAuth = { ...upgrade.headers, authorization: `Bearer ${bob.token}` };
    expect(await upgradeStatus(url, withAuth)).toBe(401);
    expect(await upgradeStatus(url, upgrade.headers)).toBe(101);
    for (const spelling of respelled(upgrade)) {
      expect(await upgradeStatus(url, { ...upgrade.headers, ...spelling })).toBe(401);
    }
  });

  it('with another Authorization, or none, is refused', async ({ origin }) => {
    const me = await captureCall(secret, 'GET', '/v1/me', { token: alice.token });
    edgeRefusal(await send(origin, me, { authorization: `Bearer ${bob.token}` }));
    edgeRefusal(await send(origin, me, { authorization: undefined }));
    const asAlice = await send(origin, me);
    expect(asAlice.status).toBe(200);

    // A signature made for a request without credentials does not take some on.
    const keys = await captureCall(secret, 'GET', '/v1/api-keys');
    edgeRefusal(await send(origin, keys, { authorization: `Bearer ${bob.token}` }));
  });

  it('with another Idempotency-Key, or none, is refused: no second job, no second charge', async ({
    origin,
  }) => {
    const before = await credits(origin, alice.token);
    const job = await captureCall(secret, 'POST', '/v1/jobs', {
      token: alice.token,
      body: jobBody,
      headers: { 'idempotency-key': `key-${randomBytes(8).toString('hex')}` },
    });
    edgeRefusal(await send(origin, job, { 'idempotency-key': 'another-key' }));
    edgeRefusal(await send(origin, job, { 'idempotency-key': undefined }));
    expect((await send(origin, job)).status).toBe(202);
    expect(await credits(origin, alice.token)).toBe(before - 1);
    // A job request signed without a key does not take one on.
    const bare = await captureCall(secret, 'POST', '/v1/jobs', {
      token: alice.token,
      body: jobBody,
    });
    edgeRefusal(await send(origin, bare, { 'idempotency-key': 'added-key' }));
    expect(await credits(origin, alice.token)).toBe(before - 1);
  });

  it('with another Range, or none, is refused', async ({ origin }) => {
    const path = `/v1/jobs/${done.id}/output`;
    const ranged = await captureCall(secret, 'GET', path, {
      token: alice.token,
      headers: { range: 'bytes=0-9' },
    });
    edgeRefusal(await send(origin, ranged, { range: 'bytes=0-' }));
    edgeRefusal(await send(origin, ranged, { range: undefined }));
    const res = await send(origin, ranged);
    expect(res.status).toBe(206);
    expect(res.bytes.length).toBe(10);
    const whole = await captureCall(secret, 'GET', path, { token: alice.token });
    edgeRefusal(await send(origin, whole, { range: 'bytes=10-19' }));
  });
});

describe('an unsigned request with a body', () => {
  const stripePath = '/v1/webhooks/stripe';
  const megabyte = stripeEventLimitBytes;

  it.for([
    ['with a Content-Length', false],
    ['chunked', true],
  ] as const)(
    'of 1 MiB to the Stripe path (%s) is refused before its body is sent',
    async ([, chunked], { origin }) => {
      const post = partialPost(
        `${origin.url}${stripePath}`,
        { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
        { length: megabyte, first: 16 * 1024, chunked },
      );
      const answer = await post.answer;
      // The answer came with 16 KiB of the 1 MiB sent: the origin did not wait for the rest.
      expect(answer?.status, 'no answer before the body was sent').toBe(401);
      expect(post.sent()).toBe(16 * 1024);
      expect(JSON.parse(answer?.text ?? '{}').error.code).toBe('unauthorized');
    },
  );

  it('with a stale or malformed signature is refused before its body is sent too', async ({
    origin,
  }) => {
    const stale = await signedLikeTheEdge(
      secret,
      { method: 'POST', path: stripePath, body: 'x'.repeat(megabyte) },
      { timestamp: Math.floor(Date.now() / 1000) - 3600 },
    );
    const malformed = { ...stale.headers, 'x-edge-timestamp': 'now' };
    for (const headers of [stale.headers, malformed]) {
      const post = partialPost(`${origin.url}${stripePath}`, headers, {
        length: megabyte,
        first: 16 * 1024,
      });
      expect((await post.answer)?.status).toBe(401);
    }
  });

  it('that is well formed and fresh is read and hashed before it is refused', async ({
    origin,
  }) => {
    const forged = await signedLikeTheEdge(`forged-${randomBytes(24).toString('hex')}`, {
      method: 'POST',
      path: stripePath,
      body: 'x'.repeat(64 * 1024),
    });
    const post = partialPost(`${origin.url}${stripePath}`, forged.headers, {
      length: 64 * 1024,
      first: 16 * 1024,
      waitMs: 10_000,
    });
    // Only the MAC over the whole body can tell: the origin waits for it.
    const early = await Promise.race([post.answer, sleep(500).then(() => 'waiting')]);
    expect(early).toBe('waiting');
    post.finish();
    expect((await post.answer)?.status).toBe(401);
  });
});
