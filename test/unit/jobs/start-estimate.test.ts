import { describe, expect, it } from 'vitest';
import { estimateStarts, toEtaSeconds } from '../../../origin/jobs/start-estimate.ts';

const now = 1_000_000;
const mean = (model: string) => (model === 'slow' ? 10_000 : 1_000);

describe('estimated starts', () => {
  it('starts at once while threads are free, then as the threads free up', () => {
    const starts = estimateStarts({
      queued: ['a', 'b', 'c', 'd'].map((id) => ({ id, model: 'fast' })),
      held: [],
      threadsOf: () => 2,
      meanRunMs: mean,
      now,
    });
    expect(Object.fromEntries(starts)).toEqual({ a: 0, b: 0, c: 1_000, d: 1_000 });
  });

  it('counts what the running jobs have left, never less than nothing', () => {
    const starts = estimateStarts({
      queued: [
        { id: 'q', model: 'fast' },
        { id: 'r', model: 'fast' },
      ],
      held: [
        { model: 'fast', startedAt: now - 400 },
        { model: 'fast', startedAt: now - 5_000 },
      ],
      threadsOf: () => 2,
      meanRunMs: mean,
      now,
    });
    // The second thread's job is overdue: it frees now; the first in 600 ms.
    expect(Object.fromEntries(starts)).toEqual({ q: 0, r: 600 });
  });

  it('simulates each model on its own pool: its run time, its threads, its holders', () => {
    const starts = estimateStarts({
      queued: [
        { id: 'x', model: 'slow' },
        { id: 'y', model: 'fast' },
        { id: 'z', model: 'fast' },
      ],
      // One thread per model. `fast`'s three holders: the one with the most left runs in it
      // (1,000 ms: its start unknown, taken as now), the others are storing what they made.
      // `slow`'s thread is free: its job waits for none of `fast`'s.
      held: [
        { model: 'fast', startedAt: now - 100 },
        { model: 'fast', startedAt: now - 2_000 },
        { model: 'fast', startedAt: null },
      ],
      threadsOf: () => 1,
      meanRunMs: mean,
      now,
    });
    expect(Object.fromEntries(starts)).toEqual({ x: 0, y: 1_000, z: 2_000 });
    // With two threads for `fast` and one for `slow`, each as its pool has them.
    const pools = estimateStarts({
      queued: ['s1', 's2', 'f1', 'f2', 'f3'].map((id) => ({
        id,
        model: id[0] === 's' ? 'slow' : 'fast',
      })),
      held: [{ model: 'slow', startedAt: now - 4_000 }],
      threadsOf: (model) => (model === 'fast' ? 2 : 1),
      meanRunMs: mean,
      now,
    });
    expect(Object.fromEntries(pools)).toEqual({ s1: 6_000, s2: 16_000, f1: 0, f2: 0, f3: 1_000 });
  });

  it('answers whole seconds, rounded up, never negative', () => {
    expect([toEtaSeconds(0), toEtaSeconds(1), toEtaSeconds(1_000), toEtaSeconds(-5)]).toEqual([
      0, 1, 1, 0,
    ]);
  });
});
