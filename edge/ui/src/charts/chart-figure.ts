import uPlot from 'uplot';
import { h } from '../dom.ts';
import {
  type AxisSpec,
  type ChartColumn,
  type ChartRow,
  type ChartSpec,
  drawnSeries,
} from './chart-data.ts';

export type { AxisSpec, ChartColumn, ChartRow, ChartSpec };

let figures = 0;

/** The indices of a series' values that have no neighbour to draw a segment to. */
const isolated: uPlot.Series.Points.Filter = (u, seriesIdx) => {
  const values = u.data[seriesIdx] ?? [];
  const shown: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] == null) continue;
    if (values[i - 1] == null && values[i + 1] == null) shown.push(i);
  }
  return shown;
};

const cssVar = (name: string, fallback: string) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

/**
 * A chart (uPlot on a canvas) over time buckets, with its legend, a readout of the bucket
 * under the cursor (the latest otherwise), and a table of every number drawn: screen readers
 * read the table (the canvas is hidden from them); sighted readers can show it with a button.
 * The chart follows its figure's width, so it fits a phone.
 *
 * @example
 * const figure = new ChartFigure({ id: 'jobs', title: 'Jobs', columns, left: { format: count } });
 * parent.append(figure.el);
 * figure.update(rows, 60_000);
 */
export class ChartFigure {
  readonly el: HTMLElement;
  readonly #spec: ChartSpec;
  readonly #canvas: HTMLElement;
  readonly #readout: HTMLElement;
  readonly #body: HTMLTableSectionElement;
  #rows: readonly ChartRow[] = [];
  #stepMs = 60_000;
  #plot: uPlot | undefined;
  /** uPlot series (after x) → the column each draws. */
  #columnOf: number[] = [];

  constructor(spec: ChartSpec) {
    this.#spec = spec;
    const tableId = `${spec.id}-table-${++figures}`;
    const toggle = h(
      'button',
      // It only shows the table: screen readers read it either way.
      { type: 'button', class: 'secondary small', 'aria-controls': tableId },
      'Show numbers',
    );
    this.#readout = h('p', { class: 'chart-readout', 'aria-hidden': 'true' });
    this.#canvas = h('div', { class: 'chart-canvas', 'aria-hidden': 'true' });
    this.#body = h('tbody');
    const legend = h(
      'ul',
      { class: 'chart-legend', 'aria-hidden': 'true' },
      ...spec.columns
        .filter((c) => c.draw !== 'table')
        .map((c) => {
          const swatch = h('span', { class: `swatch ${c.draw}` });
          swatch.style.background = c.color;
          return h('li', {}, swatch, c.label);
        }),
    );
    const table = h(
      'table',
      { id: tableId },
      h('caption', {}, `${spec.title}, per interval`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Interval'),
          ...spec.columns.map((c) => h('th', { scope: 'col' }, c.label)),
        ),
      ),
      this.#body,
    );
    const numbers = h('div', { class: 'chart-numbers' }, table);
    this.el = h(
      'figure',
      { class: 'chart', 'data-chart': spec.id },
      h('figcaption', {}, h('span', { class: 'chart-title' }, spec.title), toggle),
      legend,
      this.#readout,
      this.#canvas,
      numbers,
    );
    toggle.addEventListener('click', () => {
      const shown = this.el.classList.toggle('numbers-shown');
      toggle.textContent = shown ? 'Hide numbers' : 'Show numbers';
    });
    new ResizeObserver(() => this.#resize()).observe(this.#canvas);
  }

  /** Draws these buckets (each `stepMs` long) and lists them in the table. */
  update(rows: readonly ChartRow[], stepMs: number): void {
    this.#rows = rows;
    this.#stepMs = stepMs;
    const { xs, series } = drawnSeries(rows, this.#spec.columns, stepMs);
    const data: uPlot.AlignedData = [xs, ...series.map((s) => s.values)];
    const columnOf = series.map((s) => s.column);
    if (!this.#plot || columnOf.join() !== this.#columnOf.join()) {
      this.#plot?.destroy();
      this.#columnOf = columnOf;
      this.#plot = new uPlot(this.#options(), data, this.#canvas);
      this.#canvas.dataset.drawn = 'true';
    } else {
      this.#plot.setData(data);
    }
    this.#showReadout(rows.length - 1);
    this.#renderTable();
  }

  #renderTable(): void {
    const { columns } = this.#spec;
    this.#body.replaceChildren(
      ...this.#rows.map((row) =>
        h(
          'tr',
          { 'data-start': new Date(row.start).toISOString() },
          h('th', { scope: 'row' }, row.label),
          ...columns.map((c, i) => {
            const value = row.values[i] ?? null;
            return h(
              'td',
              { 'data-value': value === null ? '' : String(value) },
              value === null ? '–' : c.format(value),
            );
          }),
        ),
      ),
    );
  }

  /** The bucket under the cursor, or the latest one. */
  #showReadout(index: number): void {
    const row = this.#rows[index];
    if (!row) {
      this.#readout.textContent = 'No data yet.';
      return;
    }
    const parts = this.#spec.columns.map((c, i) => {
      const value = row.values[i] ?? null;
      return `${c.label} ${value === null ? '–' : c.format(value)}`;
    });
    this.#readout.textContent = `${row.label}: ${parts.join(' · ')}`;
  }

  #resize(): void {
    const width = Math.floor(this.#canvas.clientWidth);
    if (this.#plot && width > 0 && width !== this.#plot.width) {
      this.#plot.setSize({ width, height: this.#spec.height ?? 200 });
    }
  }

  #options(): uPlot.Options {
    const { columns, left, right } = this.#spec;
    const muted = cssVar('--muted', '#6b6760');
    const line = cssVar('--line', '#dedad2');
    const axis = (spec: AxisSpec, scale: string, side: 0 | 1 | 2 | 3): uPlot.Axis => ({
      scale,
      side,
      stroke: muted,
      grid: { stroke: line, width: 1, show: side === 3 },
      ticks: { stroke: line, width: 1 },
      // Wide enough for its ticks (15 px) and longest label ("100%", "15 ms"), at ~8 px a character.
      size: (_u, values) => 20 + 8 * Math.max(3, ...(values ?? []).map((v) => String(v).length)),
      values: (_u, splits) => splits.map((v) => spec.format(v)),
      ...(spec.steps ? { incrs: [...spec.steps] } : {}),
    });
    const range = (spec: AxisSpec): uPlot.Scale.Range =>
      spec.range ? [...spec.range] : (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1];
    const bars = uPlot.paths.bars?.({ size: [0.8, 48], align: 0 });
    return {
      width: Math.max(200, Math.floor(this.#canvas.clientWidth) || 300),
      height: this.#spec.height ?? 200,
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      scales: {
        // The buckets' whole span, the last one included: x is each bucket's middle.
        x: {
          time: true,
          range: (_u, min, max) => [min - this.#stepMs / 2000, max + this.#stepMs / 2000],
        },
        left: { range: range(left) },
        ...(right ? { right: { range: range(right) } } : {}),
      },
      axes: [
        { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } },
        axis(left, 'left', 3),
        ...(right ? [axis(right, 'right', 1)] : []),
      ],
      series: [
        {},
        ...this.#columnOf.map((i): uPlot.Series => {
          const column = columns[i] as ChartColumn;
          const scale = column.axis === 'right' ? 'right' : 'left';
          return column.draw === 'bar'
            ? {
                label: column.label,
                scale,
                fill: column.color,
                stroke: column.color,
                paths: bars,
                points: { show: false },
              }
            : {
                label: column.label,
                scale,
                stroke: column.color,
                width: 2,
                spanGaps: false,
                // A value between two gaps has no segment to show it: a dot does.
                points: { show: true, size: 6, fill: column.color, filter: isolated },
              };
        }),
      ],
      hooks: {
        setCursor: [(u) => this.#showReadout(u.cursor.idx ?? this.#rows.length - 1)],
      },
    };
  }
}
