/**
 * How a request that its route's contract refuses is answered: the JSON body reader (415, strict
 * UTF-8, depth) in front of @hono/zod-openapi's validators, whose failures the app's
 * `defaultHook` turns into the API's errors. The real app on a real store, in process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../origin/http/context.ts';
import { maxJsonDepth } from '../../../origin/http/validation.ts';
import type { ErrorBody } from '../../../shared/errors.ts';
import { call, inProcessApp } from './in-process-app.ts';

let app: App;
let token: string;
let close = async () => {};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'overture-validation-'));
  const built = inProcessApp(dir);
  app = built.app;
  close = async () => {
    await built.close();
    rmSync(dir, { recursive: true, force: true });
  };
  ({ token } = (
    await call<{ token: string }>(app, 'POST', '/v1/auth/register', {
      body: { email: 'validation@example.test', password: 'correct horse battery' },
    })
  ).body);
});
afterAll(() => close());

/** Sends `body` as it is, with `type` as its content-type (none when undefined). */
async function send(path: string, body: BodyInit, type?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (type !== undefined) headers['content-type'] = type;
  const res = await app.request(`http://localhost${path}`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as ErrorBody };
}

const nested = (depth: number) => `{"name":${'{"a":'.repeat(depth - 1)}1${'}'.repeat(depth)}`;

describe('a JSON body', () => {
  it.each([
    ['none', undefined],
    ['text/plain', 'text/plain'],
    ['application/jsonx', 'application/jsonx'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['a malformed parameter', 'application/json;'],
  ])('not sent as application/json (%s) is a 415, in our words', async (_, type) => {
    const res = await send('/v1/api-keys', '{"name":"ci"}', type);
    expect(res).toEqual({
      status: 415,
      body: {
        error: {
          code: 'unsupported_media_type',
          message: 'Send the body as application/json.',
          requestId: expect.any(String),
        },
      },
    });
  });

  it('is read with a charset parameter', async () => {
    const res = await send('/v1/api-keys', '{"name":"ci"}', 'application/json; charset=utf-8');
    expect(res.status).toBe(201);
  });

  it.each([
    ['not UTF-8', new Uint8Array([0x7b, 0xc0, 0xaf, 0x7d]), 'The body is not valid UTF-8.'],
    ['not JSON', '{"name":', 'The body is not valid JSON.'],
    [
      `nesting deeper than ${maxJsonDepth}`,
      nested(maxJsonDepth + 1),
      `The body nests deeper than ${maxJsonDepth} levels.`,
    ],
  ])('%s is a 400 before any schema sees it', async (_, body, message) => {
    const res = await send('/v1/api-keys', body, 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', message });
    expect(res.body.error.details).toBeUndefined();
  });

  it(`nesting ${maxJsonDepth} deep reaches the schema`, async () => {
    const res = await send('/v1/api-keys', nested(maxJsonDepth), 'application/json');
    expect(res.body.error).toMatchObject({
      code: 'invalid_request',
      message: 'The body is not valid.',
      details: [{ path: 'name', code: 'invalid_type', message: expect.any(String) }],
    });
  });

  it('over the body limit is a 413', async () => {
    const res = await call(app, 'POST', '/v1/api-keys', {
      token,
      body: { name: 'x'.repeat(70 * 1024) },
    });
    expect(res.status).toBe(413);
    expect((res.body as ErrorBody).error.code).toBe('payload_too_large');
  });
});

describe('a part that fails its schema', () => {
  const errorOf = async (method: string, path: string, options: Parameters<typeof call>[3]) => {
    const res = await call<ErrorBody>(app, method, path, { token, ...options });
    return { status: res.status, error: res.body.error };
  };

  it('is a 400 listing every issue of the body, with its path, message and code', async () => {
    const res = await errorOf('POST', '/v1/jobs', { body: { model: '', input: [], extra: 1 } });
    expect(res.status).toBe(400);
    expect(res.error.message).toBe('The body is not valid.');
    expect(res.error.details).toEqual(
      expect.arrayContaining([
        { path: 'model', message: expect.any(String), code: 'too_small' },
        { path: 'input', message: expect.any(String), code: 'invalid_type' },
        { path: '(root)', message: expect.any(String), code: 'unrecognized_keys' },
      ]),
    );
  });

  it('is a 400 for a query and for a header, named as such', async () => {
    expect(await errorOf('GET', '/v1/jobs?limit=500', {})).toMatchObject({
      status: 400,
      error: { message: 'The query is not valid.', details: [{ path: 'limit' }] },
    });
    const header = await errorOf('POST', '/v1/jobs', {
      body: { model: 'steps', input: {} },
      headers: { 'idempotency-key': 'two words' },
    });
    expect(header).toMatchObject({
      status: 400,
      error: { message: 'A header is not valid.', details: [{ path: 'Idempotency-Key' }] },
    });
  });

  it('is a 404 for a path id that cannot be one', async () => {
    for (const id of ['nope', '..%2F..%2Fetc', 'JOB_0000000000000000000000']) {
      expect(await errorOf('GET', `/v1/jobs/${id}`, {})).toMatchObject({
        status: 404,
        error: { code: 'not_found', message: 'No such id.' },
      });
    }
  });
});
