import { describe, expect, it, vi } from 'vitest';
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

  it('a token verified once is refused after it expires, remembered or not', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const short = createTokenSigner(
        new TextEncoder().encode('another-secret-of-32-bytes-or-more!'),
        2,
      );
      const token = await short.sign('usr_1', 0);
      expect((await short.verify(token))?.userId).toBe('usr_1');
      expect((await short.verify(token))?.userId).toBe('usr_1');
      vi.setSystemTime(Date.now() + 3_000);
      expect(await short.verify(token)).toBeUndefined();
      const fresh = createTokenSigner(
        new TextEncoder().encode('another-secret-of-32-bytes-or-more!'),
        2,
      );
      expect(await fresh.verify(token)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a remembered token is still checked against its own signer: another secret refuses it', async () => {
    const token = await tokens.sign('usr_1', 0);
    expect(await tokens.verify(token)).toBeDefined();
    const other = createTokenSigner(
      new TextEncoder().encode('a-different-secret-of-32-bytes-or-more'),
      600,
    );
    expect(await other.verify(token)).toBeUndefined();
  });
});
