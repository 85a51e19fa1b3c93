import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../origin/http/context.ts';
import { closedAnswers, openApiDocument } from '../../../origin/http/openapi.ts';
import type { Store } from '../../../origin/store/store.ts';
import { endpoints, type OperationId } from '../../../shared/api/endpoints.ts';
import type { ApiAnswer } from '../../helpers/api.ts';
import {
  documentAjv,
  expectDocumented,
  type OpenApiDocument,
  pointer,
} from '../../helpers/openapi.ts';
import { call as callApp, inProcessApp, inProcessVersion } from './in-process-app.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read answer bodies loosely; each asserts the fields it needs.
type Body = any;

const call = (
  app: App,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
) => callApp<Body>(app, method, path, options);

/** Every `$ref` in the document, with where it is. */
function refsOf(node: unknown, at = '#'): { at: string; ref: string }[] {
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string'
      ? [{ at, ref: value }]
      : refsOf(value, `${at}/${key}`),
  );
}

/** Resolves a local JSON pointer reference (`#/a/b`) in the document. */
function resolve(doc: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((p) => decodeURIComponent(p).replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>(
      (node, part) =>
        node !== null && typeof node === 'object' ? (node as OpenApiDocument)[part] : undefined,
      doc,
    );
}

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/** `/v1/jobs/:id` as OpenAPI writes it: `/v1/jobs/{id}`. */
const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z]+)/g, '{$1}');

/** Every operation of the document, with its method and path. */
const operationsOf = (doc: OpenApiDocument) =>
  Object.entries(doc.paths as OpenApiDocument).flatMap(([path, item]) =>
    Object.entries(item as OpenApiDocument)
      .filter(([method]) => methods.includes(method))
      .map(([method, op]) => ({ method, path, op: op as OpenApiDocument })),
  );

describe('the OpenAPI document', () => {
  const adminEmail = 'admin@example.test';
  let app: App;
  let store: Store;
  let doc: OpenApiDocument;
  let ajv: ReturnType<typeof documentAjv>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overture-openapi-'));
    const built = inProcessApp(dir);
    ({ app, store } = built);
    const res = await call(app, 'GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
    ajv = documentAjv(doc);
    return async () => {
      await built.close();
      rmSync(dir, { recursive: true, force: true });
    };
  });

  it('is served without auth, as JSON, and is what the contracts generate', async () => {
    expect(doc).toEqual(openApiDocument(app, inProcessVersion));
    expect(doc.info).toMatchObject({ title: 'Overture API', version: inProcessVersion });
  });

  it('lists exactly the (method, path) pairs the app registers', () => {
    const registered = new Set(
      app.routes
        // Middleware (`app.use`) registers as ALL; /healthz is the process's own probe.
        .filter((r) => r.method !== 'ALL' && r.path !== '/healthz')
        .map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const documented = new Set(
      operationsOf(doc).map(({ method, path }) => `${method.toUpperCase()} ${path}`),
    );
    expect([...documented].sort()).toEqual([...registered].sort());
    expect(documented.size).toBe(Object.keys(endpoints).length);
    // Each under its operationId's one method and path.
    for (const { method, path, op } of operationsOf(doc)) {
      expect(endpoints[op.operationId as OperationId], op.operationId).toEqual({ method, path });
    }
  });

  it('asks for a token on exactly the operations it documents with security', async () => {
    const { token } = (
      await call(app, 'POST', '/v1/auth/register', {
        body: { email: 'security@example.test', password: 'correct horse battery' },
      })
    ).body;
    // Signing out ends the token every other operation is called with: it goes last.
    const last = (o: { op: OpenApiDocument }) => Number(o.op.operationId === 'logout');
    for (const { method, path, op } of operationsOf(doc).sort((a, b) => last(a) - last(b))) {
      const where = `${method} ${path}`;
      const url = path.replace(/\{\w+\}/g, 'job_0000000000000000000000');
      const body = op.requestBody ? {} : undefined;
      const without = await call(app, method.toUpperCase(), url, { body });
      const secured = (op.security ?? []).length > 0;
      expect(without.status === 401, `${where} → ${without.status}`).toBe(secured);
      if (secured) expect(without.body.error.code, where).toBe('unauthorized');
      const withToken = await call(app, method.toUpperCase(), url, { token, body });
      expect(withToken.status, where).not.toBe(401);
    }
  });

  it('names no component that is itself nullable (a nullable use is an anyOf with null)', () => {
    for (const [name, schema] of Object.entries(doc.components.schemas as OpenApiDocument)) {
      expect([schema.type].flat(), name).not.toContain('null');
    }
    expect(doc.components.schemas.Job.properties.error).toEqual({
      anyOf: [{ $ref: '#/components/schemas/JobError' }, { type: 'null' }],
    });
  });

  it('has the shape of OpenAPI 3.1: version, info, operations with responses', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toEqual(expect.any(String));
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as OpenApiDocument)) {
      expect(path).toMatch(/^\/v1\//);
      for (const [method, op] of Object.entries(item as OpenApiDocument)) {
        const where = `${method} ${path}`;
        expect(methods, where).toContain(method);
        expect(ids.has(op.operationId), `duplicate operationId at ${where}`).toBe(false);
        ids.add(op.operationId);
        const statuses = Object.keys(op.responses ?? {});
        expect(statuses.length, where).toBeGreaterThan(0);
        expect(
          statuses.some((s) => /^2\d\d$/.test(s)),
          where,
        ).toBe(true);
        for (const status of statuses) {
          expect(status, where).toMatch(/^[1-5]\d\d$/);
          expect(op.responses[status].description, `${where} ${status}`).toEqual(
            expect.any(String),
          );
        }
        // Every templated segment is a required path parameter, and nothing more.
        const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const inPath = (op.parameters ?? []).filter((p: OpenApiDocument) => p.in === 'path');
        expect(inPath.map((p: OpenApiDocument) => p.name).sort(), where).toEqual(templated.sort());
        for (const p of inPath) expect(p.required, where).toBe(true);
        for (const requirement of op.security ?? []) {
          for (const scheme of Object.keys(requirement)) {
            expect(doc.components.securitySchemes[scheme], where).toBeDefined();
          }
        }
      }
    }
  });

  it('resolves every $ref, and every schema compiles as JSON Schema 2020-12', () => {
    const refs = refsOf(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const { at, ref } of refs) {
      expect(resolve(doc, ref), `${ref} at ${at}`).toBeDefined();
    }
    for (const name of Object.keys(doc.components.schemas)) {
      expect(
        () =>
          ajv.getSchema(
            `https://overture.test/openapi.json${pointer('components', 'schemas', name)}`,
          ),
        name,
      ).not.toThrow();
    }
  });

  it('describes the app’s real answers (auth, keys, billing, stats, errors)', async () => {
    const check = (method: string, path: string, res: ApiAnswer) =>
      expectDocumented(ajv, doc, method, path, res);
    const credentials = { email: 'someone@example.test', password: 'correct horse battery' };

    const registered = await call(app, 'POST', '/v1/auth/register', { body: credentials });
    check('post', '/v1/auth/register', registered);
    const token = registered.body.token as string;
    check(
      'post',
      '/v1/auth/register',
      await call(app, 'POST', '/v1/auth/register', { body: credentials }),
    );
    check(
      'post',
      '/v1/auth/login',
      await call(app, 'POST', '/v1/auth/login', { body: credentials }),
    );
    check(
      'post',
      '/v1/auth/login',
      await call(app, 'POST', '/v1/auth/login', { body: { email: 'x' } }),
    );
    check('get', '/v1/me', await call(app, 'GET', '/v1/me', { token }));
    check('get', '/v1/me', await call(app, 'GET', '/v1/me'));

    const key = await call(app, 'POST', '/v1/api-keys', { token, body: { name: 'ci' } });
    check('post', '/v1/api-keys', key);
    check('get', '/v1/api-keys', await call(app, 'GET', '/v1/api-keys', { token: key.body.key }));
    check(
      'delete',
      '/v1/api-keys/{id}',
      await call(app, 'DELETE', `/v1/api-keys/${key.body.id}`, { token }),
    );
    check(
      'delete',
      '/v1/api-keys/{id}',
      await call(app, 'DELETE', `/v1/api-keys/${key.body.id}`, { token }),
    );

    check('get', '/v1/billing/packs', await call(app, 'GET', '/v1/billing/packs'));
    check('get', '/v1/billing/ledger', await call(app, 'GET', '/v1/billing/ledger', { token }));
    check(
      'post',
      '/v1/billing/checkout',
      await call(app, 'POST', '/v1/billing/checkout', { token, body: { pack: 'small' } }),
    );
    check('get', '/v1/webhooks/secret', await call(app, 'GET', '/v1/webhooks/secret', { token }));
    check('get', '/v1/models', await call(app, 'GET', '/v1/models'));
    check('get', '/v1/health', await call(app, 'GET', '/v1/health'));

    const job = { model: 'steps', input: {} };
    check('post', '/v1/jobs', await call(app, 'POST', '/v1/jobs', { token, body: job }));
    check('get', '/v1/jobs', await call(app, 'GET', '/v1/jobs?limit=5', { token }));
    check('get', '/v1/jobs', await call(app, 'GET', '/v1/jobs?limit=500', { token }));
    check(
      'get',
      '/v1/jobs/{id}',
      await call(app, 'GET', '/v1/jobs/job_0000000000000000000000', { token }),
    );

    check('get', '/v1/stats', await call(app, 'GET', '/v1/stats?window=7d', { token }));
    check('get', '/v1/stats', await call(app, 'GET', '/v1/stats?window=7d&bucket=auto', { token }));
    check('get', '/v1/stats', await call(app, 'GET', '/v1/stats?window=7d&bucket=1m', { token }));
    check('get', '/v1/usage', await call(app, 'GET', '/v1/usage', { token }));
    check('get', '/v1/usage', await call(app, 'GET', '/v1/usage?days=0', { token }));
    check('get', '/v1/usage', await call(app, 'GET', '/v1/usage'));
    check(
      'post',
      '/v1/auth/logout',
      await call(app, 'POST', '/v1/auth/logout', { token: key.body.key }),
    );
    const password = { currentPassword: 'not the password', newPassword: 'another passphrase' };
    check(
      'post',
      '/v1/auth/password',
      await call(app, 'POST', '/v1/auth/password', { token, body: password }),
    );
    check(
      'post',
      '/v1/auth/password',
      await call(app, 'POST', '/v1/auth/password', { token, body: { currentPassword: 'x' } }),
    );
    const other = await call(app, 'POST', '/v1/auth/register', {
      body: { email: 'leaving@example.test', password: 'correct horse battery' },
    });
    const changed = await call(app, 'POST', '/v1/auth/password', {
      token: other.body.token,
      body: { currentPassword: 'correct horse battery', newPassword: 'another passphrase' },
    });
    expect(changed.status).toBe(204);
    check('post', '/v1/auth/password', changed);
    const relogged = await call(app, 'POST', '/v1/auth/login', {
      body: { email: 'leaving@example.test', password: 'another passphrase' },
    });
    const out = await call(app, 'POST', '/v1/auth/logout', { token: relogged.body.token });
    expect(out.status).toBe(204);
    check('post', '/v1/auth/logout', out);
    check(
      'post',
      '/v1/auth/logout',
      await call(app, 'POST', '/v1/auth/logout', { token: relogged.body.token }),
    );
    check('get', '/v1/stats', await call(app, 'GET', '/v1/stats?scope=all', { token }));
    check('get', '/v1/stats', await call(app, 'GET', '/v1/stats?window=1y', { token }));
    const admin = await call(app, 'POST', '/v1/auth/register', {
      body: { email: adminEmail, password: 'correct horse battery' },
    });
    expect(await store.accounts.setAdmin(adminEmail, true)).toBe(true);
    const all = await call(app, 'GET', '/v1/stats?scope=all', { token: admin.body.token });
    expect(all.status).toBe(200);
    check('get', '/v1/stats', all);
    const series = await call(app, 'GET', '/v1/stats?scope=all&window=1h&bucket=5m', {
      token: admin.body.token,
    });
    expect(series.status).toBe(200);
    expect(series.body.now).toBeDefined();
    check('get', '/v1/stats', series);
  });

  it('leaves answers open to new fields, but lists every field the app writes today', async () => {
    const open = doc.components.schemas.Job;
    expect(open.additionalProperties).toBeUndefined();
    const closed = closedAnswers(doc);
    const closedAjv = documentAjv(closed);
    const { token } = (
      await call(app, 'POST', '/v1/auth/register', {
        body: { email: 'closed@example.test', password: 'correct horse battery' },
      })
    ).body;
    const me = await call(app, 'GET', '/v1/me', { token });
    const grown = { ...me, body: { ...me.body, addedLater: 1 } };
    expectDocumented(closedAjv, closed, 'get', '/v1/me', me);
    expectDocumented(ajv, doc, 'get', '/v1/me', grown);
    expect(() => expectDocumented(closedAjv, closed, 'get', '/v1/me', grown)).toThrow(
      /addedLater|additional properties/,
    );
  });
});
