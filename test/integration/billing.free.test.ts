/**
 * Free billing mode (no Stripe keys) on real origin processes: the sign-up grant, the
 * `mode: "free"` answers, checkout refused, and the ledger through jobs: the last credit
 * raced by concurrent requests, refunds of failed and canceled jobs, idempotent replays.
 */
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { type Api, apiClient } from '../helpers/api.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { test } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { checkoutSession, signStripe, stripeEvent } from '../helpers/stripe.ts';

/** A grant no default could produce by chance. */
const grant = 37;
const env = { MODEL_DIR: fixtureModels, POOL_THREADS: '1' };

const it = test.extend('lastCreditApi', { scope: 'file' }, async ({ fileOrigins }) => {
  /** A second origin whose accounts start with exactly one credit. */
  const lastCredit = await fileOrigins.start({ env: { ...env, FREE_GRANT_CREDITS: '1' } });
  return apiClient(lastCredit.url);
});
it.override({ originOptions: { env: { ...env, FREE_GRANT_CREDITS: String(grant) } } });

async function ledgerOf(client: Api, token: string) {
  const res = await client.call('GET', '/v1/billing/ledger', { token });
  expect(res.status).toBe(200);
  return res.body as {
    mode: string;
    balance: number;
    data: { delta: number; reason: string; reference: string }[];
  };
}

/** The ledger rows as `reason:reference delta`, oldest first; and checks they sum to the balance. */
async function rowsOf(client: Api, token: string): Promise<string[]> {
  const { data, balance } = await ledgerOf(client, token);
  expect(data.reduce((sum, e) => sum + e.delta, 0)).toBe(balance);
  expect(await creditsOf(client, token)).toBe(balance);
  return data.reverse().map((e) => `${e.reason}:${e.reference} ${e.delta}`);
}

describe('free mode', () => {
  it('grants FREE_GRANT_CREDITS at sign-up, as a grant row of the ledger', async ({ api }) => {
    const user = await api.signUp();
    expect(await creditsOf(api, user.token)).toBe(grant);
    const ledger = await ledgerOf(api, user.token);
    expect(ledger).toMatchObject({ mode: 'free', balance: grant });
    expect(ledger.data).toEqual([
      {
        id: expect.any(Number),
        delta: grant,
        reason: 'grant',
        reference: user.id,
        createdAt: expect.any(String),
      },
    ]);
  });

  it('says mode free on the packs, and refuses checkout with 409 billing_disabled', async ({
    api,
  }) => {
    const packs = await api.call('GET', '/v1/billing/packs');
    expect(packs.status).toBe(200);
    expect(packs.body).toMatchObject({ mode: 'free', signupGrant: grant });
    const { token } = await api.signUp();
    const res = await api.call('POST', '/v1/billing/checkout', {
      token,
      body: { pack: 'starter' },
    });
    expectApiError(res, 409, 'billing_disabled');
    expect(await creditsOf(api, token)).toBe(grant);
  });

  it('credits nothing for a Stripe event, however it is signed', async ({ api }) => {
    const user = await api.signUp();
    const session = checkoutSession({ userId: user.id, pack: 'starter', amount: 500 });
    const body = JSON.stringify(stripeEvent('checkout.session.completed', session));
    const res = await api.call('POST', '/v1/webhooks/stripe', {
      body,
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body) },
    });
    expectApiError(res, 409, 'billing_disabled');
    expect(await creditsOf(api, user.token)).toBe(grant);
  });
});

describe('the last credit', () => {
  it('goes to exactly one of 20 concurrent job requests', async ({ lastCreditApi }) => {
    const { token } = await lastCreditApi.signUp();
    expect(await creditsOf(lastCreditApi, token)).toBe(1);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        lastCreditApi.call<Job>('POST', '/v1/jobs', {
          token,
          body: { model: 'steps', input: { steps: 1, stepMs: 0 } },
        }),
      ),
    );
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted).toHaveLength(1);
    for (const refused of answers.filter((a) => a.status !== 202)) {
      expectApiError(refused, 402, 'insufficient_credits');
    }
    const job = accepted[0]?.body as Job;
    expect((await lastCreditApi.waitForJob(token, job.id)).status).toBe('succeeded');
    expect(await creditsOf(lastCreditApi, token)).toBe(0);
    const { data } = await ledgerOf(lastCreditApi, token);
    expect(data.reduce((sum, e) => sum + e.delta, 0)).toBe(0);
    const list = await lastCreditApi.call('GET', '/v1/jobs', { token });
    expect(list.body.data).toHaveLength(1);
  });
});

describe('refunds through the ledger', () => {
  it('refunds a failed job exactly once', async ({ api }) => {
    const user = await api.signUp();
    const job = await submitJob(api, user.token, 'steps', { steps: 1, stepMs: 0, fail: true });
    expect((await api.waitForJob(user.token, job.id)).status).toBe('failed');
    // Canceling a failed job is refused, and refunds nothing more.
    expectApiError(
      await api.call('POST', `/v1/jobs/${job.id}/cancel`, { token: user.token }),
      409,
      'conflict',
    );
    expect(await rowsOf(api, user.token)).toEqual([
      `grant:${user.id} ${grant}`,
      `job:${job.id} -1`,
      `refund:${job.id} 1`,
    ]);
  });

  it('refunds a job canceled while queued exactly once, however often it is canceled', async ({
    api,
  }) => {
    const user = await api.signUp();
    // One pool thread: while this job runs, the next one waits in the queue.
    const blocker = await submitJob(api, user.token, 'steps', { steps: 1000, stepMs: 50 });
    await api.waitForJob(user.token, blocker.id, (j) => j.status === 'running');
    const queued = await submitJob(api, user.token, 'steps', { steps: 1, stepMs: 0 });
    expect(queued.status).toBe('queued');
    const cancels = await Promise.all(
      Array.from({ length: 3 }, () =>
        api.call<Job>('POST', `/v1/jobs/${queued.id}/cancel`, { token: user.token }),
      ),
    );
    for (const res of cancels) {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: queued.id, status: 'canceled', startedAt: null });
    }
    expect(await creditsOf(api, user.token)).toBe(grant - 1);
    const canceled = await api.call<Job>('POST', `/v1/jobs/${blocker.id}/cancel`, {
      token: user.token,
    });
    expect(canceled.body.status).toBe('canceled');
    const rows = await rowsOf(api, user.token);
    expect(rows.filter((r) => r.startsWith(`refund:${queued.id} `))).toEqual([
      `refund:${queued.id} 1`,
    ]);
    expect(rows.filter((r) => r.startsWith('refund:'))).toHaveLength(2);
    expect(await creditsOf(api, user.token)).toBe(grant);
  });

  it('charges an idempotent replay nothing more', async ({ api }) => {
    const user = await api.signUp();
    const headers = { 'idempotency-key': `replay-${crypto.randomUUID()}` };
    const body = { model: 'steps', input: { steps: 1, stepMs: 0 } };
    const first = await api.call<Job>('POST', '/v1/jobs', { token: user.token, body, headers });
    expect(first.status).toBe(202);
    for (let i = 0; i < 3; i++) {
      const again = await api.call<Job>('POST', '/v1/jobs', { token: user.token, body, headers });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
    }
    await api.waitForJob(user.token, first.body.id);
    expect(await rowsOf(api, user.token)).toEqual([
      `grant:${user.id} ${grant}`,
      `job:${first.body.id} -1`,
    ]);
  });
});
