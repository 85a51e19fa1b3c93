import { describe, expect, it } from 'vitest';
import { signOriginRequest, verifyOriginRequest } from '../../../shared/origin-signature.ts';
import { respell } from '../../helpers/edge-signing.ts';

const secret = 'origin-signature-unit-secret-0123456789abcdef';
const now = 1_800_000_000;
const path = '/internal/outputs/job_01ABCDEFGHJKMNPQRSTVWXYZ0.wav';
const sha256 = 'ab'.repeat(32);

const verify = (signed: Record<string, string>) =>
  verifyOriginRequest(
    secret,
    {
      method: 'PUT',
      path,
      header: (name) => ({ ...signed, 'content-length': '10' })[name],
    },
    { maxAgeSeconds: 60, now },
  );

describe('the origin signature', () => {
  it('verifies as signed', async () => {
    const signed = await signOriginRequest(
      secret,
      { method: 'PUT', path, sha256, length: 10 },
      now,
    );
    expect(await verify(signed)).toEqual({ ok: true, sha256, length: 10 });
  });

  it('accepts its MAC in its one canonical spelling: the three others are malformed', async () => {
    const signed = await signOriginRequest(
      secret,
      { method: 'PUT', path, sha256, length: 10 },
      now,
    );
    const spellings = respell(signed['x-origin-signature'] ?? '');
    expect(spellings).toHaveLength(3);
    for (const signature of spellings) {
      expect(await verify({ ...signed, 'x-origin-signature': signature })).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
  });
});
