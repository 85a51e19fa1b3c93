import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { creditsOf, expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';

// The production setting: no WEBHOOK_ALLOW_INSECURE.

const refused = [
  'http://example.com/hooks',
  'https://localhost/hooks',
  'https://LOCALHOST:8443/hooks',
  'https://localhost./hooks',
  'https://api.localhost/hooks',
  'https://127.0.0.1/hooks',
  'https://127.1/hooks',
  'https://2130706433/hooks',
  'https://[::1]/hooks',
  'https://10.0.0.1/hooks',
  'https://192.168.1.1/hooks',
  'https://172.16.0.1/hooks',
  'https://169.254.169.254/latest/meta-data/',
  'https://[::ffff:127.0.0.1]/hooks',
  'https://[fd00::1]/hooks',
  'https://[fe80::1]/hooks',
  'https://0.0.0.0/hooks',
  'https://[::127.0.0.1]/hooks',
  'https://[::ffff:0:127.0.0.1]/hooks',
  'https://[2002:a9fe:a9fe::1]/latest/meta-data/',
  'https://[64:ff9b:1::a00:1]/hooks',
  'https://[fec0::1]/hooks',
  'https://user:secret@example.com/hooks',
  'ftp://example.com/hooks',
  'not a url',
];

describe('webhook URL guard (SSRF) at job creation', () => {
  // One account for every refusal: each must leave it untouched.
  let token: string;
  it.beforeAll(async ({ api }) => {
    ({ token } = await api.signUp());
  });

  it.for(refused)(
    'refuses %s with 400 on webhook.url, creating and charging nothing',
    async (url, { api }) => {
      const res = await api.call('POST', '/v1/jobs', {
        token,
        body: { model: 'steps', input: { steps: 1, stepMs: 0 }, webhook: { url } },
      });
      expectApiError(res, 400, 'invalid_request');
      expect(res.body.error.details).toEqual([
        { path: 'webhook.url', message: expect.any(String) },
      ]);
      expect(await creditsOf(api, token)).toBe(20);
      const jobs = await api.call('GET', '/v1/jobs', { token });
      expect(jobs.body.data).toEqual([]);
    },
  );

  it('accepts a public https URL', async ({ api }) => {
    const { token } = await api.signUp();
    const res = await api.call<Job>('POST', '/v1/jobs', {
      token,
      // Only `succeeded` is asked for, and the job is canceled: nothing is ever sent.
      body: {
        model: 'steps',
        input: { steps: 1, stepMs: 60_000 },
        webhook: { url: 'https://hooks.example.com/overture', events: ['succeeded'] },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const canceled = await api.call('POST', `/v1/jobs/${res.body.id}/cancel`, { token });
    expect(canceled.body.status).toBe('canceled');
    const deliveries = await api.call('GET', `/v1/jobs/${res.body.id}/webhook-deliveries`, {
      token,
    });
    expect(deliveries.body.data).toEqual([]);
  });
});
