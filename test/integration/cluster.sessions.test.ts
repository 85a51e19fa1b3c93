/**
 * Ending a session on one origin of a cluster ends it on every origin: its token is refused
 * at once (the ended token is a row of the shared database), and the user's WebSockets held
 * by another origin close (4401) within that origin's re-check interval.
 */
import { describe, expect } from 'vitest';
import { closeCodes } from '../../shared/ws-messages.ts';
import type { Cluster } from '../helpers/cluster.ts';
import { it } from '../helpers/fixtures.ts';
import { openSocket, type TestSocket } from '../helpers/ws-client.ts';

const recheckMs = 1_000;
it.override({
  clusterOptions: { origins: 2, env: { WS_AUTH_RECHECK_MS: String(recheckMs), POOL_THREADS: '1' } },
});

/** A socket on origin `i`, authenticated by its first message. */
async function socketOn(cluster: Cluster, i: number, token: string): Promise<TestSocket> {
  const socket = await openSocket(cluster.origins[i]?.url ?? '');
  socket.send({ type: 'auth', token });
  await socket.waitFor((m) => m.type === 'ready');
  return socket;
}

/** Waits for the 4401 close; answers how long it took from `since`. */
async function closedUnauthorized(socket: TestSocket, since: number): Promise<number> {
  const closed = await socket.whenClosed(recheckMs + 5_000);
  expect(closed.code).toBe(closeCodes.unauthorized);
  return Date.now() - since;
}

// The re-check runs every second on its own clock: a close comes within one interval of the
// end, plus the time of one check and of the request that ended it.
const withinMs = recheckMs + 1_500;

describe('ending a session on one origin of a cluster', () => {
  it('a sign-out on origin 0 refuses the token on origin 1 and closes its socket there', async ({
    cluster,
  }) => {
    const user = await cluster.api(0).signUp();
    const other = await cluster
      .api(1)
      .call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
    const held = await socketOn(cluster, 1, user.token);
    const kept = await socketOn(cluster, 1, other.body.token);
    const at = Date.now();
    expect(
      (await cluster.api(0).call('POST', '/v1/auth/logout', { token: user.token })).status,
    ).toBe(204);
    expect((await cluster.api(1).call('GET', '/v1/me', { token: user.token })).status).toBe(401);
    expect(await closedUnauthorized(held, at)).toBeLessThan(withinMs);
    expect(kept.isOpen).toBe(true);
    expect((await cluster.api(1).call('GET', '/v1/me', { token: other.body.token })).status).toBe(
      200,
    );
  });

  it('a password change on origin 1 closes the user’s sockets on origin 0; its key’s stays', async ({
    cluster,
  }) => {
    const user = await cluster.api(0).signUp();
    const key = await cluster
      .api(0)
      .call('POST', '/v1/api-keys', { token: user.token, body: { name: 'k' } });
    const sessionSockets = [
      await socketOn(cluster, 0, user.token),
      await socketOn(cluster, 0, user.token),
    ];
    const keySocket = await socketOn(cluster, 0, key.body.key);
    const at = Date.now();
    const changed = await cluster.api(1).call('POST', '/v1/auth/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword: 'a brand new passphrase' },
    });
    expect(changed.status).toBe(204);
    for (const s of sessionSockets) expect(await closedUnauthorized(s, at)).toBeLessThan(withinMs);
    expect(keySocket.isOpen).toBe(true);
  });

  it('a key revoked on origin 0 closes its socket on origin 1', async ({ cluster }) => {
    const user = await cluster.api(0).signUp();
    const key = await cluster
      .api(0)
      .call('POST', '/v1/api-keys', { token: user.token, body: { name: 'k' } });
    const keySocket = await socketOn(cluster, 1, key.body.key);
    const sessionSocket = await socketOn(cluster, 1, user.token);
    const at = Date.now();
    const revoked = await cluster
      .api(0)
      .call('DELETE', `/v1/api-keys/${key.body.id}`, { token: user.token });
    expect(revoked.status).toBe(204);
    expect(await closedUnauthorized(keySocket, at)).toBeLessThan(withinMs);
    expect(sessionSocket.isOpen).toBe(true);
  });
});
