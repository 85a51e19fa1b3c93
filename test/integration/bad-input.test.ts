import { describe, expect } from 'vitest';
import { expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { readAnswer } from '../helpers/http.ts';

const bodyLimit = 64 * 1024;

interface Case {
  name: string;
  method: string;
  path: string;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as it is, with `headers`. */
  raw?: string;
  headers?: Record<string, string>;
  /** Send the session token of a fresh user (default true). */
  auth?: boolean;
  status: number;
  code: string;
  /** For a 400 from a schema: a path that `error.details` must name. */
  at?: string;
}

const jsonType = { 'content-type': 'application/json' };
const missingJob = 'job_01M8000000000000000000000Z';
const steps = (input: Record<string, unknown>) => ({ model: 'steps', input });
const tone = (input: Record<string, unknown>) => ({ model: 'tone-diffusion', input });
const nested = (depth: number, leaf: string) => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

type Send = Pick<Case, 'json' | 'raw' | 'headers' | 'auth'>;
/** A raw body sent with a content-type (JSON by default). */
const raw = (text: string, type = 'application/json'): Send => ({
  raw: text,
  headers: { 'content-type': type },
});
const expectCase = (
  name: string,
  [method, path]: readonly [string, string],
  send: Send,
  status: number,
  code: string,
  at?: string,
): Case => ({ name, method, path, ...send, status, code, ...(at === undefined ? {} : { at }) });
const invalid = (name: string, route: readonly [string, string], send: Send, at?: string) =>
  expectCase(name, route, send, 400, 'invalid_request', at);
const notFound = (name: string, route: readonly [string, string]) =>
  expectCase(name, route, {}, 404, 'not_found');

/** Malformed bodies that every JSON route answers the same way. */
function bodyCases(name: string, path: string, auth: boolean): Case[] {
  const route = ['POST', path] as const;
  const unsupported = (what: string, send: Send) =>
    expectCase(`${name}: ${what}`, route, { ...send, auth }, 415, 'unsupported_media_type');
  const malformed = (what: string, send: Send) =>
    invalid(`${name}: ${what}`, route, { ...send, auth });
  return [
    unsupported('no content-type', { raw: '{}' }),
    unsupported('text/plain', raw('{}', 'text/plain')),
    unsupported('application/jsonx', raw('{}', 'application/jsonx')),
    unsupported('a form', raw('a=1', 'application/x-www-form-urlencoded')),
    malformed('malformed JSON', raw('{"email":')),
    malformed('empty body', raw('')),
    malformed('JSON null', raw('null')),
    malformed('JSON array', raw('[]')),
    malformed('JSON string', raw('"text"')),
    malformed('JSON number', raw('42')),
    malformed('deeply nested objects', raw(nested(5_000, '1'))),
    malformed('deeply nested arrays', raw(`${'['.repeat(20_000)}${']'.repeat(20_000)}`)),
    expectCase(
      `${name}: body over the limit`,
      route,
      { json: { pad: 'x'.repeat(bodyLimit) }, auth },
      413,
      'payload_too_large',
    ),
  ];
}

const long = 'a'.repeat(5_000);
const badIds = {
  'path traversal': encodeURIComponent('../../etc/passwd'),
  'dot-dot': '%2e%2e',
  'very long': long,
  unicode: encodeURIComponent('job_ünïcødé✓'),
  'NUL byte': 'job_%00',
  'broken percent-encoding': '%E0%A4%A',
  'upper-case prefix': 'JOB_01M8000000000000000000000Z',
  'well-formed but missing': missingJob,
};

const credentialCases = (['register', 'login'] as const).flatMap((name) => {
  const route = ['POST', `/v1/auth/${name}`] as const;
  const password = 'correct horse battery';
  const email = 'a@example.test';
  const bad = (what: string, json: unknown, at?: string) =>
    invalid(`${name}: ${what}`, route, { json, auth: false }, at);
  return [
    bad('no email', { password }, 'email'),
    bad('no password', { email }, 'password'),
    bad('email is a number', { email: 42, password }, 'email'),
    bad('email is not an email', { email: 'not-an-email', password }, 'email'),
    bad('email too long', { email: `${'a'.repeat(250)}@example.test`, password }, 'email'),
    bad('password too short', { email, password: 'short' }, 'password'),
    bad('password too long', { email, password: 'p'.repeat(257) }, 'password'),
    bad('password is an object', { email, password: { $ne: '' } }, 'password'),
    bad('extra field', { email, password, admin: true }),
  ];
});

const apiKeyCases = [
  ...Object.entries({
    'no name': {},
    'empty name': { name: '' },
    'blank name': { name: '   ' },
    'name too long': { name: 'n'.repeat(101) },
    'name is a number': { name: 42 },
  }).map(([what, json]) =>
    invalid(`api-keys: ${what}`, ['POST', '/v1/api-keys'], { json }, 'name'),
  ),
  invalid('api-keys: extra field', ['POST', '/v1/api-keys'], {
    json: { name: 'ci', scope: 'all' },
  }),
  ...Object.entries(badIds).map(([what, id]) =>
    notFound(`api-keys: delete a ${what} id`, ['DELETE', `/v1/api-keys/${id}`]),
  ),
];

const createJob = ['POST', '/v1/jobs'] as const;
const jobBodyCases = (
  [
    ['no model', { input: {} }, 'model'],
    ['model is a number', { model: 42, input: {} }, 'model'],
    ['empty model', { model: '', input: {} }, 'model'],
    ['model name too long', { model: 'm'.repeat(101), input: {} }, 'model'],
    ['unknown model', { model: 'no-such-model', input: {} }, 'model'],
    ['no input', { model: 'steps' }, 'input'],
    ['input is an array', { model: 'steps', input: [] }, 'input'],
    ['input is a string', { model: 'steps', input: 'steps=1' }, 'input'],
    ['input is null', { model: 'steps', input: null }, 'input'],
    ['extra field', { model: 'steps', input: {}, priority: 'high' }, undefined],
    ['prompt missing', tone({ seed: 1 }), 'input.prompt'],
    ['prompt empty', tone({ prompt: '' }), 'input.prompt'],
    ['prompt of 501 characters', tone({ prompt: 'p'.repeat(501) }), 'input.prompt'],
    ['prompt is a number', tone({ prompt: 42 }), 'input.prompt'],
    ['duration 0', tone({ prompt: 'rain', duration: 0 }), 'input.duration'],
    ['duration 31', tone({ prompt: 'rain', duration: 31 }), 'input.duration'],
    ['duration is a string', tone({ prompt: 'rain', duration: '8' }), 'input.duration'],
    ['seed not an integer', tone({ prompt: 'rain', seed: 1.5 }), 'input.seed'],
    ['seed negative', tone({ prompt: 'rain', seed: -1 }), 'input.seed'],
    ['seed too large', tone({ prompt: 'rain', seed: 2 ** 31 }), 'input.seed'],
    ['unknown input field', tone({ prompt: 'rain', tempo: 120 }), 'input.tempo'],
    ['steps 0', steps({ steps: 0 }), 'input.steps'],
    ['steps 1001', steps({ steps: 1001 }), 'input.steps'],
    ['stepMs negative', steps({ stepMs: -1 }), 'input.stepMs'],
    ['fail is a string', steps({ fail: 'yes' }), 'input.fail'],
  ] as const
).map(([what, json, at]) => invalid(`jobs: ${what}`, createJob, { json }, at));

const jobCases = [
  ...jobBodyCases,
  invalid(
    'jobs: deeply nested input',
    createJob,
    raw(`{"model":"steps","input":${nested(5_000, '{}')}}`),
  ),
  ...Object.entries({
    empty: '',
    'of 256 characters': 'k'.repeat(256),
    'with a space': 'two words',
    'with a non-ASCII character': 'clé',
  }).map(([what, key]) =>
    invalid(`jobs: Idempotency-Key ${what}`, createJob, {
      json: steps({}),
      headers: { 'idempotency-key': key },
    }),
  ),
  ...Object.entries({
    'limit=0': 'limit',
    'limit=101': 'limit',
    'limit=abc': 'limit',
    'limit=1.5': 'limit',
    'limit=-1': 'limit',
    'status=done': 'status',
    'status=QUEUED': 'status',
    'cursor=abc': 'cursor',
    [`cursor=${encodeURIComponent('../../etc/passwd')}`]: 'cursor',
    [`cursor=${long}`]: 'cursor',
  }).map(([query, at]) =>
    invalid(`jobs: list with ${query.slice(0, 40)}`, ['GET', `/v1/jobs?${query}`], {}, at),
  ),
  ...Object.entries(badIds).flatMap(([what, id]) => [
    notFound(`jobs: get a ${what} id`, ['GET', `/v1/jobs/${id}`]),
    notFound(`jobs: cancel a ${what} id`, ['POST', `/v1/jobs/${id}/cancel`]),
    notFound(`jobs: output of a ${what} id`, ['GET', `/v1/jobs/${id}/output`]),
  ]),
];

const unknownRoutes = (
  [
    ['GET', '/'],
    ['GET', '/v1'],
    ['GET', '/v1/nope'],
    ['GET', '/v2/jobs'],
    ['POST', '/v1/health'],
    ['PUT', '/v1/jobs'],
    ['DELETE', `/v1/jobs/${missingJob}`],
    ['GET', `/v1/jobs/${missingJob}/nope`],
    ['PATCH', '/v1/me'],
    ['GET', '/v1/auth/register'],
  ] as const
).map((route) => notFound(`unknown route ${route[0]} ${route[1]}`, route));

const cases: Case[] = [
  ...bodyCases('register', '/v1/auth/register', false),
  ...bodyCases('login', '/v1/auth/login', false),
  ...bodyCases('api-keys', '/v1/api-keys', true),
  ...bodyCases('jobs', '/v1/jobs', true),
  ...credentialCases,
  ...apiKeyCases,
  ...jobCases,
  ...unknownRoutes,
];

let token: string;

it.beforeAll(async ({ api }) => {
  ({ token } = await api.signUp());
});

describe('bad input', () => {
  it.for(cases)('$name → $status $code', async (c, { api }) => {
    const res = await api.call(c.method, c.path, {
      token: c.auth === false ? undefined : token,
      body: c.raw ?? c.json,
      headers: c.headers,
    });
    expect(res.status).toBeLessThan(500);
    expectApiError(res, c.status, c.code);
    if (c.at !== undefined) {
      const paths = (res.body.error.details as { path: string }[]).map((d) => d.path);
      expect(paths).toContain(c.at);
    }
  });

  it('answers 413 to an over-limit body sent in chunks, without a content-length', async ({
    origin,
  }) => {
    const chunk = new TextEncoder().encode(`{"pad":"${'x'.repeat(1024)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > bodyLimit * 2) controller.close();
        else controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const res = await readAnswer(
      await fetch(`${origin.url}/v1/auth/register`, {
        method: 'POST',
        headers: jsonType,
        body,
        duplex: 'half',
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });
});

describe('good input at the bounds', () => {
  it('accepts the largest prompt, duration and seed, and a charset on the content-type', async ({
    api,
  }) => {
    const res = await api.call('POST', '/v1/jobs', {
      token,
      body: tone({ prompt: 'p'.repeat(500), duration: 30, seed: 2 ** 31 - 1 }),
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'idempotency-key': 'k'.repeat(255),
      },
    });
    expect(res.status).toBe(202);
    const listed = await api.call('GET', '/v1/jobs?limit=100&status=queued', { token });
    expect(listed.status).toBe(200);
    const nestedButShallow = await api.call('POST', '/v1/jobs', {
      token,
      body: `{"model":"steps","input":${nested(10, '{}')}}`,
      headers: jsonType,
    });
    // Ten levels is within the bound: the model's own schema refuses the unknown field.
    expectApiError(nestedButShallow, 400, 'invalid_request');
    expect(nestedButShallow.body.error.details).toEqual([
      expect.objectContaining({ path: 'input.a' }),
    ]);
  });
});

describe('after all that', () => {
  it('the origin is still alive, healthy, and logged no unhandled error', async ({
    api,
    origin,
  }) => {
    expect(origin.child.exitCode).toBeNull();
    const health = await api.call('GET', '/v1/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('healthy');
    expect(origin.output()).not.toContain('unhandled error');
  });
});
