/**
 * Fair scheduling through a real origin (two pool threads): a user's backlog does not hold
 * another user's one job behind it, and queued jobs carry their fair position and an
 * estimated start.
 */
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { openSocket, type QueueMessage } from '../helpers/ws-client.ts';

it.override({
  originOptions: { env: { FREE_GRANT_CREDITS: '100', USER_JOB_LIMIT: '60', QUEUE_LIMIT: '100' } },
});

/** About 80 ms of a thread per job. */
const aJob = { steps: 2, stepMs: 40 };

describe('the fair order', () => {
  it("starts B's one job within one of A's job times, though A queued 50 before it", async ({
    api,
  }) => {
    const a = (await api.signUp()).token;
    const b = (await api.signUp()).token;
    const backlog: Job[] = [];
    for (let i = 0; i < 50; i++) backlog.push(await submitJob(api, a, 'steps', aJob));
    const lone = await submitJob(api, b, 'steps', aJob);
    // B holds no thread, A holds both: B's job is next, and says so.
    expect(lone.queuePosition).toBe(1);
    expect(lone.etaSeconds).toEqual(expect.any(Number));
    // A still has a backlog (most of its 50 are queued behind B's one).
    const queuedOfA = await api.call<{ data: Job[] }>('GET', '/v1/jobs?status=queued&limit=100', {
      token: a,
    });
    expect(queuedOfA.body.data.length).toBeGreaterThan(20);
    const lastOfA = queuedOfA.body.data[0];
    expect(lastOfA?.queuePosition).toBeGreaterThan(1);
    expect(lastOfA?.etaSeconds).toBeGreaterThan(lone.etaSeconds ?? 0);

    const started = await api.waitForJob(b, lone.id, (j) => j.startedAt !== null);
    const ended = await Promise.all(backlog.map((j) => api.waitForJob(a, j.id)));
    expect(ended.every((j) => j.status === 'succeeded')).toBe(true);
    // A's jobs that started after B's was queued and before B's started: at most one (a
    // claim already under way when B's arrived).
    const created = Date.parse(lone.createdAt);
    const startedAt = Date.parse(started.startedAt ?? '');
    const aheadOfB = ended.filter((j) => {
      const t = Date.parse(j.startedAt ?? '');
      return t > created && t < startedAt;
    });
    expect(aheadOfB.length).toBeLessThanOrEqual(1);
    const runMs = Math.max(
      ...ended.map((j) => Date.parse(j.finishedAt ?? '') - Date.parse(j.startedAt ?? '')),
    );
    expect(startedAt - created).toBeLessThanOrEqual(2 * runMs + 50);
  });

  it('moves a followed job back in line when another user’s job goes ahead of it, over the socket', async ({
    api,
    origin,
  }) => {
    const a = (await api.signUp()).token;
    const b = (await api.signUp()).token;
    const hold = { steps: 40, stepMs: 50 };
    // A holds both threads and has two jobs queued; it follows its second.
    const running = [
      await submitJob(api, a, 'steps', hold),
      await submitJob(api, a, 'steps', hold),
    ];
    for (const job of running) await api.waitForJob(a, job.id, (j) => j.status === 'running');
    await submitJob(api, a, 'steps', aJob);
    const followed = await submitJob(api, a, 'steps', aJob);
    expect(followed.queuePosition).toBe(2);
    const socket = await openSocket(origin.url, { token: a });
    expect(await socket.subscribe(followed.id)).toMatchObject({ job: { queuePosition: 2 } });
    // B holds no thread: its job goes first, and A's followed job hears it is now 3rd.
    const bs = await submitJob(api, b, 'steps', aJob);
    expect(bs.queuePosition).toBe(1);
    const moved = (await socket.waitFor(
      (m) => m.type === 'queue' && m.queuePosition === 3,
    )) as QueueMessage;
    expect(moved).toMatchObject({ jobId: followed.id, etaSeconds: expect.any(Number) });
    for (const job of running) await api.call('POST', `/v1/jobs/${job.id}/cancel`, { token: a });
    await api.waitForJob(a, followed.id);
  });
});
