/**
 * Ending sessions on a real origin: a sign-out ends its one token, a password change every
 * session of the user (API keys stay), and a token is accepted in its one canonical spelling.
 */
import { SignJWT } from 'jose';
import { describe, expect } from 'vitest';
import type { Api } from '../helpers/api.ts';
import { expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { mintSession, nowS, respellings } from '../helpers/jwt.ts';

const jwtSecret = 'sessions-test-secret-that-is-long-enough';
it.override({ originOptions: { env: { JWT_SECRET: jwtSecret } } });

async function login(api: Api, email: string, password: string): Promise<string> {
  const res = await api.call('POST', '/v1/auth/login', { body: { email, password } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.token;
}

/** The statuses of a few routes with this token. */
async function statuses(api: Api, token: string): Promise<number[]> {
  const paths = ['/v1/me', '/v1/jobs', '/v1/api-keys', '/v1/billing/ledger'];
  return Promise.all(paths.map(async (p) => (await api.call('GET', p, { token })).status));
}

describe('sign-out', () => {
  it('ends this token on every route, and only this one', async ({ api }) => {
    const user = await api.signUp();
    const other = await login(api, user.email, user.password);
    const out = await api.call('POST', '/v1/auth/logout', { token: user.token });
    expect(out.status).toBe(204);
    expect(out.bytes.length).toBe(0);
    expect(await statuses(api, user.token)).toEqual([401, 401, 401, 401]);
    expectApiError(await api.call('GET', '/v1/me', { token: user.token }), 401, 'unauthorized');
    // A second sign-out with it is refused like any ended token.
    expectApiError(
      await api.call('POST', '/v1/auth/logout', { token: user.token }),
      401,
      'unauthorized',
    );
    expect(await statuses(api, other)).toEqual([200, 200, 200, 200]);
  });

  it('is refused (403) with an API key, which keeps working; without a token it is 401', async ({
    api,
  }) => {
    const user = await api.signUp();
    const key = await api.call('POST', '/v1/api-keys', { token: user.token, body: { name: 'k' } });
    expectApiError(
      await api.call('POST', '/v1/auth/logout', { token: key.body.key }),
      403,
      'forbidden',
    );
    expect((await api.call('GET', '/v1/me', { token: key.body.key })).status).toBe(200);
    expect((await api.call('GET', '/v1/me', { token: user.token })).status).toBe(200);
    expectApiError(await api.call('POST', '/v1/auth/logout'), 401, 'unauthorized');
  });
});

describe('password change', () => {
  it('ends every session (the caller’s too), keeps API keys, and only the new password signs in', async ({
    api,
  }) => {
    const user = await api.signUp();
    const other = await login(api, user.email, user.password);
    const key = await api.call('POST', '/v1/api-keys', { token: user.token, body: { name: 'k' } });
    const newPassword = 'a brand new passphrase';

    const changed = await api.call('POST', '/v1/auth/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword },
    });
    expect(changed.status).toBe(204);
    expect(await statuses(api, user.token)).toEqual([401, 401, 401, 401]);
    expect(await statuses(api, other)).toEqual([401, 401, 401, 401]);
    expect(await statuses(api, key.body.key)).toEqual([200, 200, 200, 200]);

    expectApiError(
      await api.call('POST', '/v1/auth/login', {
        body: { email: user.email, password: user.password },
      }),
      401,
      'unauthorized',
    );
    const fresh = await login(api, user.email, newPassword);
    expect(await statuses(api, fresh)).toEqual([200, 200, 200, 200]);
  });

  it('refuses a wrong current password (403) and a short new one (400), changing nothing', async ({
    api,
  }) => {
    const user = await api.signUp();
    expectApiError(
      await api.call('POST', '/v1/auth/password', {
        token: user.token,
        body: { currentPassword: 'not the password', newPassword: 'another passphrase' },
      }),
      403,
      'forbidden',
    );
    expectApiError(
      await api.call('POST', '/v1/auth/password', {
        token: user.token,
        body: { currentPassword: user.password, newPassword: 'short' },
      }),
      400,
      'invalid_request',
    );
    expectApiError(
      await api.call('POST', '/v1/auth/password', {
        body: { currentPassword: user.password, newPassword: 'another passphrase' },
      }),
      401,
      'unauthorized',
    );
    expect((await api.call('GET', '/v1/me', { token: user.token })).status).toBe(200);
    await login(api, user.email, user.password);
  });

  it('is what the session version counts: a token of the old version is refused, of the new accepted', async ({
    api,
  }) => {
    const user = await api.signUp();
    const exp = nowS() + 600;
    expect(
      (
        await api.call('GET', '/v1/me', {
          token: await mintSession(jwtSecret, { sub: user.id, exp }),
        })
      ).status,
    ).toBe(200);
    await api.call('POST', '/v1/auth/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword: 'a brand new passphrase' },
    });
    const stale = await mintSession(jwtSecret, { sub: user.id, exp, sv: 0 });
    const current = await mintSession(jwtSecret, { sub: user.id, exp, sv: 1 });
    expect((await api.call('GET', '/v1/me', { token: stale })).status).toBe(401);
    expect((await api.call('GET', '/v1/me', { token: current })).status).toBe(200);
  });
});

describe('session tokens', () => {
  it('are refused without a token id or a session version (tokens signed before sessions could end)', async ({
    api,
  }) => {
    const user = await api.signUp();
    const sign = (payload: Record<string, unknown>, jti?: string) => {
      const jwt = new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user.id)
        .setIssuer('overture')
        .setExpirationTime(nowS() + 600);
      return (jti ? jwt.setJti(jti) : jwt).sign(new TextEncoder().encode(jwtSecret));
    };
    for (const token of [
      await sign({}),
      await sign({ sv: 0 }),
      await sign({}, 'a-token-id'),
      await sign({ sv: '0' }, 'a-token-id'),
      await sign({ sv: -1 }, 'a-token-id'),
    ]) {
      expectApiError(await api.call('GET', '/v1/me', { token }), 401, 'unauthorized');
    }
    expect(
      (await api.call('GET', '/v1/me', { token: await sign({ sv: 0 }, 'a-token-id') })).status,
    ).toBe(200);
  });

  it('are accepted in their canonical spelling only: a part re-spelled in its unused bits is 401', async ({
    api,
  }) => {
    const user = await api.signUp();
    expect((await api.call('GET', '/v1/me', { token: user.token })).status).toBe(200);
    const others = respellings(user.token);
    // An HS256 signature is 32 bytes in 43 characters: its last one carries 2 unused bits.
    expect(others.filter((o) => o.part === 2)).toHaveLength(3);
    for (const { part, token } of others) {
      const res = await api.call('GET', '/v1/me', { token });
      expect(res.status, `part ${part}: ${token}`).toBe(401);
    }
    // Padding and characters outside base64url are other spellings too.
    for (const token of [`${user.token}=`, user.token.replace(/-/g, '+').replace(/_/g, '/')]) {
      if (token === user.token) continue;
      expect((await api.call('GET', '/v1/me', { token })).status).toBe(401);
    }
    expect((await api.call('GET', '/v1/me', { token: user.token })).status).toBe(200);
  });
});
