/**
 * The buckets of a window: aligned on multiples of their size since the epoch (UTC), so a
 * bucket holds the same jobs from one poll to the next, and a day bucket is a UTC day (or,
 * with an offset, the caller's day). The first and last buckets may stick out of the window;
 * only the window's rows are counted in them.
 */
export interface BucketGrid {
  /** The first bucket's start (epoch ms). */
  first: number;
  size: number;
  count: number;
}

/**
 * The grid of buckets of `size` ms that cover [from, to], days shifted by `offsetMs` (the
 * caller's day begins at UTC midnight − offset).
 *
 * @example
 * bucketGrid(90_000, 200_000, 60_000); // { first: 60_000, size: 60_000, count: 3 }
 */
export function bucketGrid(from: number, to: number, size: number, offsetMs = 0): BucketGrid {
  const first = Math.floor((from + offsetMs) / size) * size - offsetMs;
  return { first, size, count: Math.floor((to - first) / size) + 1 };
}

/** The start of each bucket, oldest first. */
export function bucketStarts(grid: BucketGrid): number[] {
  return Array.from({ length: grid.count }, (_, i) => grid.first + i * grid.size);
}

/**
 * `items` in their buckets by `at(item)`: one list per bucket, oldest first; items outside
 * the grid are left out.
 */
export function inBuckets<T>(
  grid: BucketGrid,
  items: readonly T[],
  at: (item: T) => number,
): T[][] {
  const buckets = Array.from({ length: grid.count }, (): T[] => []);
  for (const item of items) {
    buckets[Math.floor((at(item) - grid.first) / grid.size)]?.push(item);
  }
  return buckets;
}
