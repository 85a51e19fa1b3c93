import { describe, expect, it } from 'vitest';
import { createTokenSigner, isCanonicalJwt } from '../../../origin/auth/tokens.ts';
import { respellings } from '../../helpers/jwt.ts';

const tokens = createTokenSigner(
  new TextEncoder().encode('a-unit-test-secret-of-32-bytes-or-more'),
  600,
);

describe('session tokens', () => {
  it('carry the user, a fresh token id, the session version and the expiry', async () => {
    const before = Date.now();
    const [a, b] = [await tokens.sign('usr_1', 3), await tokens.sign('usr_1', 3)];
    const claims = await tokens.verify(a);
    expect(claims).toEqual({
      userId: 'usr_1',
      tokenId: expect.stringMatching(/^[\w-]{22}$/),
      version: 3,
      expiresAt: expect.any(Number),
    });
    expect(claims?.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 600_000);
    expect((await tokens.verify(b))?.tokenId).not.toBe(claims?.tokenId);
  });

  it('verify in one spelling only: a part re-spelled in its unused bits is refused', async () => {
    const token = await tokens.sign('usr_1', 0);
    expect(isCanonicalJwt(token)).toBe(true);
    const others = respellings(token);
    expect(others.length).toBeGreaterThanOrEqual(3);
    for (const { token: other } of others) {
      expect(isCanonicalJwt(other)).toBe(false);
      expect(await tokens.verify(other)).toBeUndefined();
    }
    for (const bad of [`${token}=`, `${token}.`, token.replace('.', '..'), ` ${token}`, 'a.b']) {
      expect(isCanonicalJwt(bad), bad).toBe(false);
    }
  });
});
