/**
 * SQLite's replays from memory (`origin/store/sqlite/recent-events.ts`): a `since` replay
 * answers what the file holds, whether the store kept the events or another writer on the
 * file added some, and whatever it has forgotten.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecentEvents } from '../../../origin/store/sqlite/recent-events.ts';
import type { JobEvent } from '../../../origin/store/store.ts';
import { claimNext, createdJob, makeUser, tempDir, tempStore, testLeaseMs } from '../support.ts';

const seqs = (events: readonly JobEvent[] | undefined) => events?.map((e) => e.seq);
/** An event as the file stores it (a kept one also says whether a webhook delivery came). */
const stored = (events: readonly JobEvent[]) => events.map(({ delivery, ...rest }) => rest);

describe('recent events of a SQLite store', () => {
  it('replays a job it wrote as the file holds it, from any since', async () => {
    const file = join(tempDir(), 'recent.sqlite');
    const store = tempStore(file);
    const reader = tempStore(file); // has kept nothing: reads the file
    const user = await makeUser(store, 10);
    const job = await createdJob(store, user.id, { cost: 1 });
    const { claim } = await claimNext(store);
    await store.jobs.progress(claim, 0.5, Date.now());
    for (const since of [0, 1, 2, 3, 7]) {
      for (const limit of [undefined, 1, 2]) {
        const kept = await store.jobs.eventsSince(job.id, since, limit);
        expect(stored(kept)).toEqual(await reader.jobs.eventsSince(job.id, since, limit));
      }
    }
    expect(seqs(await store.jobs.eventsSince(job.id, 0))).toEqual([1, 2, 3]);
  });

  it('reads the file when another writer on it added events it did not keep', async () => {
    const file = join(tempDir(), 'two-writers.sqlite');
    const store = tempStore(file);
    const other = tempStore(file);
    const user = await makeUser(store, 10);
    const job = await createdJob(store, user.id, { cost: 1 });
    // The other store starts the job: this one kept only the queued event.
    const claimed = await other.jobs.claim('other-origin', Date.now(), testLeaseMs);
    expect(claimed?.job.id).toBe(job.id);
    const events = await store.jobs.eventsSince(job.id, 0);
    expect(events.map((e) => [e.seq, e.kind])).toEqual([
      [1, 'queued'],
      [2, 'started'],
    ]);
  });

  it('answers only a run that begins by the first event asked and ends at the latest', () => {
    const recent = new RecentEvents();
    const event = (seq: number) =>
      ({ jobId: 'job_a', seq, job: { input: {} } }) as unknown as JobEvent;
    for (const seq of [3, 4, 5]) recent.add(event(seq));
    expect(seqs(recent.since('job_a', 5, 2))).toEqual([3, 4, 5]);
    expect(seqs(recent.since('job_a', 5, 3, 1))).toEqual([4]);
    expect(seqs(recent.since('job_a', 5, 5))).toEqual([]);
    expect(recent.since('job_a', 5, 1)).toBeUndefined(); // seq 2 was never kept
    expect(recent.since('job_a', 6, 2)).toBeUndefined(); // the file has one more
    expect(recent.since('job_b', 1, 0)).toBeUndefined();
    recent.add(event(9)); // a gap: a new run starts
    expect(recent.since('job_a', 9, 5)).toBeUndefined();
    expect(seqs(recent.since('job_a', 9, 8))).toEqual([9]);
  });

  it('forgets the jobs written to least recently, past its bound', () => {
    const recent = new RecentEvents();
    for (let i = 0; i < 2_049; i++) {
      recent.add({ jobId: `job_${i}`, seq: 1, job: { input: {} } } as unknown as JobEvent);
    }
    expect(recent.since('job_0', 1, 0)).toBeUndefined();
    expect(seqs(recent.since('job_1', 1, 0))).toEqual([1]);
    expect(seqs(recent.since('job_2048', 1, 0))).toEqual([1]);
  });
});

describe('recent events, bounded by bytes', () => {
  it('forgets the oldest jobs when their inputs would pass the memory bound', () => {
    const recent = new RecentEvents();
    // Inputs near the body limit (64 KiB): 16 MiB hold about 250 of them, not 2,048.
    const input = { prompt: 'x'.repeat(64 * 1024) };
    const big = (i: number) =>
      ({ jobId: `job_${i}`, seq: 1, job: { input } }) as unknown as JobEvent;
    for (let i = 0; i < 1_000; i++) recent.add(big(i));
    expect(recent.bytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(recent.since('job_0', 1, 0)).toBeUndefined();
    expect(seqs(recent.since('job_999', 1, 0))).toEqual([1]);
  });
});
