import { randomBytes } from 'node:crypto';
import { describe, expect } from 'vitest';
import { closeCodes } from '../../shared/ws-messages.ts';
import { submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { type ErrorMessage, openSocket, streamProblems } from '../helpers/ws-client.ts';

const authTimeoutMs = 1_000;
it.override({
  originOptions: {
    env: { WS_AUTH_TIMEOUT_MS: String(authTimeoutMs), PROGRESS_INTERVAL_MS: '0' },
  },
});

/** A well-formed job id that no job has. */
const randomJobId = () =>
  `job_${randomBytes(20).toString('base64url').replace(/[-_]/g, 'x').slice(0, 26)}`;

const withoutJobId = ({ jobId: _, ...rest }: ErrorMessage) => rest;

describe('WebSocket auth', () => {
  it('accepts a session token in the query, then serves the user its jobs', async ({
    api,
    origin,
  }) => {
    const user = await api.signUp();
    const socket = await openSocket(origin.url, { token: user.token });
    expect(socket.messages[0]).toEqual({ type: 'ready', userId: user.id });
    const job = await submitJob(api, user.token, 'steps', { steps: 2, stepMs: 5 });
    expect(await socket.subscribe(job.id, 0)).toMatchObject({ type: 'subscribed' });
    expect(streamProblems(await socket.untilTerminal(job.id))).toEqual([]);
  });

  it('accepts an API key in the query', async ({ api, origin }) => {
    const user = await api.signUp();
    const key = await api.call('POST', '/v1/api-keys', {
      token: user.token,
      body: { name: 'ws' },
    });
    expect(key.status).toBe(201);
    const socket = await openSocket(origin.url, { token: key.body.key });
    expect(socket.messages[0]).toEqual({ type: 'ready', userId: user.id });
    const job = await submitJob(api, key.body.key, 'steps', { steps: 1, stepMs: 0 });
    expect(await socket.subscribe(job.id, 0)).toMatchObject({ type: 'subscribed' });
  });

  it('refuses an API key once it is revoked (4401)', async ({ api, origin }) => {
    const user = await api.signUp();
    const key = await api.call('POST', '/v1/api-keys', {
      token: user.token,
      body: { name: 'gone' },
    });
    const revoked = await api.call('DELETE', `/v1/api-keys/${key.body.id}`, {
      token: user.token,
    });
    expect(revoked.status).toBe(204);
    const socket = await openSocket(origin.url, { token: key.body.key, waitReady: false });
    expect(await socket.whenClosed()).toMatchObject({ code: closeCodes.unauthorized });
    expect(socket.messages).toEqual([]);
  });

  it('accepts an auth message, and a subscribe sent right behind it', async ({ api, origin }) => {
    const user = await api.signUp();
    const job = await submitJob(api, user.token, 'steps', { steps: 2, stepMs: 5 });
    const socket = await openSocket(origin.url);
    // No wait for `ready`: the subscribe is handled after the auth, not refused before it.
    socket.send({ type: 'auth', token: user.token });
    socket.send({ type: 'subscribe', jobId: job.id, since: 0 });
    const events = await socket.untilTerminal(job.id);
    expect(socket.messages.slice(0, 2)).toMatchObject([
      { type: 'ready', userId: user.id },
      { type: 'subscribed', jobId: job.id },
    ]);
    expect(streamProblems(events)).toEqual([]);
  });

  it('handles a subscribe sent at once behind a query token', async ({ api, origin }) => {
    const user = await api.signUp();
    const job = await submitJob(api, user.token, 'steps', { steps: 2, stepMs: 5 });
    for (let i = 0; i < 5; i++) {
      const socket = await openSocket(origin.url, { token: user.token, waitReady: false });
      socket.send({ type: 'subscribe', jobId: job.id, since: 0 });
      expect(streamProblems(await socket.untilTerminal(job.id))).toEqual([]);
      socket.ws.close();
    }
  });

  it('closes a socket that does not authenticate in time with 4401', async ({ origin }) => {
    const socket = await openSocket(origin.url);
    const closed = await socket.whenClosed();
    expect(closed.code).toBe(closeCodes.unauthorized);
    expect(socket.messages).toEqual([]);
  });

  it('closes on a bad token, in the query or in the auth message, with 4401', async ({
    api,
    origin,
  }) => {
    const user = await api.signUp();
    const forged = `${user.token.slice(0, -4)}AAAA`;
    for (const token of [forged, 'ovt_not-a-real-key', 'nonsense']) {
      const inQuery = await openSocket(origin.url, { token, waitReady: false });
      expect((await inQuery.whenClosed()).code, token).toBe(closeCodes.unauthorized);
      const inMessage = await openSocket(origin.url);
      inMessage.send({ type: 'auth', token });
      expect((await inMessage.whenClosed()).code, token).toBe(closeCodes.unauthorized);
      expect([...inQuery.messages, ...inMessage.messages]).toEqual([]);
    }
  });

  it('closes with 4401 on a message sent before auth, and sends nothing', async ({
    api,
    origin,
  }) => {
    const user = await api.signUp();
    const job = await submitJob(api, user.token, 'steps', { steps: 1, stepMs: 0 });
    const socket = await openSocket(origin.url);
    socket.send({ type: 'subscribe', jobId: job.id, since: 0 });
    expect((await socket.whenClosed()).code).toBe(closeCodes.unauthorized);
    expect(socket.messages).toEqual([]);
  });
});

describe('WebSocket isolation between users', () => {
  it("answers another user's job exactly like a job that does not exist", async ({
    api,
    origin,
  }) => {
    const alice = await api.signUp();
    const bob = await api.signUp();
    const job = await submitJob(api, alice.token, 'steps', { steps: 1, stepMs: 0 });
    const socket = await openSocket(origin.url, { token: bob.token });

    const theirs = await socket.subscribe(job.id, 0);
    const nobodys = await socket.subscribe(randomJobId());
    const live = await socket.subscribe(job.id);
    expect(theirs).toMatchObject({ type: 'error', code: 'not_found', jobId: job.id });
    expect(withoutJobId(theirs as ErrorMessage)).toEqual(withoutJobId(nobodys as ErrorMessage));
    expect(live).toEqual(theirs);
    expect(socket.messages.filter((m) => m.type !== 'error' && m.type !== 'ready')).toEqual([]);
  });

  it("never sends a user another user's events, with both sockets open throughout", async ({
    api,
    origin,
  }) => {
    const alice = await api.signUp();
    const bob = await api.signUp();
    const aliceSocket = await openSocket(origin.url, { token: alice.token });
    const bobSocket = await openSocket(origin.url, { token: bob.token });
    const bobsJob = await submitJob(api, bob.token, 'steps', { steps: 3, stepMs: 20 });
    await bobSocket.subscribe(bobsJob.id, 0);

    const alicesJobs = await Promise.all(
      [10, 12].map((steps) => submitJob(api, alice.token, 'steps', { steps, stepMs: 10 })),
    );
    for (const job of alicesJobs) {
      await aliceSocket.subscribe(job.id, 0);
      // Bob tries the same job, replayed and live: refused each time.
      expect(await bobSocket.subscribe(job.id, 0)).toMatchObject({ code: 'not_found' });
      expect(await bobSocket.subscribe(job.id)).toMatchObject({ code: 'not_found' });
    }
    for (const job of alicesJobs) {
      expect(streamProblems(await aliceSocket.untilTerminal(job.id))).toEqual([]);
    }
    expect(streamProblems(await bobSocket.untilTerminal(bobsJob.id))).toEqual([]);

    const leaked = bobSocket.messages.filter(
      (m) =>
        m.type !== 'error' &&
        (JSON.stringify(m).includes(alice.id) ||
          alicesJobs.some((j) => JSON.stringify(m).includes(j.id))),
    );
    expect(leaked).toEqual([]);
    expect(aliceSocket.messages.some((m) => JSON.stringify(m).includes(bobsJob.id))).toBe(false);
  });
});
