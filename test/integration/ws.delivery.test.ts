import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import {
  isTerminal,
  type JobMessage,
  openSocket,
  type QueueMessage,
  streamProblems,
} from '../helpers/ws-client.ts';

// Every progress report becomes an event, so streams are long and fast.
it.override({ originOptions: { env: { PROGRESS_INTERVAL_MS: '0', FREE_GRANT_CREDITS: '1000' } } });

const statusOf: Record<JobMessage['event'], Job['status']> = {
  queued: 'queued',
  started: 'running',
  progress: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
};

describe('WebSocket delivery of job events', () => {
  it('sends every event of a job in order, gapless, ending with the terminal one', async ({
    api,
    origin,
  }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });
    const job = await submitJob(api, token, 'steps', { steps: 8, stepMs: 20 });
    const subscribed = await socket.subscribe(job.id, 0);
    expect(subscribed).toMatchObject({ type: 'subscribed', jobId: job.id });

    const events = await socket.untilTerminal(job.id);
    expect(streamProblems(events)).toEqual([]);
    expect(events.map((e) => e.event)).toEqual([
      'queued',
      'started',
      ...Array<string>(8).fill('progress'),
      'succeeded',
    ]);
    for (const e of events) {
      expect(e.job).toMatchObject({ id: job.id, status: statusOf[e.event], seq: e.seq });
    }
    const progress = events.map((e) => e.job.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(1);

    const final = await api.call<Job>('GET', `/v1/jobs/${job.id}`, { token });
    expect(events.at(-1)?.job).toEqual(final.body);
    expect(final.body.seq).toBe(events.length);
  });

  it('goes live from the latest seq when subscribing without `since`', async ({ api, origin }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });
    const job = await submitJob(api, token, 'steps', { steps: 20, stepMs: 10 });
    const subscribed = await socket.subscribe(job.id);
    if (subscribed.type !== 'subscribed') throw new Error(JSON.stringify(subscribed));
    expect(subscribed.job.seq).toBe(subscribed.seq);

    const events = await socket.untilTerminal(job.id);
    expect(streamProblems(events, subscribed.seq + 1)).toEqual([]);
  });

  it('stays gapless and duplicate-free when a replay races live progress', async ({
    api,
    origin,
  }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });
    for (const delayMs of [0, 5, 15, 30, 60, 100]) {
      const job = await submitJob(api, token, 'steps', { steps: 50, stepMs: 5 });
      await sleep(delayMs);
      await socket.subscribe(job.id, 0);
      const events = await socket.untilTerminal(job.id);
      expect(streamProblems(events), `subscribed ${delayMs} ms after submit`).toEqual([]);
      expect(events.at(-1)?.event).toBe('succeeded');
    }
  });

  it('gives five tabs on one job the same complete sequence', async ({ api, origin }) => {
    const { token } = await api.signUp();
    const tabs = await Promise.all(
      Array.from({ length: 5 }, () => openSocket(origin.url, { token })),
    );
    const job = await submitJob(api, token, 'steps', { steps: 30, stepMs: 5 });
    await Promise.all(tabs.map((tab, i) => tab.subscribe(job.id, i % 2 === 0 ? 0 : undefined)));
    const streams = await Promise.all(tabs.map((tab) => tab.untilTerminal(job.id)));

    const full = streams[0] ?? [];
    expect(streamProblems(full)).toEqual([]);
    streams.forEach((events, i) => {
      if (i % 2 === 0) {
        expect(events).toEqual(full);
      } else {
        // Live-only tabs start where they joined, then see exactly what the others saw.
        const first = events[0]?.seq ?? 0;
        expect(streamProblems(events, first)).toEqual([]);
        expect(events).toEqual(full.slice(first - 1));
      }
    });
  });

  it('follows many jobs on one socket, each stream complete', async ({ api, origin }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });
    const jobs = await Promise.all(
      [4, 6, 8, 10, 12].map((steps) => submitJob(api, token, 'steps', { steps, stepMs: 10 })),
    );
    for (const job of jobs) await socket.subscribe(job.id, 0);
    for (const [i, job] of jobs.entries()) {
      const events = await socket.untilTerminal(job.id);
      expect(streamProblems(events), job.id).toEqual([]);
      expect(events.filter((e) => e.event === 'progress')).toHaveLength([4, 6, 8, 10, 12][i] ?? 0);
    }
    const foreign = socket.messages.filter(
      (m) => 'jobId' in m && !jobs.some((j) => j.id === m.jobId),
    );
    expect(foreign).toEqual([]);
  });

  it('stops delivering after unsubscribe', async ({ api, origin }) => {
    const { token } = await api.signUp();
    const leaving = await openSocket(origin.url, { token });
    const staying = await openSocket(origin.url, { token });
    const job = await submitJob(api, token, 'steps', { steps: 60, stepMs: 25 });
    await leaving.subscribe(job.id, 0);
    await staying.subscribe(job.id, 0);
    await leaving.waitFor((m) => m.type === 'job' && m.event === 'progress' && m.seq >= 4);

    leaving.send({ type: 'unsubscribe', jobId: job.id });
    await leaving.waitFor((m) => m.type === 'unsubscribed' && m.jobId === job.id);
    const cut = leaving.messages.length;
    const lastSeen = leaving.jobEvents(job.id).at(-1)?.seq ?? 0;

    const all = await staying.untilTerminal(job.id);
    await sleep(200); // anything still on its way to the leaving socket lands meanwhile
    expect(streamProblems(all)).toEqual([]);
    expect(all.length).toBeGreaterThan(lastSeen + 10);
    expect(leaving.messages.slice(cut)).toEqual([]);
    expect(leaving.isOpen).toBe(true);
  });

  it('tells a queued job its new position as the jobs ahead start, without a storm', async ({
    api,
    origin,
  }) => {
    const { token } = await api.signUp();
    const socket = await openSocket(origin.url, { token });
    const long = { steps: 200, stepMs: 50 };
    // Both pool threads busy, three jobs queued behind them; cancels make room one at a time.
    const [first, second] = [
      await submitJob(api, token, 'steps', long),
      await submitJob(api, token, 'steps', long),
    ];
    await api.waitForJob(token, second.id, (j) => j.status === 'running');
    const ahead = await submitJob(api, token, 'steps', long);
    await submitJob(api, token, 'steps', long);
    const third = await submitJob(api, token, 'steps', { steps: 2, stepMs: 10 });
    expect(third.queuePosition).toBe(3);

    const subscribed = await socket.subscribe(third.id);
    expect(subscribed).toMatchObject({ type: 'subscribed', job: { queuePosition: 3 } });
    const moved = (position: number) =>
      socket.waitFor((m) => m.type === 'queue' && m.queuePosition === position);
    const cancel = (id: string) =>
      api.call('POST', `/v1/jobs/${id}/cancel`, { token }).then((r) => {
        expect(r.status).toBe(200);
      });
    await cancel(first.id); // the first queued job starts
    await moved(2);
    await cancel(second.id); // and the second
    await moved(1);
    await cancel(ahead.id); // a thread is free for the followed job
    const events = await socket.untilTerminal(third.id);
    expect(streamProblems(events, 2)).toEqual([]);
    expect(events[0]?.event).toBe('started');

    const moves = socket.messages.filter((m): m is QueueMessage => m.type === 'queue');
    // Positions as they moved (an estimate that moved alone repeats a position).
    const positions = moves.map((m) => m.queuePosition).filter((p, i, all) => p !== all[i - 1]);
    expect(positions).toEqual([2, 1]);
    for (const m of moves) {
      expect(m).toMatchObject({ jobId: third.id, seq: 1, etaSeconds: expect.any(Number) });
    }
    const startedAt = socket.messages.findIndex((m) => m.type === 'job' && m.event === 'started');
    expect(socket.messages.findLastIndex((m) => m.type === 'queue')).toBeLessThan(startedAt);
    expect(socket.messages.filter(isTerminal)).toHaveLength(1);
    const rest = await api.call('GET', '/v1/jobs?status=queued', { token });
    for (const job of rest.body.data as Job[]) await cancel(job.id);
  });
});
