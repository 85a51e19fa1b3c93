import { describe, expect } from 'vitest';
import { closeCodes } from '../../shared/ws-messages.ts';
import { apiClient } from '../helpers/api.ts';
import { submitJob } from '../helpers/expectations.ts';
import { test } from '../helpers/fixtures.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
import { isTerminal, type JobMessage, openSocket, streamProblems } from '../helpers/ws-client.ts';

// One data directory, one origin at a time: each test stops it mid-job and starts the next.
// A short shutdown grace: SIGTERM re-queues the running job instead of draining it.
const env = { PROGRESS_INTERVAL_MS: '0', SHUTDOWN_GRACE_MS: '100' };

interface Live {
  /** The origin running now. */
  origin: OriginProcess;
  /** Starts the next origin on the same data directory. */
  restart(): Promise<void>;
}

const it = test.extend('live', { scope: 'file' }, async ({ fileOrigins }) => {
  const live: Live = {
    origin: await fileOrigins.start({ env }),
    async restart() {
      live.origin = await fileOrigins.start({ dataDir: live.origin.dataDir, env });
    },
  };
  return live;
});

/**
 * Follows a job from seq 1, stops the origin with `signal` once some progress was seen,
 * restarts it on the same data, resumes with `since` and answers both sockets' events.
 */
async function resumeAcross(live: Live, signal: NodeJS.Signals) {
  const api = apiClient(live.origin.url);
  const { token } = await api.signUp();
  const job = await submitJob(api, token, 'steps', { steps: 30, stepMs: 40 });
  const before = await openSocket(live.origin.url, { token });
  await before.subscribe(job.id, 0);
  await before.waitFor((m) => m.type === 'job' && m.event === 'progress' && m.job.progress >= 0.2);

  await live.origin.kill(signal);
  const closed = await before.whenClosed();
  const seen = before.jobEvents(job.id);
  const last = seen.at(-1)?.seq ?? 0;

  await live.restart();
  const after = await openSocket(live.origin.url, { token });
  const subscribed = await after.subscribe(job.id, last);
  expect(subscribed).toMatchObject({ type: 'subscribed' });
  const ended = seen.some(isTerminal);
  const rest = ended ? after.jobEvents(job.id) : await after.untilTerminal(job.id);
  return { job, token, closed, seen, last, rest };
}

function expectCompleteUnion(seen: JobMessage[], rest: JobMessage[], last: number) {
  expect(streamProblems(seen.concat(rest))).toEqual([]);
  if (rest.length > 0) expect(rest[0]?.seq).toBe(last + 1);
  const union = new Set([...seen, ...rest].map((e) => e.seq));
  expect(union.size).toBe(seen.length + rest.length);
}

describe('resuming a job stream across an origin restart', () => {
  it('after SIGKILL: the resumed socket gets every later event, the job re-runs and succeeds', async ({
    live,
  }) => {
    const { job, token, closed, seen, last, rest } = await resumeAcross(live, 'SIGKILL');
    expect(closed.code).toBe(1006); // no close frame from a killed process
    expect(seen.some((e) => e.event === 'progress')).toBe(true);
    expectCompleteUnion(seen, rest, last);
    // The interrupted run is re-queued (a new `queued` then `started`), not lost.
    const kinds = rest.map((e) => e.event);
    expect(kinds.slice(kinds.indexOf('queued'), kinds.indexOf('queued') + 2)).toEqual([
      'queued',
      'started',
    ]);
    expect(kinds.at(-1)).toBe('succeeded');
    const final = await apiClient(live.origin.url).call('GET', `/v1/jobs/${job.id}`, { token });
    expect(rest.at(-1)?.job).toEqual(final.body);
  });

  it('after SIGTERM: the socket is told to reconnect (1012), and the resumed stream completes', async ({
    live,
  }) => {
    const { closed, seen, last, rest } = await resumeAcross(live, 'SIGTERM');
    expect(closed.code).toBe(closeCodes.restarting);
    expectCompleteUnion(seen, rest, last);
    // Past the grace the job went back to the queue and ran again, rather than failing.
    const kinds = [...seen, ...rest].map((e) => e.event);
    expect(kinds.filter((k) => k === 'queued')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'started')).toHaveLength(2);
    expect(rest.at(-1)).toMatchObject({ event: 'succeeded', job: { error: null } });
  });
});
