/**
 * No answer to a request that may have written leaves before the store says its writes are
 * on disk (`store.durable()`, the shared WAL fsync): the real app, a real SQLite store, and a
 * `durable()` held shut by the test. A power loss cannot be tested here; the order can.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../../origin/http/context.ts';
import type { Job } from '../../../shared/schemas/jobs.ts';
import type { ApiAnswer } from '../../helpers/api.ts';
import { call, inProcessApp } from './in-process-app.ts';

/** A `durable()` that the test opens, shuts, or makes fail; it counts its calls. */
function heldDurable(real: () => Promise<void>) {
  let open: () => void = () => {};
  let fail: (error: Error) => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const held = {
    calls: 0,
    durable: async () => {
      held.calls++;
      await gate;
      await real();
    },
    shut() {
      gate = new Promise<void>((resolve, reject) => {
        open = resolve;
        fail = reject;
      });
      gate.catch(() => undefined);
    },
    open: () => open(),
    fail: (error: Error) => fail(error),
  };
  return held;
}

let app: App;
let held: ReturnType<typeof heldDurable>;
let close = async () => {};
let token: string;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'overture-durable-'));
  const built = inProcessApp(dir, {
    poolReady: true,
    store: (store) => {
      held = heldDurable(store.durable);
      return { ...store, durable: held.durable };
    },
  });
  app = built.app;
  close = async () => {
    await built.close();
    rmSync(dir, { recursive: true, force: true });
  };
});
afterAll(() => close());

/**
 * Sends with `durable()` shut: the answer must not arrive once `durable()` was asked, until
 * it is opened.
 */
async function answeredOnlyWhenDurable<T>(send: () => Promise<ApiAnswer<T>>) {
  held.shut();
  const asked = held.calls;
  let arrived = false;
  const answer = send().finally(() => {
    arrived = true;
  });
  await vi.waitFor(() => expect(held.calls).toBeGreaterThan(asked), { timeout: 5_000 });
  // Whatever the handler had left to do after asking (a few turns of the event loop).
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(arrived).toBe(false);
  held.open();
  return answer;
}

describe('an answer that acknowledges a write waits for the fsync', () => {
  it('a new account and its grant (201)', async () => {
    const res = await answeredOnlyWhenDurable(() =>
      call<{ token: string }>(app, 'POST', '/v1/auth/register', {
        body: { email: 'durable@example.test', password: 'correct horse battery' },
      }),
    );
    expect(res.status).toBe(201);
    token = res.body.token;
  });

  it('a job and its debit (202), and its replay under the same Idempotency-Key (200)', async () => {
    const send = () =>
      call<Job>(app, 'POST', '/v1/jobs', {
        token,
        body: { model: 'steps', input: { steps: 1, stepMs: 0 } },
        headers: { 'idempotency-key': 'durable-1' },
      });
    const first = await answeredOnlyWhenDurable(send);
    expect(first.status).toBe(202);
    const replay = await answeredOnlyWhenDurable(send);
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(first.body.id);
  });

  it('a cancel and its refund (200), and a second cancel of the same job (200)', async () => {
    const job = await call<Job>(app, 'POST', '/v1/jobs', {
      token,
      body: { model: 'steps', input: { steps: 1, stepMs: 0 } },
    });
    const cancel = () => call<Job>(app, 'POST', `/v1/jobs/${job.body.id}/cancel`, { token });
    const first = await answeredOnlyWhenDurable(cancel);
    expect(first.body.status).toBe('canceled');
    const second = await answeredOnlyWhenDurable(cancel);
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('canceled');
  });

  it('an API key (201) and its revocation (204)', async () => {
    const key = await answeredOnlyWhenDurable(() =>
      call<{ id: string }>(app, 'POST', '/v1/api-keys', { token, body: { name: 'ci' } }),
    );
    expect(key.status).toBe(201);
    const revoked = await answeredOnlyWhenDurable(() =>
      call(app, 'DELETE', `/v1/api-keys/${key.body.id}`, { token }),
    );
    expect(revoked.status).toBe(204);
  });

  it('an error answer to a write too (the request may have written before failing)', async () => {
    const res = await answeredOnlyWhenDurable(() =>
      call(app, 'POST', '/v1/api-keys', { token, body: { name: 42 } }),
    );
    expect(res.status).toBe(400);
  });

  it('is a 500 when the fsync fails, so the client retries', async () => {
    held.shut();
    const answer = call<{ error: { code: string } }>(app, 'POST', '/v1/api-keys', {
      token,
      body: { name: 'lost' },
    });
    await vi.waitFor(() => expect(held.calls).toBeGreaterThan(0));
    held.fail(new Error('EIO: i/o error, fsync'));
    const res = await answer;
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('internal');
  });
});

describe('a read', () => {
  it('never waits for an fsync', async () => {
    held.shut();
    const asked = held.calls;
    const me = await call(app, 'GET', '/v1/me', { token });
    expect(me.status).toBe(200);
    expect(held.calls).toBe(asked);
    held.open();
  });
});
