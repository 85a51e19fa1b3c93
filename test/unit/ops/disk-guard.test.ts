import { statfsSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type DiskGuard, diskGuard } from '../../../origin/ops/disk-guard.ts';
import { tempDir, waitFor } from '../support.ts';

/** The free space of `dir`'s file system now, as the guard computes it. */
function freeSpace(dir: string) {
  const fs = statfsSync(dir);
  return { bytes: fs.bavail * fs.bsize, percent: (fs.bavail / fs.blocks) * 100 };
}

function guard(dir: string, options: { minFreeBytes: number; minFreePercent: number }): DiskGuard {
  const g = diskGuard(dir, { ...options, intervalMs: 60_000 });
  onTestFinished(() => g.stop());
  return g;
}

describe('diskGuard on the real file system', () => {
  it('reports the free space of the folder’s file system', () => {
    const dir = tempDir();
    const now = freeSpace(dir);
    const state = guard(dir, { minFreeBytes: 0, minFreePercent: 0 }).state();
    // Other processes write meanwhile: close, not equal.
    expect(Math.abs(state.freeBytes - now.bytes)).toBeLessThan(now.bytes * 0.05 + 64 * 2 ** 20);
    expect(Math.abs(state.freePercent - now.percent)).toBeLessThan(1);
    expect(state.freePercent).toBe(Math.round(state.freePercent * 10) / 10);
    expect(state.low).toBe(false);
  });

  it('is low when the free bytes are below the threshold, and only then', () => {
    const dir = tempDir();
    const { bytes } = freeSpace(dir);
    expect(guard(dir, { minFreeBytes: bytes * 2, minFreePercent: 0 }).state().low).toBe(true);
    expect(guard(dir, { minFreeBytes: Math.floor(bytes / 2), minFreePercent: 0 }).state().low).toBe(
      false,
    );
  });

  it('is low when the free percentage is below the threshold, and only then', () => {
    const dir = tempDir();
    const { percent } = freeSpace(dir);
    expect(guard(dir, { minFreeBytes: 0, minFreePercent: 100 }).state().low).toBe(true);
    expect(
      guard(dir, { minFreeBytes: 0, minFreePercent: Math.min(100, percent + 1) }).state().low,
    ).toBe(true);
    expect(guard(dir, { minFreeBytes: 0, minFreePercent: percent / 2 }).state().low).toBe(false);
  });

  it('answers a cached state, measured again every interval until stopped', async () => {
    const g = diskGuard(tempDir(), { minFreeBytes: 0, minFreePercent: 0, intervalMs: 50 });
    onTestFinished(() => g.stop());
    const first = g.state();
    expect(g.state()).toBe(first);
    const next = await waitFor(() => g.state() !== first && g.state(), 5_000, 'a new measure');
    g.stop();
    const last = g.state();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(g.state()).toBe(last);
    expect(next.freeBytes).toBeGreaterThan(0);
  });
});
