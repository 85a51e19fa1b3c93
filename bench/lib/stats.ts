/** Nearest-rank percentile (p in 0..100); NaN for no samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export const round = (value: number, digits = 2): number =>
  Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : value;

/** Runs `rounds` rounds of each contender in turn (A B A B …), so drift hits both alike. */
export async function interleave<T extends string>(
  rounds: number,
  contenders: Record<T, () => Promise<void>>,
): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    for (const run of Object.values<() => Promise<void>>(contenders)) await run();
  }
}
