import { describe, expect } from 'vitest';
import { closedAnswers } from '../../origin/http/openapi.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import type { ApiAnswer } from '../helpers/api.ts';
import { submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { documentAjv, expectDocumented, type OpenApiDocument } from '../helpers/openapi.ts';
import { allSettled, startReceiver, waitForDeliveries } from '../helpers/webhook-receiver.ts';

it.override({ originOptions: { env: { WEBHOOK_ALLOW_INSECURE: 'true' } } });

/**
 * A running origin's answers, checked against the document it serves, and against the
 * closed variant of that same document (answers with no field the document does not list).
 */
describe('the OpenAPI document describes a running origin', () => {
  let doc: OpenApiDocument;
  let check: (method: string, path: string, res: ApiAnswer) => void;
  let token: string;

  it.beforeAll(async ({ api }) => {
    const res = await api.call('GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
    const ajv = documentAjv(doc);
    const closed = closedAnswers(doc);
    const closedAjv = documentAjv(closed);
    check = (method, path, answer) => {
      expectDocumented(ajv, doc, method, path, answer);
      expectDocumented(closedAjv, closed, method, path, answer);
    };
    ({ token } = await api.signUp());
  });

  it('documents the origin it came from', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('health, models and the life of a job: queued, replayed, succeeded, its file', async ({
    api,
  }) => {
    check('get', '/v1/health', await api.call('GET', '/v1/health'));
    check('get', '/v1/models', await api.call('GET', '/v1/models'));

    const body = { model: 'steps', input: { steps: 2, stepMs: 5 } };
    const headers = { 'idempotency-key': `openapi-${Date.now()}` };
    const created = await api.call<Job>('POST', '/v1/jobs', { token, body, headers });
    expect(created.status).toBe(202);
    check('post', '/v1/jobs', created);
    check('post', '/v1/jobs', await api.call('POST', '/v1/jobs', { token, body, headers }));
    check(
      'post',
      '/v1/jobs',
      await api.call('POST', '/v1/jobs', { token, body: { model: 'nope', input: {} } }),
    );
    const id = created.body.id;

    const done = await api.waitForJob(token, id);
    expect(done.status).toBe('succeeded');
    check('get', '/v1/jobs/{id}', await api.call('GET', `/v1/jobs/${id}`, { token }));
    check('get', '/v1/jobs', await api.call('GET', '/v1/jobs?limit=1', { token }));
    check(
      'post',
      '/v1/jobs/{id}/cancel',
      await api.call('POST', `/v1/jobs/${id}/cancel`, { token }),
    );

    const output = `/v1/jobs/${id}/output`;
    const file = await api.call('GET', output, { token });
    check('get', '/v1/jobs/{id}/output', file);
    const etag = file.headers.get('etag') ?? '';
    check(
      'get',
      '/v1/jobs/{id}/output',
      await api.call('GET', output, { token, headers: { range: 'bytes=0-3' } }),
    );
    check(
      'get',
      '/v1/jobs/{id}/output',
      await api.call('GET', output, { token, headers: { 'if-none-match': etag } }),
    );
    check(
      'get',
      '/v1/jobs/{id}/output',
      await api.call('GET', output, { token, headers: { range: 'bytes=999999-' } }),
    );
  });

  it('a failed job, a canceled one, and errors by status', async ({ api }) => {
    const failed = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0, fail: true });
    const long = await submitJob(api, token, 'steps', { steps: 500, stepMs: 20 });
    check(
      'post',
      '/v1/jobs/{id}/cancel',
      await api.call('POST', `/v1/jobs/${long.id}/cancel`, { token }),
    );
    await api.waitForJob(token, failed.id);
    const shown = await api.call<Job>('GET', `/v1/jobs/${failed.id}`, { token });
    expect(shown.body.error?.code).toBe('model_error');
    check('get', '/v1/jobs/{id}', shown);
    check(
      'get',
      '/v1/jobs/{id}/output',
      await api.call('GET', `/v1/jobs/${failed.id}/output`, { token }),
    );
    check(
      'get',
      '/v1/jobs/{id}',
      await api.call('GET', '/v1/jobs/job_0000000000000000000000', { token }),
    );
    check('get', '/v1/jobs/{id}', await api.call('GET', `/v1/jobs/${failed.id}`));
    check('get', '/v1/stats', await api.call('GET', '/v1/stats?window=1h', { token }));
    check('get', '/v1/stats', await api.call('GET', '/v1/stats?window=1h&bucket=5m', { token }));
    check('get', '/v1/usage', await api.call('GET', '/v1/usage?days=7', { token }));
  });

  it('webhook deliveries and the signing secret', async ({ api }) => {
    const receiver = await startReceiver(() => 204);
    const res = await api.call<Job>('POST', '/v1/jobs', {
      token,
      body: { model: 'steps', input: { steps: 1, stepMs: 0 }, webhook: { url: receiver.url } },
    });
    check('post', '/v1/jobs', res);
    await api.waitForJob(token, res.body.id);
    await waitForDeliveries(api, token, res.body.id, allSettled);
    const path = `/v1/jobs/${res.body.id}/webhook-deliveries`;
    const deliveries = await api.call('GET', path, { token });
    expect(deliveries.body.data[0]).toMatchObject({ status: 'delivered', lastStatusCode: 204 });
    check('get', '/v1/jobs/{id}/webhook-deliveries', deliveries);
    check('get', '/v1/webhooks/secret', await api.call('GET', '/v1/webhooks/secret', { token }));
  });
});
