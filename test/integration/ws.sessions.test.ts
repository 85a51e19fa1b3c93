/**
 * A WebSocket lives no longer than its credential: a sign-out, a password change or a
 * revoked key closes its sockets (4401) at once on the origin that ended it, and an expired
 * token's socket is closed by the periodic re-check. (Across origins: `cluster.sessions`.)
 */
import { describe, expect } from 'vitest';
import { closeCodes } from '../../shared/ws-messages.ts';
import { type Api, apiClient } from '../helpers/api.ts';
import { it } from '../helpers/fixtures.ts';
import { mintSession, nowS } from '../helpers/jwt.ts';
import { openSocket, type TestSocket } from '../helpers/ws-client.ts';

const jwtSecret = 'ws-sessions-test-secret-long-enough!!';
// A re-check far off: what closes within a test here is the origin's own, immediate one.
it.override({ originOptions: { env: { JWT_SECRET: jwtSecret, WS_AUTH_RECHECK_MS: '600000' } } });

/** A socket authenticated by its first message, as the web UI does: no token in the URL. */
async function authedSocket(url: string, token: string): Promise<TestSocket> {
  const socket = await openSocket(url);
  socket.send({ type: 'auth', token });
  await socket.waitFor((m) => m.type === 'ready');
  return socket;
}

async function login(api: Api, email: string, password: string): Promise<string> {
  const res = await api.call('POST', '/v1/auth/login', { body: { email, password } });
  expect(res.status).toBe(200);
  return res.body.token;
}

/** Closed with 4401 within `ms`. */
async function expectUnauthorizedClose(socket: TestSocket, ms: number): Promise<void> {
  expect((await socket.whenClosed(ms)).code).toBe(closeCodes.unauthorized);
}

describe('a WebSocket whose session ends', () => {
  it('closes 4401 at once when its token signs out; another session’s socket stays', async ({
    api,
    origin,
  }) => {
    const user = await api.signUp();
    const other = await login(api, user.email, user.password);
    const mine = await authedSocket(origin.url, user.token);
    const theirs = await authedSocket(origin.url, other);
    expect((await api.call('POST', '/v1/auth/logout', { token: user.token })).status).toBe(204);
    await expectUnauthorizedClose(mine, 3_000);
    expect(theirs.isOpen).toBe(true);
    // The socket still serves: it answers a subscribe.
    expect(await theirs.subscribe('job_01M8000000000000000000000Z')).toMatchObject({
      type: 'error',
      code: 'not_found',
    });
  });

  it('closes every session socket of the user on a password change; an API key’s stays', async ({
    api,
    origin,
  }) => {
    const user = await api.signUp();
    const other = await login(api, user.email, user.password);
    const key = await api.call('POST', '/v1/api-keys', { token: user.token, body: { name: 'k' } });
    const sockets = [
      await authedSocket(origin.url, user.token),
      await openSocket(origin.url, { token: other }),
    ];
    const keySocket = await openSocket(origin.url, { token: key.body.key });
    const changed = await api.call('POST', '/v1/auth/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword: 'a brand new passphrase' },
    });
    expect(changed.status).toBe(204);
    for (const s of sockets) await expectUnauthorizedClose(s, 3_000);
    expect(keySocket.isOpen).toBe(true);
    // A socket can no longer be opened with an ended token.
    const late = await openSocket(origin.url, { token: other, waitReady: false });
    await expectUnauthorizedClose(late, 5_000);
  });

  it('closes 4401 at once when its API key is revoked; the session’s socket stays', async ({
    api,
    origin,
  }) => {
    const user = await api.signUp();
    const key = await api.call('POST', '/v1/api-keys', { token: user.token, body: { name: 'k' } });
    const keySocket = await authedSocket(origin.url, key.body.key);
    const sessionSocket = await authedSocket(origin.url, user.token);
    const revoked = await api.call('DELETE', `/v1/api-keys/${key.body.id}`, {
      token: user.token,
    });
    expect(revoked.status).toBe(204);
    await expectUnauthorizedClose(keySocket, 3_000);
    expect(sessionSocket.isOpen).toBe(true);
  });
});

describe('a WebSocket whose token expires', () => {
  it('is closed 4401 by the re-check once the token expired', async ({ origins }) => {
    const recheckMs = 500;
    const origin = await origins.start({
      env: { JWT_SECRET: jwtSecret, WS_AUTH_RECHECK_MS: String(recheckMs) },
    });
    const user = await apiClient(origin.url).signUp();
    const exp = nowS() + 2;
    const socket = await authedSocket(
      origin.url,
      await mintSession(jwtSecret, { sub: user.id, exp }),
    );
    const closed = await socket.whenClosed(10_000);
    expect(closed.code).toBe(closeCodes.unauthorized);
    const lateMs = Date.now() - exp * 1000;
    // Closed after the expiry, and within one re-check of it (and some scheduling slack).
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(recheckMs + 1_500);
    // A session token that has not expired stays open meanwhile.
    const lasting = await authedSocket(origin.url, user.token);
    await new Promise((r) => setTimeout(r, 3 * recheckMs));
    expect(lasting.isOpen).toBe(true);
  });
});
