import { ApiClientError } from '../../../../shared/client.ts';
import type { Quality, StatsAnswer, StatsNow } from '../../../../shared/schemas/stats.ts';
import { ChartFigure } from '../charts/chart-figure.ts';
import { byId, h } from '../dom.ts';
import { count, duration, percent, sigma } from '../format.ts';
import { showError } from '../notify.ts';
import { api } from '../session.ts';
import { type FigureName, figureRows, figureSpecs, qualityOf } from './dashboard-figures.ts';

/** The windows an operator picks from. */
export const dashboardWindows = ['1h', '24h', '7d'] as const;
type DashboardWindow = (typeof dashboardWindows)[number];

/**
 * How often the dashboard asks again while it is shown. Polling, not the WebSocket: the
 * socket carries a user's own job events, not every user's figures, and one read of the
 * window's rows every few seconds is what the stats route is built for.
 */
export const dashboardPollMs = 5_000;

const isWindow = (w: string | null): w is DashboardWindow =>
  (dashboardWindows as readonly (string | null)[]).includes(w);

/** The figures of the window (or of one model) the tiles show. */
function tiles(quality: Quality, answer: StatsAnswer): [string, string, string][] {
  return [
    ['jobs', 'Jobs', count(quality.jobs)],
    ['succeeded', 'Succeeded', count(quality.succeeded)],
    ['failed', 'Failed', count(quality.failed)],
    ['canceled', 'Canceled', count(quality.canceled)],
    ['success-rate', 'Success rate', percent(quality.successRate)],
    ['sigma', 'Sigma level', sigma(quality.sigma)],
    ['wait-p50', 'Queue wait p50', duration(quality.queueWaitMs.p50)],
    ['wait-p95', 'Queue wait p95', duration(quality.queueWaitMs.p95)],
    ['run-p95', 'Run time p95', duration(quality.runTimeMs.p95)],
    ['sold', 'Credits sold', count(answer.credits.purchased)],
    ['spent', 'Credits spent', count(answer.credits.spent)],
    ['refunded', 'Credits refunded', count(answer.credits.refunded)],
  ];
}

/** The load now: queued and running, running jobs per origin, and both per model. */
function nowPanel(now: StatsNow): HTMLElement[] {
  const table = (caption: string, head: string[], rows: (string | number)[][]) =>
    h(
      'table',
      { class: 'now-table' },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        ...rows.map(([name, ...cells]) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, String(name)),
            ...cells.map((c) => h('td', {}, String(c))),
          ),
        ),
      ),
    );
  return [
    h(
      'dl',
      { class: 'now-figures' },
      h(
        'div',
        { class: 'tile' },
        h('dt', {}, 'Queued now'),
        h('dd', { 'data-tile': 'queued' }, count(now.queued)),
      ),
      h(
        'div',
        { class: 'tile' },
        h('dt', {}, 'Running now'),
        h('dd', { 'data-tile': 'running' }, count(now.running)),
      ),
    ),
    table(
      'Running now, per origin',
      ['Origin', 'Running'],
      now.origins.map((o) => [o.originId, o.running]),
    ),
    table(
      'Queued and running now, per model',
      ['Model', 'Queued', 'Running'],
      now.models.length > 0 ? now.models.map((m) => [m.model, m.queued, m.running]) : [['–', 0, 0]],
    ),
  ];
}

/**
 * The operator dashboard (`/dashboard`, administrators only): every user's jobs over the
 * chosen window (1 h, 24 h, 7 d) and model, per interval, polled every 5 s while the page is
 * visible. The choice lives in the address (`?window=24h&model=…`), so a reload keeps it.
 */
export function setUpDashboard(): { open(admin: boolean): void; close(): void } {
  const view = byId('dashboard-view');
  const refused = byId('dashboard-refused');
  const content = byId('dashboard-content');
  const controls = byId<HTMLFormElement>('dashboard-controls');
  const modelSelect = byId<HTMLSelectElement>('dashboard-model');
  const updated = byId('dashboard-updated');
  const tileList = byId('dashboard-tiles');
  const nowList = byId('dashboard-now');
  const figureList = byId('dashboard-figures');
  const figures = Object.fromEntries(
    Object.entries(figureSpecs).map(([name, spec]) => [name, new ChartFigure(spec)]),
  ) as Record<FigureName, ChartFigure>;
  figureList.replaceChildren(...Object.values(figures).map((f) => f.el));

  const params = new URLSearchParams(location.search);
  const asked = params.get('window');
  let span: DashboardWindow = isWindow(asked) ? asked : '24h';
  let model = params.get('model') ?? '';
  let answer: StatsAnswer | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let inFlight = false;
  let failing = false;

  const remember = () => {
    const query = new URLSearchParams({ window: span, ...(model ? { model } : {}) });
    history.replaceState(null, '', `${location.pathname}?${query}`);
  };

  const render = () => {
    if (!answer) return;
    // The models of the window, those queued or running now, and the one chosen (kept in the
    // address, it may have no jobs in this window).
    const models = new Set([
      ...answer.data.map((m) => m.model),
      ...(answer.now?.models ?? []).map((m) => m.model),
      ...(model ? [model] : []),
    ]);
    const options = ['', ...[...models].sort()];
    // Only when they change: a list the operator has open must stay open across polls.
    if (options.join('\n') !== [...modelSelect.options].map((o) => o.value).join('\n')) {
      modelSelect.replaceChildren(
        ...options.map((m) => h('option', { value: m }, m === '' ? 'All models' : m)),
      );
    }
    modelSelect.value = model;
    tileList.replaceChildren(
      ...tiles(qualityOf(answer, model), answer).map(([id, label, value]) =>
        h('div', { class: 'tile' }, h('dt', {}, label), h('dd', { 'data-tile': id }, value)),
      ),
    );
    nowList.replaceChildren(...(answer.now ? nowPanel(answer.now) : []));
    const rows = figureRows(answer, model);
    const stepMs = answer.bucketMs ?? 60_000;
    for (const [name, figure] of Object.entries(figures) as [FigureName, ChartFigure][]) {
      figure.update(rows[name], stepMs);
    }
    const at = new Date(answer.to).toLocaleTimeString();
    updated.textContent = `Updated ${at}, every ${dashboardPollMs / 1000} s · buckets of ${answer.bucket}`;
  };

  const stop = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  /** Shows the figures and their controls, or (`false`) only why there are none. */
  const allow = (allowed: boolean) => {
    refused.hidden = allowed;
    for (const part of [content, controls, updated]) part.hidden = !allowed;
  };

  const poll = async (): Promise<void> => {
    if (inFlight || document.hidden) return;
    inFlight = true;
    const polled = span;
    try {
      const next = await api.stats({ window: polled, scope: 'all', bucket: 'auto' });
      // An answer for a window no longer chosen is dropped.
      if (polled === span) {
        answer = next;
        failing = false;
        view.dataset.loaded = 'true';
        render();
      }
    } catch (error) {
      if (error instanceof ApiClientError && error.status === 403) {
        // No longer an administrator (an operator revoked it): nothing more to ask for.
        stop();
        allow(false);
      } else if (!failing) {
        // Once per run of failures: a dashboard left open must not stack an error every 5 s.
        failing = true;
        showError(error, 'Could not load the dashboard');
      }
    } finally {
      inFlight = false;
    }
    // The window changed while this poll was under way: ask for the new one now.
    if (polled !== span && timer !== undefined) await poll();
  };

  for (const input of controls.querySelectorAll<HTMLInputElement>('input[name="window"]')) {
    input.checked = input.value === span;
  }
  controls.addEventListener('change', (event) => {
    const target = event.target as HTMLInputElement | HTMLSelectElement;
    if (target.name === 'window' && isWindow(target.value)) {
      span = target.value;
      view.dataset.loaded = 'false';
      updated.textContent = 'Loading…';
      remember();
      void poll();
    } else if (target === modelSelect) {
      model = modelSelect.value;
      remember();
      render();
    }
  });
  controls.addEventListener('submit', (event) => event.preventDefault());
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && timer !== undefined) void poll();
  });

  return {
    open(admin) {
      view.hidden = false;
      allow(admin);
      if (!admin) return;
      stop();
      timer = setInterval(() => void poll(), dashboardPollMs);
      void poll();
    },
    close() {
      stop();
      view.hidden = true;
    },
  };
}
