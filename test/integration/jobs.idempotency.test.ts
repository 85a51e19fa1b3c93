import { describe, expect } from 'vitest';
import type { Api } from '../helpers/api.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';

const input = { steps: 1, stepMs: 0 };

function post(api: Api, token: string, key: string, body: unknown) {
  return api.call('POST', '/v1/jobs', {
    token,
    body,
    headers: { 'idempotency-key': key },
  });
}

describe('Idempotency-Key', () => {
  it('answers the first job again (200) for the same key and body, charging once', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const key = `key-${crypto.randomUUID()}`;
    const first = await post(api, token, key, { model: 'steps', input });
    expect(first.status).toBe(202);
    // The same request with its keys in another order is the same request.
    const second = await post(api, token, key, { input: { stepMs: 0, steps: 1 }, model: 'steps' });
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(await creditsOf(api, token)).toBe(19);

    // Replayed after the job ended: the same job, as it is now.
    await api.waitForJob(token, first.body.id);
    const third = await post(api, token, key, { model: 'steps', input });
    expect(third.status).toBe(200);
    expect(third.body).toMatchObject({ id: first.body.id, status: 'succeeded' });
    const list = await api.call('GET', '/v1/jobs', { token });
    expect(list.body.data).toHaveLength(1);
    expect(await creditsOf(api, token)).toBe(19);
  });

  it('refuses the same key with another body (409), charging nothing', async ({ api }) => {
    const { token } = await api.signUp();
    const key = `key-${crypto.randomUUID()}`;
    const first = await post(api, token, key, { model: 'steps', input });
    const other = await post(api, token, key, { model: 'steps', input: { ...input, steps: 2 } });
    expectApiError(other, 409, 'conflict');
    expect(other.body.error.details).toEqual({ jobId: first.body.id });
    expect(await creditsOf(api, token)).toBe(19);
  });

  it('gives another user their own job for the same key', async ({ api }) => {
    const alice = await api.signUp();
    const bob = await api.signUp();
    const key = `shared-${crypto.randomUUID()}`;
    const a = await post(api, alice.token, key, { model: 'steps', input });
    const b = await post(api, bob.token, key, { model: 'steps', input });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.id).not.toBe(a.body.id);
    expect(await creditsOf(api, alice.token)).toBe(19);
    expect(await creditsOf(api, bob.token)).toBe(19);
  });

  it('makes one job of concurrent duplicate requests', async ({ api }) => {
    const { token } = await api.signUp();
    const key = `burst-${crypto.randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => post(api, token, key, { model: 'steps', input })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await creditsOf(api, token)).toBe(19);
    const list = await api.call('GET', '/v1/jobs', { token });
    expect(list.body.data).toHaveLength(1);
  });

  it('makes a new job for each request without a key', async ({ api }) => {
    const { token } = await api.signUp();
    const a = await submitJob(api, token, 'steps', input);
    const b = await submitJob(api, token, 'steps', input);
    expect(b.id).not.toBe(a.id);
    expect(await creditsOf(api, token)).toBe(18);
  });
});
