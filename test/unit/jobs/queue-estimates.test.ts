import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { QueueEstimates } from '../../../origin/jobs/queue-estimates.ts';
import type { JobEvent, QueueSnapshot } from '../../../origin/store/store.ts';
import type { Job } from '../../../shared/schemas/jobs.ts';

type QueuedRow = QueueSnapshot['queued'][number];
/** A queued row of the snapshot, of the model `m`. */
const row = (id: string, userId = 'u'): QueuedRow => ({
  id,
  userId,
  model: 'm',
  seq: 1,
  createdAt: 0,
  deadlineAt: null,
  userLastStartedAt: null,
});

const queuedJob = (id: string): Job => ({
  id,
  model: 'm',
  format: null,
  status: 'queued',
  progress: 0,
  queuePosition: 1,
  etaSeconds: null,
  deadline: null,
  input: {},
  cost: 1,
  createdAt: new Date().toISOString(),
  startedAt: null,
  finishedAt: null,
  error: null,
  output: null,
  outputExpired: false,
  seq: 1,
});

function estimatesOver(snapshot: () => QueueSnapshot, readMs = 0) {
  const listeners: ((e: JobEvent) => void)[] = [];
  let reads = 0;
  const estimates = new QueueEstimates({
    store: {
      async queue() {
        reads++;
        if (readMs > 0) await sleep(readMs);
        return snapshot();
      },
    },
    events: {
      listen(listener) {
        listeners.push(listener);
        return () => undefined;
      },
    },
    threadsOf: () => 1,
    defaultRunMs: 2_000,
  });
  const succeeded = (runMs: number) => {
    const at = Date.now();
    const job = {
      ...queuedJob('done'),
      status: 'succeeded' as const,
      startedAt: new Date(at - runMs).toISOString(),
      finishedAt: new Date(at).toISOString(),
    };
    for (const l of listeners)
      l({ jobId: 'done', userId: 'u', seq: 3, kind: 'succeeded', job, createdAt: at });
  };
  return { estimates, succeeded, reads: () => reads };
}

describe('queue estimates', () => {
  it('estimates from the default until a job of the model ended, then from what it took', async () => {
    const queue: QueueSnapshot = {
      queued: ['a', 'b', 'c'].map((id) => row(id)),
      held: [],
    };
    const { estimates, succeeded } = estimatesOver(() => queue);
    const [a, , c] = await estimates.withEtas(['a', 'b', 'c'].map(queuedJob));
    expect([a?.etaSeconds, c?.etaSeconds]).toEqual([0, 4]);
    succeeded(6_000);
    expect(estimates.meanRunMs('m')).toBe(6_000);
    succeeded(1_000);
    // A moving mean: the newest run moves it a fifth of the way.
    expect(estimates.meanRunMs('m')).toBe(5_000);
    expect(estimates.retryAfterSeconds('m')).toBe(5);
  });

  it('does not add the time the queue took to read to the estimates read from it', async () => {
    const queue: QueueSnapshot = { queued: ['a', 'b', 'c'].map((id) => row(id)), held: [] };
    // A read slow enough to pass a whole millisecond or more, as on a busy machine.
    const { estimates } = estimatesOver(() => queue, 30);
    const etas = await estimates.withEtas(['a', 'b', 'c'].map(queuedJob));
    expect(etas.map((job) => job.etaSeconds)).toEqual([0, 2, 4]);
  });

  it('estimates a new job from the queue its create read, and keeps that read', async () => {
    const queue: QueueSnapshot = { queued: ['a', 'b'].map((id) => row(id)), held: [] };
    const { estimates, reads } = estimatesOver(() => queue);
    // The create's own read of the queue, the new job 'b' in it: nothing more is read.
    expect((await estimates.withEta(queuedJob('b'), queue)).etaSeconds).toBe(2);
    expect((await estimates.withEta(queuedJob('a'))).etaSeconds).toBe(0);
    expect(reads()).toBe(0);
  });

  it('reads the queue once for a page, again for a job newer than its snapshot', async () => {
    let queue: QueueSnapshot = {
      queued: [row('a')],
      held: [],
    };
    const { estimates, reads } = estimatesOver(() => queue);
    await estimates.withEtas([queuedJob('a'), queuedJob('a')]);
    await estimates.withEta(queuedJob('a'));
    expect(reads()).toBe(1);
    queue = {
      queued: [
        ...queue.queued,
        {
          id: 'n',
          userId: 'v',
          model: 'm',
          seq: 1,
          createdAt: 0,
          deadlineAt: null,
          userLastStartedAt: null,
        },
      ],
      held: [],
    };
    expect((await estimates.withEta(queuedJob('n'))).etaSeconds).toBe(2);
    expect(reads()).toBe(2);
    // A job that is not queued keeps no estimate, and costs no read.
    const running = { ...queuedJob('r'), status: 'running' as const, queuePosition: null };
    expect((await estimates.withEta(running)).etaSeconds).toBeNull();
    expect(reads()).toBe(2);
  });

  it('counts the threads of every origin holding a job: two origins, twice the threads', async () => {
    const queued = ['a', 'b', 'c', 'd'].map((id) => row(id));
    const now = Date.now();
    const held = (origins: string[]) =>
      origins.map((claimedBy) => ({ userId: 'v', model: 'm', startedAt: now, claimedBy }));
    const { estimates } = estimatesOver(() => ({ queued, held: [] }));
    // One thread per origin, each busy for the default 2 s.
    const one = estimates.starts({ queued, held: held(['o1']) }, now);
    const two = estimates.starts({ queued, held: held(['o1', 'o2']) }, now);
    expect([...one.values()]).toEqual([2_000, 4_000, 6_000, 8_000]);
    expect([...two.values()]).toEqual([2_000, 2_000, 4_000, 4_000]);
  });
});
