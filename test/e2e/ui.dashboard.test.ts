/**
 * The operator dashboard and a user's usage chart in a real Chromium against the whole
 * system (the edge in workerd serving the built UI, a real origin behind it): after a load of
 * succeeded, failed and canceled jobs run through the stack, an administrator's dashboard
 * draws its charts and lists, beside them, the numbers the API answers; it follows new jobs
 * by polling; a user who is no administrator gets no link and no data (403); a user's 30-day
 * chart says what the ledger says; a phone's 390 px hold every page. Screenshots of each
 * page go to test-results/ui-dashboard/ for a person to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import type { LedgerAnswer } from '../../shared/schemas/billing.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import type { StatsAnswer } from '../../shared/schemas/stats.ts';
import { runAdmin } from '../helpers/admin-command.ts';
import { openPage, resultsDir, signUpInPage, tokenOf } from '../helpers/browser.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { it } from '../helpers/ui-fixtures.ts';
import type { UiSystem } from '../helpers/ui-system.ts';

// Only the `steps` fixture model: jobs that succeed, fail on demand, or run until canceled.
it.override({ systemOptions: { originEnv: { MODEL_DIR: fixtureModels } } });

const screenshots = join(resultsDir, 'ui-dashboard');
const quick = { steps: 1, stepMs: 0 };

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/** Runs one job through the edge to its end: succeeded, failed (on demand) or canceled. */
async function runJob(system: UiSystem, token: string, end: Job['status']): Promise<Job> {
  const input =
    end === 'canceled' ? { steps: 1000, stepMs: 50 } : { ...quick, fail: end === 'failed' };
  const res = await system.api.call<Job>('POST', '/v1/jobs', {
    token,
    body: { model: 'steps', input },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  if (end === 'canceled') {
    const canceled = await system.api.call<Job>('POST', `/v1/jobs/${res.body.id}/cancel`, {
      token,
    });
    expect(canceled.body.status).toBe('canceled');
  }
  const job = await system.api.waitForJob(token, res.body.id);
  expect(job.status).toBe(end);
  return job;
}

/** 3 succeeded, 2 failed and 1 canceled job of `token`'s user. */
async function seededLoad(system: UiSystem, token: string): Promise<void> {
  for (const end of [
    'succeeded',
    'failed',
    'succeeded',
    'canceled',
    'failed',
    'succeeded',
  ] as const)
    await runJob(system, token, end);
}

/** The page's table of one chart: each row's bucket start and its cells' raw values. */
function chartTable(page: Page, chart: string) {
  return page.locator(`[data-chart="${chart}"] tbody tr`).evaluateAll((rows) =>
    rows.map((tr) => ({
      start: tr.getAttribute('data-start') ?? '',
      values: [...tr.querySelectorAll('td')].map((td) => td.getAttribute('data-value') ?? ''),
    })),
  );
}

/** How many pixels of the chart's canvas are (nearly) each of these colours. */
function pixelsOf(page: Page, chart: string, colors: string[]) {
  return page.locator(`[data-chart="${chart}"] canvas`).evaluate((element, hexes) => {
    const canvas = element as HTMLCanvasElement;
    const ctx = canvas.getContext('2d');
    if (!ctx) return hexes.map(() => 0);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const rgb = hexes.map((hex) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)));
    const counts = hexes.map(() => 0);
    for (let p = 0; p < data.length; p += 4) {
      rgb.forEach(([r, g, b], i) => {
        const near =
          Math.abs((data[p] ?? 0) - (r ?? 0)) < 8 &&
          Math.abs((data[p + 1] ?? 0) - (g ?? 0)) < 8 &&
          Math.abs((data[p + 2] ?? 0) - (b ?? 0)) < 8 &&
          (data[p + 3] ?? 0) > 200;
        if (near) counts[i] = (counts[i] ?? 0) + 1;
      });
    }
    return counts;
  }, colors);
}

const noOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

/** What a cell of the page's table holds for a value of the API: '' for none. */
const cell = (value: number | null) => (value === null ? '' : String(value));

describe('the operator dashboard', () => {
  // Seven jobs through the edge, an operator's command, and a few polls: more than the default.
  it('shows an administrator the charts of a seeded load, with the numbers the API answers, and follows new jobs', {
    timeout: 90_000,
  }, async ({ browser, system }) => {
    const worker = await system.api.signUp();
    await seededLoad(system, worker.token);

    const { page } = await openPage(browser, system.url);
    const email = await signUpInPage(page);
    // No administrator yet: no link.
    await page.locator('#balance', { hasText: 'credits' }).waitFor();
    expect(await page.getByRole('link', { name: 'Dashboard' }).isHidden()).toBe(true);
    const granted = await runAdmin(['grant', email], { DATA_DIR: system.origin.dataDir });
    expect(granted.code, granted.stderr).toBe(0);
    await page.reload();
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.waitForURL('**/dashboard');
    await page.locator('#dashboard-view[data-loaded="true"]').waitFor();
    const token = (await tokenOf(page)) ?? '';

    // The page asks for the last 24 h in hourly buckets; so does the test, for the same numbers.
    const res = await system.api.call<StatsAnswer>(
      'GET',
      '/v1/stats?window=24h&scope=all&bucket=auto',
      { token },
    );
    expect(res.status).toBe(200);
    const answer = res.body;
    expect(answer.overall).toMatchObject({ jobs: 6, succeeded: 3, failed: 2, canceled: 1 });
    const tile = (id: string) => page.locator(`[data-tile="${id}"]`).textContent();
    expect(await tile('jobs')).toBe('6');
    expect(await tile('succeeded')).toBe('3');
    expect(await tile('failed')).toBe('2');
    expect(await tile('canceled')).toBe('1');
    expect(await tile('success-rate')).toBe('60.0%');
    expect(await tile('sigma')).toBe(answer.overall.sigma?.toFixed(2));
    expect(await tile('spent')).toBe('6');
    expect(await tile('refunded')).toBe('3');

    // Every bucket the API answers is a row of each table, with the API's very numbers.
    const series = answer.overall.series ?? [];
    const busy = series.filter((b) => b.jobs > 0);
    expect(busy.length).toBeGreaterThan(0);
    const jobsTable = await chartTable(page, 'jobs');
    expect(jobsTable.map((r) => r.start)).toEqual(series.map((b) => b.start));
    for (const b of busy) {
      const row = jobsTable.find((r) => r.start === b.start);
      expect(row?.values).toEqual([b.succeeded, b.failed, b.canceled, b.open].map(cell));
    }
    const quality = await chartTable(page, 'quality');
    const waits = await chartTable(page, 'wait');
    const runs = await chartTable(page, 'run');
    for (const b of busy) {
      const at = (table: typeof quality) => table.find((r) => r.start === b.start)?.values;
      expect(at(quality)).toEqual([cell(b.successRate), cell(b.sigma)]);
      const { p50, p95, p99 } = b.queueWaitMs;
      expect(at(waits)).toEqual([p50, p95, p99].map(cell));
      expect(at(runs)).toEqual([b.runTimeMs.p50, b.runTimeMs.p95, b.runTimeMs.p99].map(cell));
    }
    // Not zeros: the load made these numbers.
    const sumOf = (table: typeof jobsTable, column: number) =>
      table.reduce((n, r) => n + Number(r.values[column] || 0), 0);
    expect([0, 1, 2].map((c) => sumOf(jobsTable, c))).toEqual([3, 2, 1]);
    expect(runs.some((r) => Number(r.values[0]) > 0)).toBe(true);
    const credits = await chartTable(page, 'credits');
    expect(sumOf(credits, 1)).toBe(6);
    expect(sumOf(credits, 2)).toBe(3);
    // The load now: this origin, named, running nothing.
    const { originId } = (await system.api.call('GET', '/v1/health')).body.origins[0];
    await page
      .getByRole('table', { name: 'Running now, per origin' })
      .getByText(originId)
      .waitFor();

    // The canvases are drawn: the stacked bars in each outcome's colour, the lines too.
    const [green, red, amber] = await pixelsOf(page, 'jobs', ['#2f9e44', '#e03131', '#f59f00']);
    expect(green).toBeGreaterThan(20);
    expect(red).toBeGreaterThan(20);
    expect(amber).toBeGreaterThan(20);
    const [p50] = await pixelsOf(page, 'run', ['#4c6ef5']);
    expect(p50).toBeGreaterThan(0);
    await screenshot(page, 'dashboard-admin-24h');

    // Polling: a job made now shows within a few polls, without a reload.
    await runJob(system, worker.token, 'succeeded');
    await page.locator('[data-tile="jobs"]', { hasText: /^7$/ }).waitFor({ timeout: 20_000 });

    // The last hour, by the minute: 61 buckets, the same jobs.
    await page.getByText('1 h', { exact: true }).click();
    await page.waitForURL('**/dashboard?window=1h');
    await page.locator('#dashboard-view[data-loaded="true"]').waitFor();
    const minutes = await chartTable(page, 'jobs');
    expect(minutes).toHaveLength(61);
    expect(sumOf(minutes, 0)).toBe(4);
    await page.locator('#dashboard-view').getByLabel('Model').selectOption('steps');
    expect(await tile('jobs')).toBe('7');
    await page.getByRole('button', { name: 'Show numbers' }).first().click();
    await page
      .getByRole('table', { name: 'Jobs per interval, by outcome, per interval' })
      .waitFor();
    await screenshot(page, 'dashboard-admin-1h-numbers');
  });

  it('fits a phone: 390 px wide, no sideways scrolling, charts as wide as the screen', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url, { viewport: { width: 390, height: 844 } });
    const email = await signUpInPage(page);
    expect((await runAdmin(['grant', email], { DATA_DIR: system.origin.dataDir })).code).toBe(0);
    // In the dark theme, which a phone at night asks for: the charts take its colours.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto('/dashboard?window=7d');
    await page.locator('#dashboard-view[data-loaded="true"]').waitFor();
    expect(await noOverflow(page)).toBe(true);
    for (const chart of ['jobs', 'quality', 'wait', 'run', 'credits']) {
      const box = await page.locator(`[data-chart="${chart}"] canvas`).first().boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 390 && box.width > 250, chart).toBe(true);
    }
    await screenshot(page, 'dashboard-admin-390px');
  });

  it('gives a user who is no administrator no link, no charts and no data (403 from the API)', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    await signUpInPage(page);
    await page.locator('#balance', { hasText: 'credits' }).waitFor();
    // The link is in the page, hidden: nothing to see, nothing a screen reader offers.
    expect(await page.locator('#dashboard-link').isHidden()).toBe(true);
    expect(await page.getByRole('link', { name: 'Dashboard' }).count()).toBe(0);
    const token = (await tokenOf(page)) ?? '';
    const refused = await system.api.call('GET', '/v1/stats?window=24h&scope=all&bucket=auto', {
      token,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');

    const asked: string[] = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await page.goto('/dashboard');
    await page.getByText('The dashboard is for administrators.').waitFor();
    expect(await page.locator('#dashboard-content').isHidden()).toBe(true);
    expect(await page.getByRole('radio').count()).toBe(0);
    expect(await page.locator('[data-chart] canvas').count()).toBe(0);
    expect(asked).not.toContain('/v1/stats');
    await screenshot(page, 'dashboard-refused');
  });
});

describe("a user's usage chart", () => {
  it('says per day what the ledger says, above the ledger, and fits 390 px', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url, { viewport: { width: 390, height: 844 } });
    await signUpInPage(page);
    const token = (await tokenOf(page)) ?? '';
    await seededLoad(system, token);
    await page.reload();
    await page.locator('#usage[data-loaded="true"]').waitFor();
    await page.locator('#ledger li').first().waitFor();

    const ledger = await system.api.call<LedgerAnswer>('GET', '/v1/billing/ledger', { token });
    const offset = await page.evaluate(() => -new Date().getTimezoneOffset());
    const byDay = new Map<
      string,
      { jobs: number; spent: number; refunded: number; added: number }
    >();
    for (const row of ledger.body.data) {
      const day = new Date(Date.parse(row.createdAt) + offset * 60_000).toISOString().slice(0, 10);
      const sums = byDay.get(day) ?? { jobs: 0, spent: 0, refunded: 0, added: 0 };
      if (row.reason === 'job') {
        sums.jobs++;
        sums.spent -= row.delta;
      }
      if (row.reason === 'refund') sums.refunded += row.delta;
      if (row.reason === 'grant' || row.reason === 'purchase') sums.added += row.delta;
      byDay.set(day, sums);
    }
    const table = await chartTable(page, 'usage');
    expect(table).toHaveLength(30);
    for (const row of table) {
      const day = new Date(Date.parse(row.start) + offset * 60_000).toISOString().slice(0, 10);
      const sums = byDay.get(day) ?? { jobs: 0, spent: 0, refunded: 0, added: 0 };
      const [succeeded, failed, canceled, open, spent, refunded, added] = row.values.map(Number);
      expect(
        {
          jobs: (succeeded ?? 0) + (failed ?? 0) + (canceled ?? 0) + (open ?? 0),
          spent,
          refunded,
          added,
        },
        day,
      ).toEqual(sums);
    }
    // In all: 6 jobs, 6 credits spent, 3 refunded (2 failed, 1 canceled), the grant of 20.
    const totals = [0, 1, 2, 3, 4, 5, 6].map((c) =>
      table.reduce((n, r) => n + Number(r.values[c] || 0), 0),
    );
    expect(totals).toEqual([3, 2, 1, 0, 6, 3, 20]);
    // The chart stands above the credit history, which is as it was.
    const chartBox = await page.locator('[data-chart="usage"]').boundingBox();
    const ledgerBox = await page.locator('#ledger').boundingBox();
    expect((chartBox?.y ?? 0) < (ledgerBox?.y ?? 0)).toBe(true);
    const [green] = await pixelsOf(page, 'usage', ['#2f9e44']);
    expect(green).toBeGreaterThan(0);
    expect(await noOverflow(page)).toBe(true);
    await screenshot(page, 'main-usage-390px');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator('[data-chart="usage"] canvas').evaluate(
      (canvas) =>
        new Promise<void>((resolve) => {
          // The chart follows the wider panel: wait until it has been drawn at its new size.
          const wide = () => canvas.getBoundingClientRect().width > 400;
          const check = () => (wide() ? resolve() : requestAnimationFrame(check));
          check();
        }),
    );
    await screenshot(page, 'main-usage-1280px');
  });
});
