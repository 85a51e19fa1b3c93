/**
 * What a chart is and draws, from the rows its table shows: no DOM, so it is tested in Node.
 * uPlot draws series in order, each bar from zero to its value; stacked bars are drawn as
 * running totals, the tallest first, so each total covers the layers below it only where it
 * is higher: the stack reads bottom to top in the order the columns are given.
 */

export interface ChartColumn {
  label: string;
  color: string;
  /**
   * Bars stack on one another, the first column at the bottom; lines stand on their own; a
   * `table` column is only read (the table, the readout), not drawn.
   */
  draw: 'bar' | 'line' | 'table';
  /** The axis the column is read against. */
  axis?: 'left' | 'right';
  /** How a value reads in the table, the readout and the axis. */
  format(value: number): string;
}

export interface AxisSpec {
  /** Fixed bounds; otherwise from zero to a little above the highest value. */
  range?: readonly [number, number];
  /** The steps its ticks may take (`countSteps`, `durationSteps`); any, by default. */
  steps?: readonly number[];
  format(value: number): string;
}

/** What a chart shows: its columns (series) and axes. */
export interface ChartSpec {
  /** Names the figure's elements (`<id>-table`) and what tests look for. */
  id: string;
  title: string;
  columns: readonly ChartColumn[];
  left: AxisSpec;
  right?: AxisSpec;
  /** CSS pixels; the width follows the figure's. */
  height?: number;
}

/** One bucket: its start (epoch ms), its label, and one value per column (null: none). */
export interface ChartRow {
  start: number;
  label: string;
  values: (number | null)[];
}

/** One uPlot series: the column it draws and its values, as drawn. */
export interface DrawnSeries {
  column: number;
  values: (number | null)[];
}

/**
 * The x of each bucket (its middle, in seconds, as uPlot's time scale wants) and the series
 * in drawing order: the bars' running totals, tallest first (none where a total is 0, so an
 * empty bucket draws nothing), then the lines.
 *
 * @example
 * drawnSeries([{ start: 0, label: '00:00', values: [1, 2] }], bars2, 60_000);
 * // { xs: [30], series: [{ column: 1, values: [3] }, { column: 0, values: [1] }] }
 */
export function drawnSeries(
  rows: readonly ChartRow[],
  columns: readonly ChartColumn[],
  stepMs: number,
): { xs: number[]; series: DrawnSeries[] } {
  const xs = rows.map((r) => (r.start + stepMs / 2) / 1000);
  const bars = columns.flatMap((c, i) => (c.draw === 'bar' ? [i] : []));
  const totals = rows.map(() => 0);
  const stacked = bars.map((column) => ({
    column,
    values: rows.map((row, r) => {
      const total = (totals[r] ?? 0) + (row.values[column] ?? 0);
      totals[r] = total;
      return total === 0 ? null : total;
    }),
  }));
  const lines = columns.flatMap((c, column) =>
    c.draw === 'line' ? [{ column, values: rows.map((row) => row.values[column] ?? null) }] : [],
  );
  return { xs, series: [...stacked.reverse(), ...lines] };
}

/** Ticks of a count: whole numbers. */
export const countSteps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5];
/** Ticks of a duration in ms: whole ms, then seconds and minutes a clock reads. */
export const durationSteps = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000,
  300_000, 600_000, 900_000, 1_800_000, 3_600_000,
];
