/**
 * The typed client (`shared/client.ts`) against the real app in process: every method reaches
 * its operation (method and path from `endpoints`, parameters, query, headers and body from its
 * contract) and reads its answer; error answers become `ApiClientError`s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClientError, OvertureClient } from '../../../shared/client.ts';
import { inProcessApp } from './in-process-app.ts';

let client: OvertureClient;
let anonymous: OvertureClient;
let options: { baseUrl: string; fetch: typeof fetch };
let close = async () => {};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'overture-client-'));
  const built = inProcessApp(dir, { poolReady: true });
  close = async () => {
    await built.close();
    rmSync(dir, { recursive: true, force: true });
  };
  let token: string | undefined;
  options = {
    baseUrl: 'http://localhost/',
    fetch: ((input, init) => built.app.request(input as string, init)) as typeof fetch,
  };
  client = new OvertureClient({ ...options, token: () => token });
  anonymous = new OvertureClient(options);
  ({ token } = await client.register('client@example.test', 'correct horse battery'));
});
afterAll(() => close());

const refusal = (status: number, code: string) =>
  expect.objectContaining({ name: 'ApiClientError', status, code });

describe('the typed client', () => {
  it('signs in and reads the account', async () => {
    const session = await anonymous.login('CLIENT@example.test', 'correct horse battery');
    expect(session.user.email).toBe('client@example.test');
    expect(await client.me()).toMatchObject({ user: { email: 'client@example.test' } });
    await expect(anonymous.me()).rejects.toEqual(refusal(401, 'unauthorized'));
  });

  it('changes the password and signs out (204: nothing), after which the token is refused', async () => {
    const email = 'leaving@example.test';
    const first = await anonymous.register(email, 'correct horse battery');
    const leaving = new OvertureClient({ ...options, token: first.token });
    expect(
      await leaving.changePassword('correct horse battery', 'another passphrase'),
    ).toBeUndefined();
    await expect(leaving.me()).rejects.toEqual(refusal(401, 'unauthorized'));
    const again = await anonymous.login(email, 'another passphrase');
    const back = new OvertureClient({ ...options, token: again.token });
    await expect(back.changePassword('wrong password', 'x'.repeat(8))).rejects.toEqual(
      refusal(403, 'forbidden'),
    );
    expect(await back.logout()).toBeUndefined();
    await expect(back.me()).rejects.toEqual(refusal(401, 'unauthorized'));
  });

  it('creates, lists and revokes an API key (204: nothing)', async () => {
    const key = await client.createApiKey('ci');
    expect(key.key).toMatch(/^ovt_/);
    expect((await client.apiKeys()).data.map((k) => k.id)).toContain(key.id);
    expect(await client.revokeApiKey(key.id)).toBeUndefined();
    expect((await client.apiKeys()).data).toEqual([]);
  });

  it('submits a job once per Idempotency-Key, reads, lists and cancels it', async () => {
    const body = { model: 'steps', input: { steps: 1, stepMs: 0 } };
    const job = await client.createJob(body, 'client-1');
    expect(job.status).toBe('queued');
    expect((await client.createJob(body, 'client-1')).id).toBe(job.id);
    expect((await client.createJob(body)).id).not.toBe(job.id);
    expect((await client.job(job.id)).id).toBe(job.id);
    const page = await client.jobs({ limit: 1, status: 'queued' });
    expect(page.data).toHaveLength(1);
    expect(page.nextCursor).toEqual(expect.any(String));
    expect((await client.jobs({ cursor: page.nextCursor ?? '' })).data).toHaveLength(1);
    expect((await client.cancelJob(job.id)).status).toBe('canceled');
    expect(await client.webhookDeliveries(job.id)).toEqual({ data: [] });
    await expect(client.output(job.id, 'bytes=0-3')).rejects.toEqual(refusal(409, 'conflict'));
  });

  it('answers the refusals of the API as ApiClientErrors with their details', async () => {
    await expect(client.job('job_0000000000000000000000')).rejects.toEqual(
      refusal(404, 'not_found'),
    );
    const invalid = await client.createJob({ model: '', input: {} }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ApiClientError);
    expect((invalid as ApiClientError).details).toEqual([
      expect.objectContaining({ path: 'model' }),
    ]);
    expect((invalid as ApiClientError).requestId).toEqual(expect.any(String));
  });

  it('reads billing, the webhook secret, the models, the health and the stats', async () => {
    expect((await client.packs()).mode).toBe('free');
    expect(await client.ledger()).toMatchObject({ mode: 'free', balance: expect.any(Number) });
    await expect(client.checkout('small')).rejects.toEqual(refusal(409, 'billing_disabled'));
    expect((await client.webhookSecret()).secret).toMatch(/^whsec_/);
    expect((await client.models()).data.map((m) => m.id)).toContain('steps');
    expect((await client.health()).status).toBe('healthy');
    expect((await client.stats({ window: '1h' })).window).toBe('1h');
    await expect(client.stats({ scope: 'all' })).rejects.toEqual(refusal(403, 'forbidden'));
    expect((await client.call('getOpenApi')).openapi).toMatch(/^3\.1\./);
  });
});
