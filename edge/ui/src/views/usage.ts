import type { UsageAnswer } from '../../../../shared/schemas/usage.ts';
import { countSteps } from '../charts/chart-data.ts';
import { ChartFigure, type ChartRow } from '../charts/chart-figure.ts';
import { palette } from '../charts/palette.ts';
import { byId } from '../dom.ts';
import { count } from '../format.ts';
import { showError } from '../notify.ts';
import { api } from '../session.ts';

const dayMs = 86_400_000;
/** How many days the chart shows, today included. */
export const usageDays = 30;

/** The chart's rows: jobs by outcome (bars), and the credits the day's ledger rows moved. */
export function usageRows(usage: UsageAnswer): ChartRow[] {
  return usage.data.map((day) => ({
    start: Date.parse(day.start),
    // The day as the server named it, in this browser's offset: "Jan 5".
    label: new Date(`${day.date}T12:00:00Z`).toLocaleDateString(undefined, {
      month: 'short',
      day: 'numeric',
      timeZone: 'UTC',
    }),
    values: [
      day.succeeded,
      day.failed,
      day.canceled,
      day.open,
      day.credits.spent,
      day.credits.refunded,
      day.credits.purchased + day.credits.granted,
    ],
  }));
}

/**
 * The user's last 30 days on the main page: jobs per day by outcome (bars) and the credits
 * spent (a line), with the credits refunded and added in its table, from the same ledger rows
 * the credit history lists, in this browser's days. Refreshed when a job is created or ends
 * (the page hears that on its WebSocket).
 */
export function setUpUsage(): { refresh(): Promise<void> } {
  const figure = new ChartFigure({
    id: 'usage',
    title: `Your last ${usageDays} days`,
    height: 140,
    columns: [
      { label: 'Succeeded', color: palette.succeeded, draw: 'bar', format: count },
      { label: 'Failed', color: palette.failed, draw: 'bar', format: count },
      { label: 'Canceled', color: palette.canceled, draw: 'bar', format: count },
      { label: 'Open', color: palette.open, draw: 'bar', format: count },
      { label: 'Credits spent', color: palette.spent, draw: 'line', axis: 'right', format: count },
      // In the table and the readout: the chart stays small.
      { label: 'Refunded', color: palette.refunded, draw: 'table', format: count },
      { label: 'Added', color: palette.purchased, draw: 'table', format: count },
    ],
    left: { format: count, steps: countSteps },
    right: { format: count, steps: countSteps },
  });
  byId('usage').replaceChildren(figure.el);
  return {
    async refresh() {
      try {
        // The browser's offset now: days before a change of summer time are an hour off.
        const usage = await api.usage({
          days: usageDays,
          utcOffset: -new Date().getTimezoneOffset(),
        });
        figure.update(usageRows(usage), dayMs);
        byId('usage').dataset.loaded = 'true';
      } catch (error) {
        showError(error, 'Could not load your usage');
      }
    },
  };
}
