import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook } from '../../../origin/webhooks/signature.ts';
import { verifyStandardWebhook } from '../../helpers/standard-webhooks.ts';

describe('signWebhook', () => {
  it('reproduces the Standard Webhooks specification test vector', () => {
    const headers = signWebhook(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(headers).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('keys the HMAC with the decoded secret bytes, not the secret text', () => {
    const key = Buffer.alloc(24, 7);
    const secret = `whsec_${key.toString('base64')}`;
    const body = '{"type":"job.succeeded","data":{"id":"job_1"}}';
    const expected = createHmac('sha256', key).update(`msg_1.1700000000.${body}`).digest('base64');
    expect(signWebhook(secret, 'msg_1', 1700000000, body)['webhook-signature']).toBe(
      `v1,${expected}`,
    );
    const wrong = createHmac('sha256', secret).update(`msg_1.1700000000.${body}`).digest('base64');
    expect(expected).not.toBe(wrong);
  });

  it('verifies with an independent Web Crypto verifier, and only for the signed message', async () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ type: 'job.failed', data: { id: 'job_2', note: 'é ✓' } });
    const headers = signWebhook(secret, 'msg_2', 1700000123, body);
    expect(await verifyStandardWebhook(secret, headers, body)).toBe(true);
    expect(await verifyStandardWebhook(secret, headers, body.replace('failed', 'succeeded'))).toBe(
      false,
    );
    expect(
      await verifyStandardWebhook(secret, { ...headers, 'webhook-timestamp': '1700000124' }, body),
    ).toBe(false);
    expect(await verifyStandardWebhook(newWebhookSecret(), headers, body)).toBe(false);
  });
});

describe('newWebhookSecret', () => {
  it('makes distinct whsec_ secrets of 24 random bytes', () => {
    const secrets = new Set(Array.from({ length: 20 }, newWebhookSecret));
    expect(secrets.size).toBe(20);
    for (const s of secrets) {
      expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
      expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(24);
    }
  });
});
