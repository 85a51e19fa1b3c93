/**
 * Chaos: a generated corpus of malformed requests, all through the real edge (wrangler dev)
 * to a real origin. Whatever the input, the answer is a 4xx in the API's JSON error shape,
 * never a 5xx, and neither process dies. Non-/v1 GET/HEAD paths are the static assets
 * handler's: its 404 is not JSON, and is accepted as such (and only there).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import WebSocket from 'ws';
import { startEdgeProcess, stopEdgeProcess } from '../helpers/edge-process.ts';
import { test } from '../helpers/fixtures.ts';
import { readAnswer } from '../helpers/http.ts';
import { openSocket, TestSocket, wsUrl } from '../helpers/ws-client.ts';
import { Figures, recordFigures } from './figures.ts';

const bodyLimit = 64 * 1024;
/** The same origin behind a second edge, with the shipped rate limits. */
const it = test.extend('defaultEdge', { scope: 'file' }, async ({ pair }, { onCleanup }) => {
  const edge = await startEdgeProcess({
    ORIGIN_URL: pair.origin.url,
    EDGE_SIGNING_SECRET: pair.secret,
  });
  onCleanup(() => stopEdgeProcess(edge));
  return edge;
});
it.override({
  pairOptions: {
    edgeVars: {
      RATE_LIMIT_JOBS: '100000/60',
      RATE_LIMIT_AUTH: '100000/60',
      RATE_LIMIT_DEFAULT: '100000/60',
      RATE_LIMIT_UPGRADES: '100000/60',
      BODY_LIMIT_BYTES: String(bodyLimit),
    },
    originEnv: { FREE_GRANT_CREDITS: '1000' },
  },
});

/** One malformed request and the kind it counts under. */
interface Case {
  kind: string;
  name: string;
  method: string;
  path: string;
  body?: string | Uint8Array | (() => ReadableStream<Uint8Array>);
  headers?: Record<string, string>;
  /** Send the session token of the file's user (default true). */
  auth?: boolean;
  /** The status it must get; any 4xx in the error shape otherwise. */
  status?: number;
  /** A success expected (a valid value at a bound): then no error shape. */
  ok?: boolean;
}

const json = { 'content-type': 'application/json' };
const missingJob = 'job_01M8000000000000000000000Z';
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** Routes that read a JSON body, with a valid body to corrupt. */
const bodyRoutes: { path: string; auth: boolean; valid: Record<string, unknown> }[] = [
  {
    path: '/v1/auth/register',
    auth: false,
    valid: { email: 'a@example.test', password: 'pw-12345678' },
  },
  {
    path: '/v1/auth/login',
    auth: false,
    valid: { email: 'a@example.test', password: 'pw-12345678' },
  },
  { path: '/v1/api-keys', auth: true, valid: { name: 'ci' } },
  { path: '/v1/jobs', auth: true, valid: { model: 'tone-diffusion', input: { prompt: 'rain' } } },
  { path: '/v1/billing/checkout', auth: true, valid: { pack: 'starter' } },
];

const badJson: Record<string, string> = {
  truncated: '{"email":',
  'truncated string': '{"model":"ste',
  'trailing garbage': '{"name":"ci"} garbage',
  'two documents': '{}{}',
  NaN: '{"seed":NaN}',
  Infinity: '{"seed":Infinity}',
  'line comment': '// hi\n{}',
  'block comment': '{/* hi */}',
  'single quotes': "{'name':'ci'}",
  'trailing comma': '{"name":"ci",}',
  'leading zero': '{"n":01}',
  'BOM first': '\uFEFF{}',
  'bare word': 'undefined',
  empty: '',
  whitespace: '   \n ',
};

/** Values of every JSON type but one, to put where that type is expected. */
const wrongTypes: Record<string, unknown[]> = {
  string: [null, 42, true, [], {}, ['a']],
  number: [null, '8', true, [], {}, '1e3'],
  boolean: [null, 'true', 1, [], {}],
  object: [null, 'x', 3, true, []],
};
/** `optional`: a field with a default, whose absence is fine (so not sent missing). */
const fields: {
  path: string;
  base: Record<string, unknown>;
  at: string[];
  type: string;
  optional?: boolean;
}[] = [
  ...['/v1/auth/register', '/v1/auth/login'].flatMap((path) =>
    ['email', 'password'].map((f) => ({
      path,
      base: { email: 'a@example.test', password: 'pw-12345678' },
      at: [f],
      type: 'string',
    })),
  ),
  { path: '/v1/api-keys', base: { name: 'ci' }, at: ['name'], type: 'string' },
  { path: '/v1/billing/checkout', base: { pack: 'starter' }, at: ['pack'], type: 'string' },
  { path: '/v1/jobs', base: { model: 'steps', input: {} }, at: ['model'], type: 'string' },
  { path: '/v1/jobs', base: { model: 'steps', input: {} }, at: ['input'], type: 'object' },
  ...['steps', 'stepMs'].map((f) => ({
    path: '/v1/jobs',
    base: { model: 'steps', input: {} },
    at: ['input', f],
    type: 'number',
    optional: true,
  })),
  ...['fail', 'garbage', 'ignoreAbort'].map((f) => ({
    path: '/v1/jobs',
    base: { model: 'steps', input: {} },
    at: ['input', f],
    type: 'boolean',
    optional: true,
  })),
  ...['prompt'].map((f) => ({
    path: '/v1/jobs',
    base: { model: 'tone-diffusion', input: { prompt: 'rain' } },
    at: ['input', f],
    type: 'string',
  })),
  ...['duration', 'seed'].map((f) => ({
    path: '/v1/jobs',
    base: { model: 'tone-diffusion', input: { prompt: 'rain' } },
    at: ['input', f],
    type: 'number',
    optional: true,
  })),
];

function setAt(base: Record<string, unknown>, at: string[], value: unknown) {
  const copy = structuredClone(base);
  let node = copy as Record<string, unknown>;
  for (const key of at.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[at.at(-1) as string] = value;
  return copy;
}

/** The JSON of `valid` with a 0xFF byte put at the end of its last string. */
function withBadByte(valid: Record<string, unknown>): Uint8Array {
  const text = JSON.stringify(valid);
  const at = text.lastIndexOf('"');
  return bytes(text.slice(0, at), [0xff], text.slice(at));
}

const nested = (depth: number, leaf: string) => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
const tone = (input: Record<string, unknown>) =>
  JSON.stringify({ model: 'tone-diffusion', input: { prompt: 'rain', ...input } });

const idRoutes: [string, (id: string) => string][] = [
  ['GET', (id) => `/v1/jobs/${id}`],
  ['POST', (id) => `/v1/jobs/${id}/cancel`],
  ['GET', (id) => `/v1/jobs/${id}/output`],
  ['GET', (id) => `/v1/jobs/${id}/webhook-deliveries`],
  ['DELETE', (id) => `/v1/api-keys/${id}`],
];
const oddIds: Record<string, string> = {
  'encoded traversal': '..%2F..%2Fetc%2Fpasswd',
  'double-encoded traversal': '..%252F..%252Fetc%252Fpasswd',
  'dot-dot': '%2e%2e',
  'NUL byte': '%00',
  'id with NUL': 'job_%00',
  unicode: encodeURIComponent('job_ünïcødé✓😀'),
  'right-to-left mark': encodeURIComponent('job_\u202e01M8'),
  '10 kB id': 'j'.repeat(10_240),
  'broken percent-encoding': '%E0%A4%A',
  'invalid UTF-8 percent bytes': '%FF%FE',
  'encoded slash': 'job_%2F01M8',
  'SQL-ish': encodeURIComponent("job_1' OR '1'='1"),
  'well-formed but missing': missingJob,
};

const getRoutes = [
  '/v1/me',
  '/v1/models',
  '/v1/health',
  '/v1/billing/packs',
  '/v1/billing/ledger',
  `/v1/jobs/${missingJob}`,
  `/v1/jobs/${missingJob}/output`,
  '/v1/openapi.json',
  '/v1/stats',
  '/v1/usage',
  '/v1/files',
  '/v1/webhooks/secret',
];

function corpus(): Case[] {
  const cases: Case[] = [];
  for (const r of bodyRoutes) {
    for (const [what, text] of Object.entries(badJson)) {
      cases.push({
        kind: 'bad JSON',
        name: `${r.path}: ${what}`,
        method: 'POST',
        path: r.path,
        body: text,
        headers: json,
        auth: r.auth,
        status: 400,
      });
    }
    cases.push(
      {
        kind: 'deeply nested JSON',
        name: `${r.path}: 5 000 nested objects`,
        method: 'POST',
        path: r.path,
        body: nested(5_000, '1'),
        headers: json,
        auth: r.auth,
        status: 400,
      },
      {
        kind: 'deeply nested JSON',
        name: `${r.path}: 20 000 nested arrays`,
        method: 'POST',
        path: r.path,
        body: `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
        headers: json,
        auth: r.auth,
        status: 400,
      },
      {
        kind: 'huge body',
        name: `${r.path}: one byte over BODY_LIMIT_BYTES`,
        method: 'POST',
        path: r.path,
        body: JSON.stringify({ pad: 'x'.repeat(bodyLimit) }),
        headers: json,
        auth: r.auth,
        status: 413,
      },
      {
        kind: 'huge body',
        name: `${r.path}: chunked, no content-length, 2× the limit`,
        method: 'POST',
        path: r.path,
        body: () => {
          const chunk = new TextEncoder().encode(`{"pad":"${'x'.repeat(4096)}`);
          let sent = 0;
          return new ReadableStream<Uint8Array>({
            pull(controller) {
              if (sent > bodyLimit * 2) controller.close();
              else controller.enqueue(chunk);
              sent += chunk.length;
            },
          });
        },
        headers: json,
        auth: r.auth,
        status: 413,
      },
      {
        kind: 'invalid UTF-8',
        name: `${r.path}: invalid UTF-8 bytes in a JSON string`,
        method: 'POST',
        path: r.path,
        body: bytes('{"name":"', [0xff, 0xfe, 0xc3, 0x28], '","email":"', [0xed, 0xa0, 0x80], '"}'),
        headers: json,
        auth: r.auth,
        status: 400,
      },
      {
        kind: 'invalid UTF-8',
        name: `${r.path}: a valid body but for one invalid UTF-8 byte in a string`,
        method: 'POST',
        path: r.path,
        body: withBadByte(r.valid),
        headers: json,
        auth: r.auth,
        status: 400,
      },
      {
        kind: 'invalid UTF-8',
        name: `${r.path}: invalid UTF-8 bytes outside strings`,
        method: 'POST',
        path: r.path,
        body: bytes('{', [0xc0, 0xaf], '}'),
        headers: json,
        auth: r.auth,
        status: 400,
      },
    );
    for (const type of [
      'text/plain',
      'application/json, text/plain',
      'application/jsonx',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/json',
      '',
    ]) {
      cases.push({
        kind: 'header abuse',
        name: `${r.path}: content-type "${type}"`,
        method: 'POST',
        path: r.path,
        body: JSON.stringify(r.valid),
        headers: { 'content-type': type },
        auth: r.auth,
        status: 415,
      });
    }
  }

  for (const f of fields) {
    const values = wrongTypes[f.type] ?? [];
    for (const value of f.optional ? values : [...values, undefined]) {
      const body = setAt(f.base, f.at, value);
      cases.push({
        kind: 'wrong types',
        name: `${f.path}: ${f.at.join('.')} = ${JSON.stringify(value) ?? 'missing'}`,
        method: 'POST',
        path: f.path,
        body: JSON.stringify(body),
        headers: json,
        auth: !f.path.startsWith('/v1/auth/'),
        status: 400,
      });
    }
  }

  const bound = (name: string, body: string, ok: boolean): Case => ({
    kind: 'boundary numbers',
    name,
    method: 'POST',
    path: '/v1/jobs',
    body,
    headers: json,
    ...(ok ? { ok: true, status: 202 } : { status: 400 }),
  });
  cases.push(
    bound('duration 0', tone({ duration: 0 }), false),
    bound('duration 1', tone({ duration: 1 }), true),
    bound('duration 30', tone({ duration: 30 }), true),
    bound('duration 31', tone({ duration: 31 }), false),
    bound('duration -1', tone({ duration: -1 }), false),
    bound('duration 1e308', tone({ duration: 1e308 }), false),
    bound('seed -1', tone({ seed: -1 }), false),
    bound('seed 0', tone({ seed: 0 }), true),
    bound('seed 2^31-1', tone({ seed: 2 ** 31 - 1 }), true),
    bound('seed 2^31', tone({ seed: 2 ** 31 }), false),
    bound('seed 1.5', tone({ seed: 1.5 }), false),
    bound(
      'seed 2^53+1 (as text)',
      tone({}).replace('"rain"', '"rain","seed":9007199254740993'),
      false,
    ),
    bound('steps 0', JSON.stringify({ model: 'steps', input: { steps: 0 } }), false),
    bound('steps 1001', JSON.stringify({ model: 'steps', input: { steps: 1001 } }), false),
    bound('stepMs 60001', JSON.stringify({ model: 'steps', input: { stepMs: 60_001 } }), false),
    bound('prompt of 501 characters', tone({ prompt: 'p'.repeat(501) }), false),
  );
  for (const [query, ok] of [
    ['limit=0', false],
    ['limit=1', true],
    ['limit=100', true],
    ['limit=101', false],
    ['limit=-1', false],
    ['limit=1.5', false],
    ['limit=', false],
    ['limit=99999999999999999999', false],
    ['status=done', false],
    ['cursor=..%2F..%2Fetc%2Fpasswd', false],
    ['cursor=%00', false],
  ] as const) {
    cases.push({
      kind: 'boundary numbers',
      name: `GET /v1/jobs?${query}`,
      method: 'GET',
      path: `/v1/jobs?${query}`,
      ...(ok ? { ok: true, status: 200 } : { status: 400 }),
    });
  }

  for (const [method, route] of idRoutes) {
    for (const [what, id] of Object.entries(oddIds)) {
      cases.push({
        kind: 'odd ids',
        name: `${method} ${route(':id')} with ${what}`,
        method,
        path: route(id),
        status: 404,
      });
    }
  }

  const longToken = `Bearer ${'a'.repeat(8_000)}`;
  const headerCases: [string, Record<string, string>, number][] = [
    ['an 8 kB Authorization', { authorization: longToken }, 401],
    ['Authorization Basic', { authorization: 'Basic dXNlcjpwYXNz' }, 401],
    ['Authorization "Bearer"', { authorization: 'Bearer' }, 401],
    ['Authorization with two tokens', { authorization: 'Bearer a b' }, 401],
    ['a fake API key', { authorization: 'Bearer ovt_' }, 401],
    ['a long fake API key', { authorization: `Bearer ovt_${'x'.repeat(4_000)}` }, 401],
    ['a JWT with alg none', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }, 401],
    ['Authorization with latin-1 bytes', { authorization: 'Bearer \xff\xfe\xe9' }, 401],
  ];
  for (const path of ['/v1/me', '/v1/jobs', '/v1/api-keys', '/v1/billing/ledger']) {
    for (const [what, headers, status] of headerCases) {
      cases.push({
        kind: 'header abuse',
        name: `GET ${path} with ${what}`,
        method: 'GET',
        path,
        headers,
        auth: false,
        status,
      });
    }
  }
  for (const [what, key] of Object.entries({
    empty: '',
    blank: '   ',
    '256 characters': 'k'.repeat(256),
    'non-ASCII': 'cl\xe9',
    'latin-1 bytes': '\xff\xfe',
    'control-ish': 'a\tb',
  })) {
    cases.push({
      kind: 'header abuse',
      name: `POST /v1/jobs with Idempotency-Key ${what}`,
      method: 'POST',
      path: '/v1/jobs',
      body: JSON.stringify({ model: 'steps', input: { steps: 1, stepMs: 0 } }),
      headers: { ...json, 'idempotency-key': key },
      status: 400,
    });
  }
  cases.push({
    kind: 'header abuse',
    name: 'content-type with a latin-1 charset',
    method: 'POST',
    path: '/v1/api-keys',
    body: '{"name":',
    headers: { 'content-type': 'application/json; charset=\xff' },
    status: 400,
  });

  for (const path of getRoutes) {
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      cases.push({
        kind: 'unknown routes and methods',
        name: `${method} ${path}`,
        method,
        path,
        body: method === 'DELETE' ? undefined : '{}',
        headers: method === 'DELETE' ? undefined : json,
        status: 404,
      });
    }
  }
  for (const [method, path] of [
    ['GET', '/v1'],
    ['GET', '/v1/'],
    ['GET', '/v1/nope'],
    ['POST', '/v1/nope'],
    ['GET', '/v1/jobs/x/y/z'],
    ['GET', '/v1/%2e%2e/%2e%2e/etc/passwd'],
    ['GET', '/v1/..%2F..%2Fetc%2Fpasswd'],
    ['OPTIONS', '/v1/me'],
    ['POST', '/v1/health'],
    ['POST', '/nope'],
    ['DELETE', '/'],
    ['GET', '/nope'],
    ['GET', '/..%2F..%2Fetc%2Fpasswd'],
    ['GET', '/v2/jobs'],
    ['HEAD', '/nope.js'],
  ] as const) {
    cases.push({ kind: 'unknown routes and methods', name: `${method} ${path}`, method, path });
  }
  return cases;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(base: string, c: Case, token: string): Promise<Answer> {
  const headers: Record<string, string> = { ...c.headers };
  if (c.auth !== false && token && !headers.authorization)
    headers.authorization = `Bearer ${token}`;
  const body = typeof c.body === 'function' ? c.body() : c.body;
  try {
    const res = await fetch(`${base}${c.path}`, {
      method: c.method,
      headers,
      body,
      ...(typeof c.body === 'function' ? { duplex: 'half' } : {}),
    } as RequestInit);
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (error) {
    // No answer at all (a reset connection): status 0, which every check then counts lost.
    const cause = (error as { cause?: unknown }).cause;
    return { status: 0, headers: new Headers(), text: `no answer: ${String(cause ?? error)}` };
  }
}

/** Non-/v1 GET and HEAD paths go to the static assets handler, whose 404 is not JSON. */
const isAssetPath = (c: Case) =>
  (c.method === 'GET' || c.method === 'HEAD') &&
  !new URL(c.path, 'http://x').pathname.startsWith('/v1');

/** What is wrong with an answer (nothing: an empty list). */
function problems(c: Case, a: Answer): string[] {
  const out: string[] = [];
  if (a.status >= 500) out.push(`5xx: ${a.status}`);
  if (a.status === 0) return [a.text];
  if (c.status !== undefined && a.status !== c.status)
    out.push(`status ${a.status}, not ${c.status}`);
  if (c.ok) return out;
  if (isAssetPath(c) && a.status === 404) return out;
  if (a.status < 400 || a.status >= 500) out.push(`not an error: ${a.status}`);
  if (!/^application\/json/.test(a.headers.get('content-type') ?? '')) {
    out.push(`content-type ${a.headers.get('content-type')}`);
  }
  if (c.method === 'HEAD') return out;
  try {
    const body = JSON.parse(a.text) as {
      error?: { code?: unknown; message?: unknown; requestId?: unknown };
    };
    const requestId = a.headers.get('x-request-id');
    if (!requestId || body.error?.requestId !== requestId) out.push('no matching x-request-id');
    if (typeof body.error?.code !== 'string' || !/^[a-z_]+$/.test(body.error.code)) {
      out.push('no error.code');
    }
    if (typeof body.error?.message !== 'string') out.push('no error.message');
  } catch {
    out.push(`not JSON: ${a.text.slice(0, 80)}`);
  }
  return out;
}

const figures = new Figures('bad-input');

let token: string;
let fives = 0;
it.beforeAll(async ({ pair }) => {
  ({ token } = await pair.api.signUp());
});

describe('a corpus of malformed requests through the edge', () => {
  it('answers every one with a 4xx JSON error, never a 5xx', async ({ pair }) => {
    const cases = corpus();
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const failures: string[] = [];
    const accepted: string[] = [];
    // A few at a time: fast, without turning this into a load test.
    const queue = [...cases];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
          const answer = await send(pair.edge.url, c, token);
          if (answer.status >= 500) fives++;
          const found = problems(c, answer);
          figures.count(c.kind, found.length === 0);
          if (found.length > 0) failures.push(`${c.kind} / ${c.name}: ${found.join(', ')}`);
          if (c.ok && answer.status === 202) accepted.push(JSON.parse(answer.text).id);
        }
      }),
    );
    // The valid jobs at the bounds are not needed: cancel them, so the pool stays free.
    await Promise.all(
      accepted.map((id) => pair.api.call('POST', `/v1/jobs/${id}/cancel`, { token })),
    );
    expect(failures).toEqual([]);
    expect(fives).toBe(0);
  });

  it('with the default limits, bad input still spends the budget, then gets 429 rate_limited', async ({
    defaultEdge,
  }) => {
    const results: number[] = [];
    let held = 0;
    // The shipped auth budget is 10/60 per client IP.
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${defaultEdge.url}/v1/auth/login`, {
        method: 'POST',
        headers: json,
        body: '{"email":',
      });
      const body = (await res.json()) as { error: { code: string } };
      results.push(res.status);
      const want = i < 10 ? ['invalid_request', 400] : ['rate_limited', 429];
      const ok =
        res.status === want[1] &&
        body.error.code === want[0] &&
        (res.status !== 429 || Number(res.headers.get('retry-after')) >= 1);
      if (ok) held++;
      figures.count('default limits', ok);
    }
    expect(results).toEqual([...Array(10).fill(400), 429, 429]);
    // A few other cases through the default edge answer as through the raised one.
    for (const c of corpus().filter((_, i) => i % 40 === 0)) {
      const answer = await send(defaultEdge.url, c, token);
      const found = problems(c, answer);
      const ok = found.length === 0 || (answer.status === 429 && c.path.startsWith('/v1/auth'));
      figures.count('default limits', ok);
      if (ok) held++;
      expect(
        found.filter(() => !ok),
        `${c.name}`,
      ).toEqual([]);
    }
    expect(held).toBeGreaterThan(12);
  });
});

describe('WebSocket abuse through the edge', () => {
  const cases: { name: string; run: (socket: TestSocket) => void }[] = [
    { name: 'not JSON', run: (s) => s.send('not json at all') },
    { name: 'JSON of the wrong shape', run: (s) => s.send({ type: 'nope' }) },
    { name: 'subscribe without a jobId', run: (s) => s.send({ type: 'subscribe' }) },
    {
      name: 'subscribe with a 10 kB jobId',
      run: (s) => s.send({ type: 'subscribe', jobId: 'j'.repeat(10_240) }),
    },
    {
      name: 'subscribe with since -1',
      run: (s) => s.send({ type: 'subscribe', jobId: missingJob, since: -1 }),
    },
    { name: 'a binary frame', run: (s) => s.send(Buffer.from([0xff, 0x00, 0xfe])) },
    { name: 'an oversized text frame (100 kB)', run: (s) => s.send('x'.repeat(100_000)) },
    { name: 'an oversized binary frame (1 MB)', run: (s) => s.send(Buffer.alloc(1024 * 1024, 7)) },
    {
      name: 'raw garbage bytes right after the upgrade',
      run: (s) =>
        (s.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(
          Buffer.from('GET / HTTP/1.1\r\n\r\n\xff\xff\xff'),
        ),
    },
  ];

  it('answers an error or closes the socket, for each kind of garbage', async ({ pair }) => {
    const failures: string[] = [];
    for (const c of cases) {
      const socket = await openSocket(pair.edge.url, { token });
      const before = socket.messages.length;
      c.run(socket);
      // Held: an error message, or a close (the edge or origin refusing the frame).
      const held = await Promise.race([
        socket
          .waitFor((m) => m.type === 'error', { from: before, timeoutMs: 10_000 })
          .then(
            () => true,
            () => socket.closeInfo !== undefined,
          ),
        socket.closed.then(() => true),
      ]);
      figures.count('websocket garbage', held);
      if (!held) failures.push(c.name);
      socket.ws.terminate();
    }
    // Garbage before any auth: upgrade without a token, then junk.
    for (const junk of ['{"type":"auth","token":"nope"}', 'x'.repeat(70_000)]) {
      const ws = new WebSocket(wsUrl(pair.edge.url));
      const socket = new TestSocket(ws);
      await new Promise((resolve) => ws.once('open', resolve));
      socket.send(junk);
      const closed = await socket.whenClosed(10_000).then(
        () => true,
        () => false,
      );
      figures.count('websocket garbage', closed);
      if (!closed) failures.push(`before auth: ${junk.slice(0, 20)}`);
      ws.terminate();
    }
    expect(failures).toEqual([]);
  });
});

describe('after all that', () => {
  it('both processes are alive and healthy, and nothing answered 5xx', async ({
    pair,
    defaultEdge,
  }) => {
    await sleep(200);
    const alive = pair.origin.child.exitCode === null && pair.edge.child.exitCode === null;
    const health = await pair.api.call('GET', '/v1/health');
    expect(alive).toBe(true);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('healthy');
    expect(defaultEdge.child.exitCode).toBeNull();
    // What the edge does with a non-/v1 path: GET/HEAD go to the static assets handler,
    // whose 404 has an empty or HTML body; other methods get the JSON error.
    const asset = await readAnswer(await fetch(`${pair.edge.url}/no-such-file.js`));
    const assetType = `content-type: ${asset.headers.get('content-type') ?? 'none'}`;
    expect(asset.status).toBe(404);
    const posted = await readAnswer(
      await fetch(`${pair.edge.url}/no-such-file.js`, { method: 'POST' }),
    );
    expect(posted.status).toBe(404);
    expect(posted.body.error.code).toBe('not_found');
    expect(pair.origin.output()).not.toContain('unhandled error');
    expect(pair.edge.output()).not.toContain('unhandled edge error');
    const rows = figures.rows;
    const lost = rows.reduce((n, r) => n + r.lost, 0);
    expect(lost).toBe(0);
    const tried = rows.reduce((n, r) => n + r.tried, 0);
    recordFigures('bad-input', [
      ...rows,
      {
        suite: 'bad-input',
        case: '5xx answers / crashes',
        tried,
        held: fives === 0 && alive ? tried : tried - fives,
        lost: fives + (alive ? 0 : 1),
        note: `every answer is {error:{code,message}} but non-/v1 GET/HEAD 404s, served by the static assets handler (${assetType}, empty body)`,
      },
    ]);
  });
});
