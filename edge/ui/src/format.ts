/** How numbers read on the page: counts, rates, durations and the buckets of a chart. */

const dayMs = 86_400_000;

/** A count, grouped in the reader's locale. */
export const count = (n: number): string => n.toLocaleString();

/**
 * A duration in ms: `850 ms`, `2.4 s`, `3.5 min`; a dash for none.
 *
 * @example
 * duration(2_400); // '2.4 s'
 */
export function duration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** A rate of 0..1 as a percentage with one decimal; a dash for none. */
export const percent = (rate: number | null): string =>
  rate === null ? '–' : `${(rate * 100).toFixed(1)}%`;

/** A sigma level with two decimals; a dash for none. */
export const sigma = (level: number | null): string => (level === null ? '–' : level.toFixed(2));

/**
 * A bucket as the reader's clock names it: its time within a day, or its date for a day's
 * bucket; with the date too when buckets span days (a week of 6-hour buckets).
 *
 * @example
 * bucketLabel(Date.UTC(2025, 0, 1, 11, 10), 300_000, false); // '11:10' (in UTC)
 */
export function bucketLabel(start: number, stepMs: number, acrossDays: boolean): string {
  const at = new Date(start);
  if (stepMs >= dayMs) return at.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (!acrossDays) return time;
  return `${at.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
}
