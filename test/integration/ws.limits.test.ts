import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { closeCodes } from '../../shared/ws-messages.ts';
import { submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { openSocket, streamProblems, type TestSocket } from '../helpers/ws-client.ts';

const limits = {
  // Room for an auth message with a session token (about 260 bytes), and little more.
  maxMessageBytes: 512,
  errorBudget: 3,
  maxSubscriptions: 2,
  socketsPerUser: 3,
  maxBufferedBytes: 16 * 1024,
  // Long enough that the paused socket of the backpressure test is dropped for its buffer
  // before it misses two pongs, even on a loaded machine.
  pingMs: 2_000,
};
it.override({
  originOptions: {
    env: {
      WS_MAX_MESSAGE_BYTES: String(limits.maxMessageBytes),
      WS_ERROR_BUDGET: String(limits.errorBudget),
      WS_MAX_SUBSCRIPTIONS: String(limits.maxSubscriptions),
      WS_MAX_SOCKETS_PER_USER: String(limits.socketsPerUser),
      WS_MAX_BUFFERED_BYTES: String(limits.maxBufferedBytes),
      WS_PING_INTERVAL_MS: String(limits.pingMs),
      PROGRESS_INTERVAL_MS: '0',
      // The backpressure test replays a job over and over to fill a paused client's buffers:
      // the message and replay budgets (ws.rate-limits.test.ts) would stop it first.
      WS_MAX_MESSAGES_PER_S: '100000',
      WS_MAX_REPLAY_EVENTS: '100000000',
      WS_REPLAY_EVENTS_PER_S: '100000000',
    },
  },
});

/** Sends `raw` and answers the error it earned. */
async function errorFor(socket: TestSocket, raw: string | Buffer) {
  const from = socket.messages.length;
  socket.send(raw);
  return socket.waitFor((m) => m.type === 'error', { from });
}

describe('WebSocket message bounds', () => {
  it('answers bad messages with errors, then closes (1008) past the error budget', async ({
    api,
    origin,
  }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });

    expect(await errorFor(socket, '{"type":"subscribe",')).toMatchObject({
      code: 'invalid_message',
    });
    expect(await errorFor(socket, '{"type":"shout","text":"hi"}')).toMatchObject({
      code: 'invalid_message',
    });
    expect(await errorFor(socket, Buffer.from([1, 2, 3]))).toMatchObject({
      code: 'invalid_message',
    });
    // Within the budget the socket still works.
    const job = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 });
    expect(await socket.subscribe(job.id, 0)).toMatchObject({ type: 'subscribed' });

    const big = JSON.stringify({ type: 'subscribe', jobId: 'x'.repeat(limits.maxMessageBytes) });
    expect(await errorFor(socket, big)).toMatchObject({ code: 'message_too_large' });
    expect((await socket.whenClosed()).code).toBe(closeCodes.policyViolation);
    expect(socket.messages.filter((m) => m.type === 'error')).toHaveLength(limits.errorBudget + 1);
  });

  it('closes a socket that sends a frame past the hard limit (1009)', async ({ api, origin }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });
    socket.send('x'.repeat(70 * 1024));
    expect((await socket.whenClosed()).code).toBe(1009);
  });

  it('refuses a subscription past the limit with too_many_subscriptions', async ({
    api,
    origin,
  }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });
    // Jobs that stay open while the test subscribes: a finished job's subscription ends by itself.
    const jobs = await Promise.all(
      [1, 2, 3].map(() => submitJob(api, token, 'steps', { steps: 20, stepMs: 50 })),
    );
    const [a, b, c] = jobs.map((j) => j.id) as [string, string, string];
    expect(await socket.subscribe(a)).toMatchObject({ type: 'subscribed' });
    expect(await socket.subscribe(b)).toMatchObject({ type: 'subscribed' });
    expect(await socket.subscribe(c)).toMatchObject({
      type: 'error',
      code: 'too_many_subscriptions',
      jobId: c,
    });
    // Subscribing again to a followed job is no new subscription.
    expect(await socket.subscribe(a, 0)).toMatchObject({ type: 'subscribed' });
    socket.send({ type: 'unsubscribe', jobId: b });
    expect(await socket.subscribe(c, 0)).toMatchObject({ type: 'subscribed' });
    expect(streamProblems(await socket.untilTerminal(c))).toEqual([]);
  });
});

describe('WebSocket subscriptions of finished jobs', () => {
  it('end by themselves after the terminal event, so they never count against the limit', async ({
    api,
    origin,
  }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });
    const done = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 });
    expect(await socket.subscribe(done.id, 0)).toMatchObject({ type: 'subscribed' });
    expect(streamProblems(await socket.untilTerminal(done.id))).toEqual([]);
    // With the finished job still counted, the second of these would be refused.
    const open = await Promise.all(
      Array.from({ length: limits.maxSubscriptions }, () =>
        submitJob(api, token, 'steps', { steps: 20, stepMs: 50 }),
      ),
    );
    for (const job of open) {
      expect(await socket.subscribe(job.id)).toMatchObject({ type: 'subscribed' });
    }
    for (const job of open) {
      expect((await socket.untilTerminal(job.id)).at(-1)?.event).toBe('succeeded');
    }
  });
});

describe('WebSocket sockets per user', () => {
  it('closes the socket past the cap (1008) while the others keep working', async ({
    api,
    origin,
  }) => {
    const user = await api.signUp();
    const allowed = await Promise.all(
      Array.from({ length: limits.socketsPerUser }, () =>
        openSocket(origin.url, { token: user.token }),
      ),
    );
    const extra = await openSocket(origin.url, { token: user.token, waitReady: false });
    expect((await extra.whenClosed()).code).toBe(closeCodes.policyViolation);
    const byMessage = await openSocket(origin.url);
    byMessage.send({ type: 'auth', token: user.token });
    expect((await byMessage.whenClosed()).code).toBe(closeCodes.policyViolation);
    expect([...extra.messages, ...byMessage.messages]).toEqual([]);

    const job = await submitJob(api, user.token, 'steps', { steps: 3, stepMs: 10 });
    for (const socket of allowed) await socket.subscribe(job.id, 0);
    for (const socket of allowed) {
      expect(streamProblems(await socket.untilTerminal(job.id))).toEqual([]);
    }
    // Another user is not affected.
    const other = await api.signUp();
    await openSocket(origin.url, { token: other.token });

    // A closed socket gives its place back.
    allowed[0]?.ws.close();
    await allowed[0]?.whenClosed();
    let again: TestSocket | undefined;
    for (let i = 0; i < 50 && !again; i++) {
      const attempt = await openSocket(origin.url, { token: user.token, waitReady: false });
      await Promise.race([attempt.waitFor((m) => m.type === 'ready'), attempt.closed]);
      if (attempt.isOpen) again = attempt;
      else await sleep(20);
    }
    expect(again?.messages[0]).toMatchObject({ type: 'ready', userId: user.id });
  });
});

describe('WebSocket liveness and backpressure', () => {
  it('drops a consumer that stops reading, while another socket on the job gets everything', async ({
    api,
    origin,
  }) => {
    const { token } = await api.signUp();
    const live = await submitJob(api, token, 'steps', { steps: 150, stepMs: 5 });
    const reader = await openSocket(origin.url, { token });
    await reader.subscribe(live.id, 0);
    await reader.waitFor((m) => m.type === 'job' && m.seq >= 40);

    const slow = await openSocket(origin.url, { token });
    const tcp = (slow.ws as unknown as { _socket: Socket })._socket;
    tcp.pause();
    // Loopback socket buffers absorb several MB before the origin sees unsent bytes pile
    // up, so the paused client keeps asking for the replay of the whole job until dropped.
    const dropped = () => origin.output().includes('closed a slow websocket consumer');
    for (let i = 0; i < 2_000 && !dropped(); i++) {
      slow.send({ type: 'subscribe', jobId: live.id, since: 0 });
      if (i % 10 === 9) await sleep(5);
    }
    for (let i = 0; i < 100 && !dropped(); i++) await sleep(20);
    expect(dropped()).toBe(true);
    tcp.resume(); // reads what the kernel held, then sees the end
    const closed = await slow.whenClosed();
    // 1013 if the close frame gets through, 1006 when the stuck socket is terminated.
    expect([closeCodes.tryAgainLater, 1006]).toContain(closed.code);

    const events = await reader.untilTerminal(live.id);
    expect(streamProblems(events)).toEqual([]);
    expect(events.filter((e) => e.event === 'progress')).toHaveLength(150);
  });

  it('terminates a client that stops answering pings; a normal client stays', async ({
    api,
    origin,
  }) => {
    const { token } = await api.signUp();
    const mute = await openSocket(origin.url, { token, ws: { autoPong: false } });
    const normal = await openSocket(origin.url, { token });
    const pings = { mute: 0, normal: 0 };
    mute.ws.on('ping', () => pings.mute++);
    normal.ws.on('ping', () => pings.normal++);

    const closed = await mute.whenClosed(limits.pingMs * 6);
    expect(closed.code).toBe(1006); // terminated: no close frame
    expect(pings.mute).toBeGreaterThanOrEqual(2);
    // The normal client lived through the same heartbeats, answering each.
    for (let i = 0; i < 100 && pings.normal < 2; i++) await sleep(limits.pingMs / 20);
    expect(pings.normal).toBeGreaterThanOrEqual(2);
    expect(normal.isOpen).toBe(true);
    const job = await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 });
    expect(await normal.subscribe(job.id, 0)).toMatchObject({ type: 'subscribed' });
  });
});
