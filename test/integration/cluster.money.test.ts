/**
 * Money and messages across two origins on one PostgreSQL: one Stripe event delivered to
 * both at once credits once; an Idempotency-Key replayed on the other origin answers the
 * same job; two origins racing for a user's last credit accept one job; each webhook message
 * is sent once, and a dead origin's pending delivery is sent by the other.
 */
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { creditsOf } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import {
  checkoutSession,
  newPaymentIntentId,
  newSessionId,
  signStripe,
  stripeEvent,
  stripeModeEnv,
} from '../helpers/stripe.ts';
import { closedPort, startReceiver, waitForDeliveries } from '../helpers/webhook-receiver.ts';

it.override('clusterOptions', ({ stripe }) => ({
  origins: 2,
  env: {
    ...stripeModeEnv(stripe),
    POOL_THREADS: '1',
    // Credits are the bound under test here, not the per-user cap.
    USER_JOB_LIMIT: '100',
    WEBHOOK_ALLOW_INSECURE: 'true',
    WEBHOOK_RETRY_BASE_MS: '100',
    WEBHOOK_MAX_ATTEMPTS: '30',
    WEBHOOK_POLL_MS: '200',
  },
}));

/** A paid Checkout Session of the `starter` pack (50 credits, 500 usd) for `userId`. */
function paidSession(userId: string) {
  return checkoutSession({
    id: newSessionId(),
    userId,
    pack: 'starter',
    amount: 500,
    currency: 'usd',
    paymentStatus: 'paid',
    paymentIntent: newPaymentIntentId(),
  });
}

describe('a cluster of two origins: money', () => {
  it('credits one Stripe event once when both origins receive it at the same moment', async ({
    cluster,
  }) => {
    const { id: userId, token } = await cluster.api(0).signUp();
    const event = stripeEvent('checkout.session.completed', paidSession(userId));
    const body = JSON.stringify(event);
    const deliver = (i: number) =>
      cluster.api(i).call('POST', '/v1/webhooks/stripe', {
        body,
        headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body) },
      });
    const answers = await Promise.all([deliver(0), deliver(1), deliver(0), deliver(1)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(await creditsOf(cluster.api(1), token)).toBe(50);
    const ledger = await cluster.api(0).call('GET', '/v1/billing/ledger', { token });
    expect(
      ledger.body.data.filter((e: { reason: string }) => e.reason === 'purchase'),
    ).toHaveLength(1);
  });

  it('answers the same job for an Idempotency-Key replayed on the other origin, charged once', async ({
    cluster,
  }) => {
    const { id: userId, token } = await cluster.api(0).signUp();
    const body = JSON.stringify(stripeEvent('checkout.session.completed', paidSession(userId)));
    await cluster.api(0).call('POST', '/v1/webhooks/stripe', {
      body,
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body) },
    });
    const request = { model: 'steps', input: { steps: 1, stepMs: 0 } };
    const headers = { 'idempotency-key': `replay-${userId}` };
    const [a, b] = await Promise.all([
      cluster.api(0).call<Job>('POST', '/v1/jobs', { token, body: request, headers }),
      cluster.api(1).call<Job>('POST', '/v1/jobs', { token, body: request, headers }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 202]);
    expect(a.body.id).toBe(b.body.id);
    const later = await cluster
      .api(1)
      .call<Job>('POST', '/v1/jobs', { token, body: request, headers });
    expect(later).toMatchObject({ status: 200, body: { id: a.body.id } });
    expect(await creditsOf(cluster.api(0), token)).toBe(49);
  });

  it("accepts one job for a user's last credit when both origins are asked at once", async ({
    cluster,
  }) => {
    const { id: userId, token } = await cluster.api(0).signUp();
    const body = JSON.stringify(stripeEvent('checkout.session.completed', paidSession(userId)));
    await cluster.api(1).call('POST', '/v1/webhooks/stripe', {
      body,
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body) },
    });
    const request = { model: 'steps', input: { steps: 1, stepMs: 0 } };
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        cluster.api(i % 2).call('POST', '/v1/jobs', { token, body: request }),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(50);
    expect(answers.filter((a) => a.status === 402)).toHaveLength(10);
    expect(await creditsOf(cluster.api(0), token)).toBe(0);
  });
});

describe('a cluster of two origins: webhook messages', () => {
  it('sends each message once, whichever origin ran the job', async ({ cluster }) => {
    const receiver = await startReceiver(() => 200);
    const { id: userId, token } = await cluster.api(0).signUp();
    const body = JSON.stringify(stripeEvent('checkout.session.completed', paidSession(userId)));
    await cluster.api(0).call('POST', '/v1/webhooks/stripe', {
      body,
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body) },
    });
    const jobs: Job[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await cluster.api(i % 2).call<Job>('POST', '/v1/jobs', {
        token,
        body: {
          model: 'steps',
          input: { steps: 2, stepMs: 5 },
          webhook: { url: `${receiver.url}/hooks`, events: ['started', 'succeeded'] },
        },
      });
      expect(res.status).toBe(202);
      jobs.push(res.body);
    }
    const hits = await receiver.waitForCount(20, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.received).toHaveLength(20);
    const ids = hits.map((h) => h.headers['webhook-id']);
    expect(new Set(ids).size).toBe(20);
    for (const job of jobs) {
      const delivered = await waitForDeliveries(
        cluster.api(1),
        token,
        job.id,
        (ds) => ds.length === 2 && ds.every((d) => d.status === 'delivered'),
      );
      expect(delivered.map((d) => d.attempts)).toEqual([1, 1]);
    }
  });

  it("sends a dead origin's pending delivery from the survivor", async ({ cluster }) => {
    const port = await closedPort();
    const victim = await cluster.add('origin-webhook-victim', { env: { POOL_THREADS: '1' } });
    const api = cluster.api(cluster.origins.indexOf(victim));
    const { id: userId, token } = await api.signUp();
    const body = JSON.stringify(stripeEvent('checkout.session.completed', paidSession(userId)));
    await api.call('POST', '/v1/webhooks/stripe', {
      body,
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body) },
    });
    // The cancel commits on the victim, which writes the delivery and tries it while the
    // receiver is down: it fails, and stays pending for a retry.
    const created = await api.call<Job>('POST', '/v1/jobs', {
      token,
      body: {
        model: 'steps',
        input: { steps: 200, stepMs: 25 },
        webhook: { url: `http://127.0.0.1:${port}/hooks`, events: ['canceled'] },
      },
    });
    expect(created.status).toBe(202);
    expect((await api.call('POST', `/v1/jobs/${created.body.id}/cancel`, { token })).status).toBe(
      200,
    );
    await waitForDeliveries(api, token, created.body.id, ([d]) => (d?.attempts ?? 0) >= 1);
    await victim.kill('SIGKILL');
    cluster.origins.splice(cluster.origins.indexOf(victim), 1);

    const receiver = await startReceiver(() => 200, port);
    const [hit] = await receiver.waitForCount(1, 20_000);
    expect(JSON.parse(hit?.body ?? '{}')).toMatchObject({
      type: 'job.canceled',
      data: { id: created.body.id },
    });
    const [delivered] = await waitForDeliveries(
      cluster.api(0),
      token,
      created.body.id,
      ([d]) => d?.status === 'delivered',
    );
    expect(delivered?.status).toBe('delivered');
  });
});
