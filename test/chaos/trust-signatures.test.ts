/**
 * Chaos: the edge signature under an attacker who reaches an origin's port and captured
 * signed requests on their way to it, on a real origin behind a real edge. A captured
 * request sent again re-spelled (alone, or all four spellings at once), or with another
 * Authorization, Idempotency-Key or Range, is refused; the same headers through the edge are
 * served; unsigned and stale bodies up to 1 MiB are refused before they are sent; and a
 * flood of unsigned requests costs the log two lines.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { refusalLogIntervalMs } from '../../origin/auth/edge-trust.ts';
import { stripeEventLimitBytes } from '../../shared/limits.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { type ApiAnswer, uniqueEmail } from '../helpers/api.ts';
import type { EdgePair } from '../helpers/edge-pair.ts';
import {
  type CapturedRequest,
  captureCall,
  respelled,
  sendCaptured,
  signedLikeTheEdge,
} from '../helpers/edge-signing.ts';
import { it } from '../helpers/fixtures.ts';
import { logLines } from '../helpers/logs.ts';
import { partialPost } from '../helpers/partial-post.ts';
import { upgradeStatus, wsUrl } from '../helpers/ws-client.ts';
import { Figures } from './figures.ts';

it.override({
  pairOptions: {
    originEnv: { PROGRESS_INTERVAL_MS: '0' },
    // The edge's budgets are another suite's: here every request through it must pass.
    edgeVars: { RATE_LIMIT_ENABLED: 'false' },
  },
});

const figures = new Figures('trust');

interface User {
  token: string;
}

const toOrigin = (pair: EdgePair, captured: CapturedRequest, changes = {}) =>
  sendCaptured(pair.origin.url, captured, changes);

const isEdgeRefusal = (res: ApiAnswer) =>
  res.status === 401 &&
  /only through the edge/.test(
    (res.body as { error?: { message?: string } })?.error?.message ?? '',
  );

async function register(pair: EdgePair): Promise<User> {
  const res = await toOrigin(
    pair,
    await captureCall(pair.secret, 'POST', '/v1/auth/register', {
      body: { email: uniqueEmail(), password: `pw-${randomUUID()}` },
    }),
  );
  expect(res.status, res.text).toBe(201);
  return { token: res.body.token };
}

const credits = async (pair: EdgePair, user: User) =>
  (await toOrigin(pair, await captureCall(pair.secret, 'GET', '/v1/me', { token: user.token })))
    .body.credits as number;

const jobBody = { model: 'steps', input: { steps: 1, stepMs: 0 } };

describe('a flood of unsigned requests', () => {
  // First in the file, so that the refusal log's interval starts with it.
  it('is refused, and costs the log one line at once and one with the count', async ({ pair }) => {
    const before = pair.origin.output().length;
    const n = 600;
    const now = Math.floor(Date.now() / 1000);
    const paths = ['/v1/me', '/v1/jobs', '/v1/webhooks/stripe', '/v1/auth/login', '/v1/nope'];
    const statuses: number[] = [];
    for (let batch = 0; batch < n / 50; batch++) {
      const sent = Array.from({ length: 50 }, (_, j) => {
        const i = batch * 50 + j;
        const path = paths[i % paths.length] ?? '/';
        const headers: Record<string, string> =
          i % 3 === 0
            ? {}
            : {
                'x-edge-signature': i % 3 === 1 ? `v2=${'x'.repeat(10)}` : `v2=${'A'.repeat(43)}`,
                'x-edge-timestamp': String(i % 3 === 1 ? now : now - 3600),
                'x-edge-client-ip': '203.0.113.66',
                'x-request-id': `flood-${i}`,
              };
        const post = path !== '/v1/me' && path !== '/v1/nope';
        return fetch(`${pair.origin.url}${path}`, {
          method: post ? 'POST' : 'GET',
          headers,
          ...(post ? { body: '{"x":1}' } : {}),
        }).then(async (res) => {
          await res.body?.cancel();
          return res.status;
        });
      });
      statuses.push(...(await Promise.all(sent)));
    }
    await sleep(200);
    const output = () => logLines(pair.origin.output().slice(before));
    const refusals = () => output().filter((l) => l.msg === 'edge signature refused');
    const during = refusals().length;
    const ownLines = output().filter((l) => l.msg === 'request' && l.status === 401).length;
    const deadline = Date.now() + refusalLogIntervalMs + 5000;
    while (refusals().length < 2 && Date.now() < deadline) await sleep(100);
    const lines = refusals();
    const counted = lines.reduce((sum, l) => sum + Number(l.count), 0);
    const note = `N=${n} unsigned/malformed/stale → ${lines.length} lines (${during} during the flood), counts summing to ${counted}`;
    for (const status of statuses) {
      figures.count(
        'unsigned flood → 401, log lines bounded',
        status === 401 && ownLines === 0,
        note,
      );
    }
    expect(statuses.filter((s) => s !== 401)).toEqual([]);
    expect(during).toBe(1);
    expect(ownLines).toBe(0);
    expect(lines).toHaveLength(2);
    expect(counted).toBe(n);
  });
});

let alice: User;
let bob: User;
let done: Job;

it.beforeAll(async ({ pair }) => {
  [alice, bob] = [await register(pair), await register(pair)];
  const created = await toOrigin(
    pair,
    await captureCall(pair.secret, 'POST', '/v1/jobs', { token: alice.token, body: jobBody }),
  );
  expect(created.status, created.text).toBe(202);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await toOrigin(
      pair,
      await captureCall(pair.secret, 'GET', `/v1/jobs/${created.body.id}`, { token: alice.token }),
    );
    done = res.body as Job;
    if (done.status === 'succeeded') break;
    if (Date.now() > deadline) throw new Error(`job stuck: ${res.text}`);
    await sleep(20);
  }
});

/** Requests of every kind a captured one could be, as Alice would send them. */
const routes = (): {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}[] => [
  { method: 'GET', path: '/v1/me' },
  { method: 'GET', path: '/v1/jobs?limit=5' },
  { method: 'GET', path: `/v1/jobs/${done.id}` },
  { method: 'GET', path: `/v1/jobs/${done.id}/output`, headers: { range: 'bytes=0-99' } },
  { method: 'GET', path: '/v1/billing/ledger' },
  { method: 'GET', path: '/v1/api-keys' },
  { method: 'POST', path: '/v1/api-keys', body: { name: 'captured' } },
  { method: 'POST', path: `/v1/jobs/${done.id}/cancel` },
  {
    method: 'POST',
    path: '/v1/jobs',
    body: jobBody,
    headers: { 'idempotency-key': `key-${randomUUID()}` },
  },
];

describe('a captured, validly signed request, straight to the origin', () => {
  it('re-spelled is refused, whether the original was sent before or not', async ({ pair }) => {
    const failures: string[] = [];
    for (const r of routes()) {
      for (const originalFirst of [true, false]) {
        const captured = await captureCall(pair.secret, r.method, r.path, {
          ...r,
          token: alice.token,
        });
        if (originalFirst && isEdgeRefusal(await toOrigin(pair, captured))) {
          failures.push(`the original ${r.method} ${r.path} was refused`);
        }
        for (const spelling of respelled(captured)) {
          const held = isEdgeRefusal(await toOrigin(pair, captured, spelling));
          figures.count(
            're-spelled signature → 401',
            held,
            '3 other spellings of each MAC, 9 routes',
          );
          if (!held) failures.push(`${r.method} ${r.path} re-spelled was served`);
        }
      }
    }
    // The upgrade too.
    const url = wsUrl(pair.origin.url, alice.token);
    const upgrade = await captureCall(
      pair.secret,
      'GET',
      new URL(url).pathname + new URL(url).search,
    );
    for (const spelling of respelled(upgrade)) {
      const held = (await upgradeStatus(url, { ...upgrade.headers, ...spelling })) === 401;
      figures.count('re-spelled signature → 401', held);
      if (!held) failures.push('an upgrade re-spelled was taken');
    }
    expect(await upgradeStatus(url, upgrade.headers)).toBe(101);
    expect(failures).toEqual([]);
  });

  it('sent in its four spellings at once is served exactly once (jobs charged once)', async ({
    pair,
  }) => {
    const carol = await register(pair);
    const before = await credits(pair, carol);
    const jobs = 5;
    const failures: string[] = [];
    for (let i = 0; i < 10 + jobs; i++) {
      const captured =
        i < 10
          ? await captureCall(pair.secret, 'GET', '/v1/me', { token: carol.token })
          : await captureCall(pair.secret, 'POST', '/v1/jobs', {
              token: carol.token,
              body: jobBody,
            });
      const answers = await Promise.all(
        [{}, ...respelled(captured)].map((spelling) => toOrigin(pair, captured, spelling)),
      );
      const served = answers.filter((a) => !isEdgeRefusal(a)).length;
      figures.count(
        '4 spellings at once → served once',
        served === 1,
        '10 GET /v1/me, 5 POST /v1/jobs',
      );
      if (served !== 1) failures.push(`${captured.method} ${captured.path}: served ${served}`);
    }
    expect(failures).toEqual([]);
    expect(await credits(pair, carol)).toBe(before - jobs);
  });

  it('with another Authorization, or none, is refused', async ({ pair }) => {
    const failures: string[] = [];
    for (const r of routes()) {
      const captured = await captureCall(pair.secret, r.method, r.path, {
        ...r,
        token: alice.token,
      });
      for (const authorization of [`Bearer ${bob.token}`, undefined]) {
        const held = isEdgeRefusal(await toOrigin(pair, captured, { authorization }));
        figures.count('credentials swapped on a captured request → 401', held);
        if (!held) failures.push(`${r.method} ${r.path} with ${authorization ?? 'none'}`);
      }
      // Signed without credentials: Bob's may not be added.
      const bare = await captureCall(pair.secret, r.method, r.path, r);
      const held = isEdgeRefusal(
        await toOrigin(pair, bare, { authorization: `Bearer ${bob.token}` }),
      );
      figures.count('credentials swapped on a captured request → 401', held);
      if (!held) failures.push(`${r.method} ${r.path} with Bob's added`);
    }
    expect(failures).toEqual([]);
  });

  it('with another Idempotency-Key, or none, is refused: no second job, no second charge', async ({
    pair,
  }) => {
    const dave = await register(pair);
    const before = await credits(pair, dave);
    const n = 8;
    const failures: string[] = [];
    for (let i = 0; i < n; i++) {
      const captured = await captureCall(pair.secret, 'POST', '/v1/jobs', {
        token: dave.token,
        body: jobBody,
        headers: { 'idempotency-key': `key-${randomUUID()}` },
      });
      for (const key of [
        `key-${randomUUID()}`,
        `${captured.headers['idempotency-key']}x`,
        undefined,
      ]) {
        const held = isEdgeRefusal(await toOrigin(pair, captured, { 'idempotency-key': key }));
        figures.count(
          'Idempotency-Key swapped on a captured job → 401',
          held,
          `${n} jobs, 3 swaps each`,
        );
        if (!held) failures.push(`key ${key ?? 'none'} took`);
      }
      expect((await toOrigin(pair, captured)).status).toBe(202);
    }
    expect(failures).toEqual([]);
    expect(await credits(pair, dave)).toBe(before - n);
  });

  it('with another Range, or none, is refused', async ({ pair }) => {
    const path = `/v1/jobs/${done.id}/output`;
    const n = 8;
    const failures: string[] = [];
    for (let i = 0; i < n; i++) {
      const start = i;
      const captured = await captureCall(pair.secret, 'GET', path, {
        token: alice.token,
        headers: { range: `bytes=${start}-${start + 1}` },
      });
      for (const range of ['bytes=0-', `bytes=${start}-${start + 2}`, undefined]) {
        const held = isEdgeRefusal(await toOrigin(pair, captured, { range }));
        figures.count(
          'Range swapped on a captured download → 401',
          held,
          `${n} downloads, 3 swaps each`,
        );
        if (!held) failures.push(`range ${range ?? 'none'} took`);
      }
      const own = await toOrigin(pair, captured);
      expect([own.status, own.bytes.length]).toEqual([206, 2]);
    }
    expect(failures).toEqual([]);
  });
});

describe('through the edge', () => {
  it('the same headers are signed and served', async ({ pair }) => {
    const path = `/v1/jobs/${done.id}/output`;
    const failures: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answers = [
        [await pair.api.call('GET', '/v1/me', { token: alice.token }), 200],
        [
          await pair.api.call('GET', path, { token: alice.token, headers: { range: 'bytes=0-9' } }),
          206,
        ],
        [
          await pair.api.call('POST', '/v1/jobs', {
            token: bob.token,
            body: jobBody,
            headers: { 'idempotency-key': `edge-key-${randomUUID()}` },
          }),
          202,
        ],
        [await pair.api.call('POST', '/v1/jobs', { token: bob.token, body: jobBody }), 202],
      ] as const;
      for (const [res, status] of answers) {
        const held = res.status === status;
        figures.count('Authorization / Range / Idempotency-Key through the edge → served', held);
        if (!held) failures.push(`${res.status}: ${res.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('unsigned bodies', () => {
  it('of 1 MiB are refused before they are sent, on every path, with or without a length', async ({
    pair,
  }) => {
    const first = 16 * 1024;
    const failures: string[] = [];
    const stale = Math.floor(Date.now() / 1000) - 3600;
    for (const path of ['/v1/webhooks/stripe', '/v1/jobs', '/v1/auth/register', '/v1/api-keys']) {
      for (const chunked of [false, true]) {
        for (const signing of ['none', 'stale', 'malformed'] as const) {
          const signed = await signedLikeTheEdge(
            pair.secret,
            { method: 'POST', path, body: '{}' },
            { timestamp: stale },
          );
          const headers =
            signing === 'none'
              ? { 'content-type': 'application/json' }
              : signing === 'stale'
                ? signed.headers
                : { ...signed.headers, 'x-edge-signature': `v2=${randomBytes(8).toString('hex')}` };
          const post = partialPost(`${pair.origin.url}${path}`, headers, {
            length: stripeEventLimitBytes,
            first,
            chunked,
            // The other chaos suites share the 2 cores: an answer may take seconds to come.
            waitMs: 20_000,
          });
          const answer = await post.answer;
          const held = answer?.status === 401 && post.sent() === first;
          figures.count(
            'unsigned/stale/malformed 1 MiB body → 401 before it is sent',
            held,
            '16 KiB of 1 MiB sent when the 401 came; 4 paths, with and without Content-Length',
          );
          if (!held) failures.push(`${signing} ${path} chunked=${chunked}: ${answer?.status}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('the figures', () => {
  it('are recorded, with nothing lost', ({ pair }) => {
    expect(pair.origin.child.exitCode).toBeNull();
    expect(pair.edge.child.exitCode).toBeNull();
    figures.expectNoneLost('trust-signatures', { atLeast: 8 });
  });
});
