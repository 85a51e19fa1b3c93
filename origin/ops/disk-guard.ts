import { statfsSync } from 'node:fs';

export interface DiskState {
  freeBytes: number;
  freePercent: number;
  /** Below a threshold: new jobs are refused. */
  low: boolean;
}

export interface DiskGuard {
  state(): DiskState;
  stop(): void;
}

/**
 * Watches the free space of the data directory's file system (checked every
 * `intervalMs`, so the job path reads a cached answer). The system this replaces ran at
 * 90–97% disk; this one refuses new work well before that.
 *
 * @example
 * const disk = diskGuard('./data', { minFreeBytes: 512 << 20, minFreePercent: 5, intervalMs: 5000 });
 * if (disk.state().low) throw new ApiError('disk_full', '…');
 */
export function diskGuard(
  dir: string,
  options: { minFreeBytes: number; minFreePercent: number; intervalMs: number },
): DiskGuard {
  const measure = (): DiskState => {
    const fs = statfsSync(dir);
    const freeBytes = fs.bavail * fs.bsize;
    const freePercent = fs.blocks > 0 ? (fs.bavail / fs.blocks) * 100 : 0;
    return {
      freeBytes,
      freePercent: Math.round(freePercent * 10) / 10,
      low: freeBytes < options.minFreeBytes || freePercent < options.minFreePercent,
    };
  };
  let current = measure();
  const timer = setInterval(() => {
    current = measure();
  }, options.intervalMs);
  timer.unref();
  return {
    state: () => current,
    stop: () => clearInterval(timer),
  };
}
