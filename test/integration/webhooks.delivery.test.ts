import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Job, webhookEventKinds } from '../../shared/schemas/jobs.ts';
import type { Api } from '../helpers/api.ts';
import { it } from '../helpers/fixtures.ts';
import { verifyStandardWebhook } from '../helpers/standard-webhooks.ts';
import {
  allSettled,
  type ReceivedWebhook,
  type Responder,
  startReceiver,
  waitForDeliveries,
} from '../helpers/webhook-receiver.ts';

const retryBaseMs = 50;
const maxAttempts = 3;
it.override({
  originOptions: {
    env: {
      WEBHOOK_ALLOW_INSECURE: 'true',
      WEBHOOK_RETRY_BASE_MS: String(retryBaseMs),
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_MAX_ATTEMPTS: String(maxAttempts),
      WEBHOOK_MAX_PROGRESS_PER_JOB: '4',
      PROGRESS_INTERVAL_MS: '0',
    },
  },
});

type WebhookEvent = (typeof webhookEventKinds)[number];

/** A user, a receiver answering with `respond`, and a `steps` job that reports to it. */
async function jobWithWebhook(
  api: Api,
  respond: Responder,
  options: { events?: WebhookEvent[]; steps?: number } = {},
) {
  const user = await api.signUp();
  const receiver = await startReceiver(respond);
  const res = await api.call<Job>('POST', '/v1/jobs', {
    token: user.token,
    body: {
      model: 'steps',
      input: { steps: options.steps ?? 2, stepMs: 10 },
      webhook: { url: receiver.url, ...(options.events ? { events: options.events } : {}) },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const secret = await api.call('GET', '/v1/webhooks/secret', { token: user.token });
  expect(secret.body.secret).toMatch(/^whsec_/);
  return { user, receiver, job: res.body, secret: secret.body.secret as string };
}

/** The job's deliveries once the job has ended and every delivery has settled. */
async function settled(api: Api, token: string, jobId: string) {
  await api.waitForJob(token, jobId);
  return waitForDeliveries(api, token, jobId, allSettled);
}

const bodyOf = (hit: ReceivedWebhook) =>
  JSON.parse(hit.body) as { type: string; timestamp: string; data: Job };

describe('outbound webhooks', () => {
  it('sends only the terminal event by default, signed per Standard Webhooks', async ({ api }) => {
    const { user, receiver, job, secret } = await jobWithWebhook(api, () => 204);
    const deliveries = await settled(api, user.token, job.id);
    const final = await api.call<Job>('GET', `/v1/jobs/${job.id}`, { token: user.token });
    expect(final.body.status).toBe('succeeded');
    expect(deliveries).toMatchObject([
      { event: 'succeeded', seq: final.body.seq, status: 'delivered', attempts: 1 },
    ]);
    expect(deliveries[0]).toMatchObject({ lastStatusCode: 204, url: receiver.url });

    await sleep(150); // nothing else is on its way
    expect(receiver.received).toHaveLength(1);
    const [hit] = receiver.received as [ReceivedWebhook];
    expect(await verifyStandardWebhook(secret, hit.headers, hit.body)).toBe(true);
    expect(hit.headers['webhook-id']).toBe(deliveries[0]?.id);
    expect(hit.headers['content-type']).toMatch(/^application\/json/);
    const sentAt = Number(hit.headers['webhook-timestamp']);
    expect(Math.abs(sentAt - Date.now() / 1000)).toBeLessThan(300);
    expect(bodyOf(hit)).toMatchObject({ type: 'job.succeeded', data: final.body });
  });

  it('sends the asked events, each signed, none twice, and never `queued`', async ({ api }) => {
    const { user, receiver, job, secret } = await jobWithWebhook(api, () => 200, {
      events: ['started', 'progress', 'succeeded'],
      steps: 3,
    });
    const deliveries = await settled(api, user.token, job.id);
    expect(deliveries.map((d) => d.event)).toEqual([
      'started',
      'progress',
      'progress',
      'progress',
      'succeeded',
    ]);
    expect(deliveries.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);

    await receiver.waitForCount(deliveries.length);
    await sleep(150);
    expect(receiver.received).toHaveLength(deliveries.length);
    const byId = new Map(receiver.received.map((hit) => [hit.headers['webhook-id'], hit]));
    for (const d of deliveries) {
      const hit = byId.get(d.id);
      if (!hit) throw new Error(`delivery ${d.id} never arrived`);
      expect(await verifyStandardWebhook(secret, hit.headers, hit.body)).toBe(true);
      expect(bodyOf(hit)).toMatchObject({
        type: `job.${d.event}`,
        data: { id: job.id, seq: d.seq },
      });
    }
  });

  it('sends a long job at most WEBHOOK_MAX_PROGRESS_PER_JOB progress events, one per passed step', async ({
    api,
  }) => {
    const { user, receiver, job } = await jobWithWebhook(api, () => 204, {
      events: ['progress', 'succeeded'],
      steps: 40,
    });
    const deliveries = await settled(api, user.token, job.id);
    expect(deliveries.map((d) => d.event)).toEqual([
      'progress',
      'progress',
      'progress',
      'progress',
      'succeeded',
    ]);
    await receiver.waitForCount(deliveries.length);
    const progress = receiver.received.map((hit) => bodyOf(hit).data.progress);
    expect(progress.sort()).toEqual([0.25, 0.5, 0.75, 1, 1]);
    const events = await api.call('GET', `/v1/jobs/${job.id}`, { token: user.token });
    expect(events.body.seq).toBeGreaterThan(40);
  });

  it('has a verifier that refuses a changed body, another secret or another id', async ({
    api,
  }) => {
    const { user, receiver, job, secret } = await jobWithWebhook(api, () => 200);
    await settled(api, user.token, job.id);
    const [hit] = (await receiver.waitForCount(1)) as [ReceivedWebhook];
    const other = await api.signUp();
    const otherSecret = await api.call('GET', '/v1/webhooks/secret', { token: other.token });
    expect(otherSecret.body.secret).not.toBe(secret);

    expect(await verifyStandardWebhook(secret, hit.headers, hit.body)).toBe(true);
    expect(await verifyStandardWebhook(secret, hit.headers, `${hit.body} `)).toBe(false);
    expect(await verifyStandardWebhook(otherSecret.body.secret, hit.headers, hit.body)).toBe(false);
    const renamed = { ...hit.headers, 'webhook-id': 'msg_other' };
    expect(await verifyStandardWebhook(secret, renamed, hit.body)).toBe(false);
  });

  it('retries a 500, then delivers the same message (attempts 2)', async ({ api }) => {
    const { user, receiver, job, secret } = await jobWithWebhook(api, (n) => (n === 0 ? 500 : 200));
    const [d] = await settled(api, user.token, job.id);
    expect(d).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200 });
    const [first, second] = receiver.received as [ReceivedWebhook, ReceivedWebhook];
    expect(receiver.received).toHaveLength(2);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.body).toBe(first.body);
    expect(await verifyStandardWebhook(secret, second.headers, second.body)).toBe(true);
  });

  it('retries a 429', async ({ api }) => {
    const { user, receiver, job } = await jobWithWebhook(api, (n) => (n === 0 ? 429 : 204));
    const [d] = await settled(api, user.token, job.id);
    expect(d).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 204 });
    expect(receiver.received).toHaveLength(2);
  });

  it('does not retry a 400: failed after one attempt', async ({ api }) => {
    const { user, receiver, job } = await jobWithWebhook(api, () => 400);
    const [d] = await settled(api, user.token, job.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 400 });
    await sleep(retryBaseMs * 6); // past the retries there would have been
    expect(receiver.received).toHaveLength(1);
  });

  it('neither follows nor retries a redirect', async ({ api }) => {
    const { user, receiver, job } = await jobWithWebhook(api, (_n, hit) =>
      hit.path === '/hooks' ? { redirect: '/elsewhere' } : 200,
    );
    const [d] = await settled(api, user.token, job.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 302 });
    await sleep(retryBaseMs * 6);
    expect(receiver.received.map((hit) => hit.path)).toEqual(['/hooks']);
  });

  it('never lets a hanging receiver hold the job; times out, retries, then fails', async ({
    api,
  }) => {
    const { user, receiver, job } = await jobWithWebhook(api, () => 'hang', {
      events: ['started', 'progress', 'succeeded'],
      steps: 1,
    });
    const done = await api.waitForJob(user.token, job.id);
    expect(done.status).toBe('succeeded');
    const atJobEnd = await waitForDeliveries(api, user.token, job.id, () => true);
    expect(atJobEnd.some((d) => d.status === 'pending')).toBe(true);

    const deliveries = await settled(api, user.token, job.id);
    expect(deliveries).toHaveLength(3);
    for (const d of deliveries) {
      expect(d).toMatchObject({ status: 'failed', attempts: maxAttempts, lastStatusCode: null });
      expect(d.lastError).toMatch(/timed out/);
    }
    expect(receiver.received).toHaveLength(3 * maxAttempts);
  });
});
