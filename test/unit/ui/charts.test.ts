import { describe, expect, it } from 'vitest';
import { type ChartColumn, drawnSeries } from '../../../edge/ui/src/charts/chart-data.ts';
import { duration, percent, sigma } from '../../../edge/ui/src/format.ts';
import { figureRows, qualityOf, seriesOf } from '../../../edge/ui/src/views/dashboard-figures.ts';
import type { BucketStats, StatsAnswer } from '../../../shared/schemas/stats.ts';

const column = (label: string, draw: ChartColumn['draw']): ChartColumn => ({
  label,
  color: '#000000',
  draw,
  format: String,
});

describe('what a chart draws', () => {
  it('stacks bars as running totals, the tallest drawn first, and leaves empty buckets undrawn', () => {
    const columns = [column('a', 'bar'), column('b', 'bar'), column('line', 'line')];
    const rows = [
      { start: 0, label: '0', values: [1, 2, 7] },
      { start: 60_000, label: '1', values: [0, 0, null] },
      { start: 120_000, label: '2', values: [0, 3, 5] },
    ];
    const { xs, series } = drawnSeries(rows, columns, 60_000);
    // The middle of each minute, in seconds.
    expect(xs).toEqual([30, 90, 150]);
    expect(series).toEqual([
      { column: 1, values: [3, null, 3] },
      { column: 0, values: [1, null, null] },
      { column: 2, values: [7, null, 5] },
    ]);
  });

  it('leaves out the columns that are only read, in the table', () => {
    const { series } = drawnSeries(
      [{ start: 0, label: '0', values: [1, 2] }],
      [column('drawn', 'bar'), column('read', 'table')],
      1_000,
    );
    expect(series).toEqual([{ column: 0, values: [1] }]);
  });
});

describe('numbers in words', () => {
  it('reads durations, rates and sigma levels, a dash for none', () => {
    expect([duration(850), duration(2_400), duration(210_000), duration(null)]).toEqual([
      '850 ms',
      '2.4 s',
      '3.5 min',
      '–',
    ]);
    expect([percent(0.6), percent(1), percent(null)]).toEqual(['60.0%', '100.0%', '–']);
    expect([sigma(1.754), sigma(6), sigma(null)]).toEqual(['1.75', '6.00', '–']);
  });
});

const bucket = (start: string, over: Partial<BucketStats> = {}): BucketStats => ({
  start,
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
  ...over,
});

describe("the dashboard's rows of a stats answer", () => {
  const busy = bucket('2025-01-01T11:05:00.000Z', {
    jobs: 3,
    succeeded: 1,
    failed: 1,
    canceled: 1,
    successRate: 0.5,
    sigma: 1.5,
    queueWaitMs: { samples: 2, p50: 10, p95: 20, p99: 20 },
    runTimeMs: { samples: 2, p50: 100, p95: 300, p99: 300 },
  });
  const series = [bucket('2025-01-01T11:00:00.000Z'), busy];
  // The window's figures are the busy bucket's: the other one is empty.
  const { start: _start, ...overall } = busy;
  const answer: StatsAnswer = {
    scope: 'all',
    window: '1h',
    from: '2025-01-01T11:00:00.000Z',
    to: '2025-01-01T11:09:00.000Z',
    bucket: '5m',
    bucketMs: 300_000,
    data: [{ model: 'steps', ...overall, series }],
    overall: { ...overall, series },
    credits: {
      purchased: 0,
      granted: 0,
      spent: 3,
      refunded: 2,
      takenBack: 0,
      adjusted: 0,
      net: -1,
      series: [
        { start: series[0]?.start ?? '', ...noCredits() },
        { start: busy.start, ...noCredits(), spent: 3, refunded: 2, net: -1 },
      ],
    },
  };

  it('draws every bucket of every figure, from the series of the model chosen', () => {
    const rows = figureRows(answer, 'steps');
    expect(rows.jobs.map((r) => r.values)).toEqual([
      [0, 0, 0, 0],
      [1, 1, 1, 0],
    ]);
    expect(rows.quality[1]?.values).toEqual([0.5, 1.5]);
    expect(rows.wait[1]?.values).toEqual([10, 20, 20]);
    expect(rows.run[1]?.values).toEqual([100, 300, 300]);
    expect(rows.credits.map((r) => r.values)).toEqual([
      [0, 0, 0],
      [0, 3, 2],
    ]);
    expect(rows.jobs.map((r) => r.start)).toEqual(series.map((b) => Date.parse(b.start)));
  });

  it('answers no jobs, every bucket empty, for a model the window has none of', () => {
    expect(seriesOf(answer, 'gone').map((b) => [b.start, b.jobs, b.successRate])).toEqual([
      [series[0]?.start, 0, null],
      [busy.start, 0, null],
    ]);
    expect(qualityOf(answer, 'gone')).toMatchObject({ jobs: 0, sigma: null });
    expect(qualityOf(answer, '')).toBe(answer.overall);
  });
});

function noCredits() {
  return { purchased: 0, granted: 0, spent: 0, refunded: 0, takenBack: 0, adjusted: 0, net: 0 };
}
