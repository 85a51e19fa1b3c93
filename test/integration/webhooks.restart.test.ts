import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { apiClient } from '../helpers/api.ts';
import { it } from '../helpers/fixtures.ts';
import { verifyStandardWebhook } from '../helpers/standard-webhooks.ts';
import {
  allSettled,
  closedPort,
  type ReceivedWebhook,
  startReceiver,
  waitForDeliveries,
} from '../helpers/webhook-receiver.ts';

// Retries slow enough (0.1 s, 0.2 s, 0.4 s…) that the delivery is still pending at the kill.
const env = {
  WEBHOOK_ALLOW_INSECURE: 'true',
  WEBHOOK_RETRY_BASE_MS: '100',
  WEBHOOK_MAX_ATTEMPTS: '20',
};

describe('webhook delivery across a restart', () => {
  it('delivers the terminal event that a dead receiver missed, after the origin is killed and restarted', async ({
    origins,
  }) => {
    const dataDir = origins.dataDir();
    const port = await closedPort();
    const first = await origins.start({ dataDir, env });
    const api = apiClient(first.url);
    const { token } = await api.signUp();
    const secret = (await api.call('GET', '/v1/webhooks/secret', { token })).body.secret as string;
    const submitted = await api.call<Job>('POST', '/v1/jobs', {
      token,
      body: {
        model: 'steps',
        input: { steps: 2, stepMs: 10 },
        webhook: { url: `http://127.0.0.1:${port}/hooks` },
      },
    });
    expect(submitted.status).toBe(202);
    const job = await api.waitForJob(token, submitted.body.id);
    expect(job.status).toBe('succeeded');
    const refused = await waitForDeliveries(api, token, job.id, ([d]) => (d?.attempts ?? 0) >= 1);
    expect(refused).toMatchObject([{ event: 'succeeded', status: 'pending' }]);
    expect(refused[0]?.lastError).toMatch(/ECONNREFUSED/);

    await first.kill('SIGKILL');
    const receiver = await startReceiver(() => 200, port);
    const second = await origins.start({ dataDir, env });
    const again = apiClient(second.url);

    const [hit] = (await receiver.waitForCount(1)) as [ReceivedWebhook];
    expect(await verifyStandardWebhook(secret, hit.headers, hit.body)).toBe(true);
    expect(JSON.parse(hit.body)).toMatchObject({ type: 'job.succeeded', data: job });
    const [delivered] = await waitForDeliveries(again, token, job.id, allSettled);
    expect(delivered).toMatchObject({ status: 'delivered', lastStatusCode: 200 });
    expect(delivered?.attempts).toBeGreaterThanOrEqual(2);
    expect(delivered?.id).toBe(hit.headers['webhook-id']);
    expect(receiver.received).toHaveLength(1);
  });
});
