/**
 * A WebSocket's budgets on a real origin: messages per second (a flood is closed 1008 before
 * it queues work), and stored events replayed (a subscribe with `since: 0` over and over on a
 * long finished job is closed 1008 before the store is read past the budget).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { closeCodes } from '../../shared/ws-messages.ts';
import type { Api } from '../helpers/api.ts';
import { submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
import { openSocket, streamProblems } from '../helpers/ws-client.ts';

const limits = { messagesPerS: 20, subscriptions: 5, replayEvents: 100, replayPerS: 20 };
it.override({
  originOptions: {
    env: {
      WS_MAX_MESSAGES_PER_S: String(limits.messagesPerS),
      WS_MAX_SUBSCRIPTIONS: String(limits.subscriptions),
      WS_MAX_REPLAY_EVENTS: String(limits.replayEvents),
      WS_REPLAY_EVENTS_PER_S: String(limits.replayPerS),
      // One stored event per step: a job's history is as long as a test needs.
      PROGRESS_INTERVAL_MS: '0',
    },
  },
});

/** A new user's finished 60-step job (one stored event per step), and a socket of the user. */
async function finishedJobAndSocket(api: Api, origin: OriginProcess) {
  const { token } = await api.signUp();
  const job = await submitJob(api, token, 'steps', { steps: 60, stepMs: 1 });
  const done = await api.waitForJob(token, job.id);
  const socket = await openSocket(origin.url, { token });
  return { job, done, socket };
}

describe('WebSocket message rate', () => {
  it('closes a flooding socket (1008) after its burst, having answered no more than that', async ({
    api,
    origin,
  }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });
    // Messages that are each valid and answered, so the error budget plays no part.
    for (let i = 0; i < 500; i++) socket.send({ type: 'unsubscribe', jobId: `job_flood${i}` });
    const closed = await socket.whenClosed(5_000);
    expect(closed).toEqual({ code: closeCodes.policyViolation, reason: 'too many messages' });
    const answered = socket.messages.filter((m) => m.type === 'unsubscribed').length;
    // The burst is the rate (or a full resubscribe, when larger), plus what refilled meanwhile.
    expect(answered).toBeLessThanOrEqual(limits.messagesPerS + 5);
    expect(answered).toBeGreaterThan(0);
    // The origin serves on: another socket of the user is ready and answers.
    const next = await openSocket(origin.url, { token });
    expect(await next.subscribe('job_01M8000000000000000000000Z')).toMatchObject({
      code: 'not_found',
    });
  });

  it('keeps a socket that stays within the rate open', async ({ api, origin }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });
    for (let second = 0; second < 3; second++) {
      for (let i = 0; i < limits.messagesPerS / 2; i++) {
        socket.send({ type: 'unsubscribe', jobId: `job_calm${second}${i}` });
      }
      await sleep(1_000);
    }
    await socket.waitFor(
      () => socket.messages.filter((m) => m.type === 'unsubscribed').length === 30,
    );
    expect(socket.isOpen).toBe(true);
  });
});

describe('WebSocket replay budget', () => {
  it('closes (1008) a socket replaying a long history from 0 again and again, past its budget', async ({
    api,
    origin,
  }) => {
    const { job, done, socket } = await finishedJobAndSocket(api, origin);
    expect(done.seq).toBeGreaterThan(limits.replayEvents / 2);
    const started = Date.now();
    // The first whole history fits the budget.
    await socket.subscribe(job.id, 0);
    expect(streamProblems(await socket.untilTerminal(job.id))).toEqual([]);
    // Then the same again, as fast as the socket may send.
    for (let i = 0; i < 10 && socket.isOpen; i++)
      socket.send({ type: 'subscribe', jobId: job.id, since: 0 });
    const closed = await socket.whenClosed(10_000);
    expect(closed.code).toBe(closeCodes.policyViolation);
    expect(closed.reason).toMatch(/replay budget/);
    const replayed = socket.jobEvents(job.id).length;
    const allowed = limits.replayEvents + ((Date.now() - started) / 1000) * limits.replayPerS;
    expect(replayed).toBeLessThanOrEqual(allowed);
    expect(replayed).toBeGreaterThan(done.seq);
  });

  it('lets a client resume from its last seq again and again: a resume costs what it replays', async ({
    api,
    origin,
  }) => {
    const { job, done, socket } = await finishedJobAndSocket(api, origin);
    for (let i = 0; i < 15; i++) {
      const from = socket.messages.length;
      await socket.subscribe(job.id, done.seq - 3);
      await socket.waitFor((m) => m.type === 'job' && m.seq === done.seq, { from });
    }
    expect(socket.isOpen).toBe(true);
    // 15 resumes of 3 events: 45, well inside the budget of 100.
    expect(socket.jobEvents(job.id)).toHaveLength(45);
  });
});
