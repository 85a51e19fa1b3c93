import type {
  BucketStats,
  Quality,
  StatsAnswer,
  WindowCredits,
} from '../../../../shared/schemas/stats.ts';
import { type ChartRow, type ChartSpec, countSteps, durationSteps } from '../charts/chart-data.ts';
import { palette } from '../charts/palette.ts';
import { bucketLabel, count, duration, percent, sigma } from '../format.ts';

/** The dashboard's charts: what each draws, and how its rows come from a stats answer. */
export const figureSpecs = {
  jobs: {
    id: 'jobs',
    title: 'Jobs per interval, by outcome',
    columns: [
      { label: 'Succeeded', color: palette.succeeded, draw: 'bar', format: count },
      { label: 'Failed', color: palette.failed, draw: 'bar', format: count },
      { label: 'Canceled', color: palette.canceled, draw: 'bar', format: count },
      { label: 'Open', color: palette.open, draw: 'bar', format: count },
    ],
    left: { format: count, steps: countSteps },
  },
  quality: {
    id: 'quality',
    title: 'Success rate and sigma level',
    columns: [
      {
        label: 'Success rate',
        color: palette.successRate,
        draw: 'line',
        format: (rate) => percent(rate),
      },
      { label: 'Sigma', color: palette.sigma, draw: 'line', axis: 'right', format: sigma },
    ],
    left: { range: [0, 1], format: (rate) => `${Math.round(rate * 100)}%` },
    right: { range: [0, 6], format: (level) => level.toFixed(0) },
  },
  wait: {
    id: 'wait',
    title: 'Queue wait',
    columns: [
      { label: 'p50', color: palette.p50, draw: 'line', format: duration },
      { label: 'p95', color: palette.p95, draw: 'line', format: duration },
      { label: 'p99', color: palette.p99, draw: 'line', format: duration },
    ],
    left: { format: duration, steps: durationSteps },
  },
  run: {
    id: 'run',
    title: 'Run time',
    columns: [
      { label: 'p50', color: palette.p50, draw: 'line', format: duration },
      { label: 'p95', color: palette.p95, draw: 'line', format: duration },
      { label: 'p99', color: palette.p99, draw: 'line', format: duration },
    ],
    left: { format: duration, steps: durationSteps },
  },
  credits: {
    id: 'credits',
    title: 'Credits sold, spent and refunded (all models)',
    columns: [
      { label: 'Sold', color: palette.purchased, draw: 'line', format: count },
      { label: 'Spent', color: palette.spent, draw: 'line', format: count },
      { label: 'Refunded', color: palette.refunded, draw: 'line', format: count },
    ],
    left: { format: count, steps: countSteps },
  },
} as const satisfies Record<string, ChartSpec>;

export type FigureName = keyof typeof figureSpecs;

/** The figures of no jobs at all. */
export const noJobs = (): Quality => ({
  jobs: 0,
  succeeded: 0,
  failed: 0,
  canceled: 0,
  open: 0,
  failedByCode: {},
  successRate: null,
  dpmo: null,
  sigma: null,
  queueWaitMs: { samples: 0, p50: null, p95: null, p99: null },
  runTimeMs: { samples: 0, p50: null, p95: null, p99: null },
});

/** The window's figures of one model (`''`: every model together). */
export function qualityOf(answer: StatsAnswer, model: string): Quality {
  if (model === '') return answer.overall;
  return answer.data.find((m) => m.model === model) ?? noJobs();
}

/** The series of one model (`''`: every model together), every bucket listed. */
export function seriesOf(answer: StatsAnswer, model: string): BucketStats[] {
  const overall = answer.overall.series ?? [];
  if (model === '') return overall;
  const entry = answer.data.find((m) => m.model === model);
  return entry?.series ?? overall.map((b) => ({ start: b.start, ...noJobs() }));
}

/** Each figure's rows for one model of an answer. */
export function figureRows(answer: StatsAnswer, model: string): Record<FigureName, ChartRow[]> {
  const stepMs = answer.bucketMs ?? 60_000;
  const buckets = seriesOf(answer, model);
  const acrossDays = Date.parse(answer.to) - Date.parse(answer.from) > 86_400_000;
  const row = (start: string, values: (number | null)[]): ChartRow => {
    const at = Date.parse(start);
    return { start: at, label: bucketLabel(at, stepMs, acrossDays), values };
  };
  const credits: NonNullable<WindowCredits['series']> = answer.credits.series ?? [];
  return {
    jobs: buckets.map((b) => row(b.start, [b.succeeded, b.failed, b.canceled, b.open])),
    quality: buckets.map((b) => row(b.start, [b.successRate, b.sigma])),
    wait: buckets.map((b) =>
      row(b.start, [b.queueWaitMs.p50, b.queueWaitMs.p95, b.queueWaitMs.p99]),
    ),
    run: buckets.map((b) => row(b.start, [b.runTimeMs.p50, b.runTimeMs.p95, b.runTimeMs.p99])),
    credits: credits.map((b) => row(b.start, [b.purchased, b.spent, b.refunded])),
  };
}
