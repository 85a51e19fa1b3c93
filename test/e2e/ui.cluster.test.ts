/**
 * The web UI in a real Chromium against a cluster: the edge (`wrangler dev`, serving the UI
 * and the API) in front of two origins on one PostgreSQL, outputs in the edge's R2 bucket.
 * The origin that holds the page's WebSocket is SIGKILLed while the page's job waits: the
 * page reconnects through the edge to the other origin, resumes, and shows the job
 * succeeded; it plays and downloads; the job is charged once.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { decodeWav } from '../../models/tone-diffusion/wav.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { audioDuration, openPage, signUpInPage, tokenOf } from '../helpers/browser.ts';
import type { Cluster } from '../helpers/cluster.ts';
import { holdableModelDir } from '../helpers/holdable-model.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
import { scrape } from '../helpers/prometheus.ts';
import { it } from '../helpers/ui-fixtures.ts';

// Each model has a pool of its own: the page's tone-diffusion job waits behind another
// user's holdable tone-diffusion jobs (`holdMs`), one on each origin's one thread.
it.override({
  clusterOptions: {
    origins: 2,
    env: { POOL_THREADS: '1', MODEL_DIR: holdableModelDir() },
    edge: {},
  },
});

/** The origin whose hub holds an open socket now (its `overture_ws_connections` gauge). */
async function socketHolder(cluster: Cluster): Promise<OriginProcess> {
  for (let i = 0; i < 100; i++) {
    for (const origin of cluster.origins) {
      if ((await scrape(origin.metricsUrl)).value('overture_ws_connections') > 0) return origin;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no origin holds the page socket');
}

/** Another user's two long jobs: one on each origin's only thread, until canceled. */
async function holdBothThreads(cluster: Cluster) {
  const api = cluster.edgeApi;
  const { token } = await api.signUp();
  const jobs: Job[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await api.call<Job>('POST', '/v1/jobs', {
      token,
      body: { model: 'tone-diffusion', input: { prompt: 'held', holdMs: 600_000 } },
    });
    expect(res.status).toBe(202);
    jobs.push(res.body);
  }
  for (const job of jobs) {
    await api.waitForJob(token, job.id, (j) => j.status === 'running', 15_000);
  }
  return {
    async release() {
      for (const job of jobs) {
        const res = await api.call('POST', `/v1/jobs/${job.id}/cancel`, { token });
        expect(res.status).toBe(200);
      }
    },
  };
}

async function balanceOf(page: Page, credits: number) {
  await page.locator('#balance', { hasText: `${credits} credits` }).waitFor();
}

describe('the web UI on a cluster', () => {
  it('reconnects to the other origin when the one holding its socket dies, and the job succeeds', async ({
    browser,
    cluster,
  }) => {
    const { page } = await openPage(browser, cluster.edge?.url ?? '');
    await signUpInPage(page);
    await balanceOf(page, 20);
    const threads = await holdBothThreads(cluster);

    const prompt = 'a song that outlives its origin';
    await page.getByRole('textbox', { name: 'Prompt' }).fill(prompt);
    await page.getByLabel('Duration (seconds)').fill('2');
    await page.getByRole('button', { name: 'Generate' }).click();
    const card = page.getByRole('listitem').filter({ hasText: prompt });
    await card.getByText(/^1st in line/).waitFor();

    const holder = await socketHolder(cluster);
    await holder.kill('SIGKILL');
    // Back through the edge to the survivor (the page may not have seen the close yet when
    // the kill returns, so wait for the survivor's socket, not for a banner still unshown),
    // and the page says it is online again.
    const survivor = cluster.origins.find((o) => o !== holder) as OriginProcess;
    await expect
      .poll(async () => (await scrape(survivor.metricsUrl)).value('overture_ws_connections'), {
        timeout: 20_000,
        interval: 100,
      })
      .toBeGreaterThan(0);
    const offline = page.getByRole('status').filter({ hasText: 'Offline — reconnecting…' });
    await offline.waitFor({ state: 'hidden', timeout: 20_000 });

    await threads.release();
    await card.locator('.status', { hasText: 'succeeded' }).waitFor({ timeout: 30_000 });

    // It plays: the browser decodes what the edge streams from R2.
    const audio = card.locator('audio');
    const length = await audioDuration(audio);
    expect(length).toBeCloseTo(2, 1);
    // It downloads: the very bytes the job made.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByRole('link', { name: 'Download' }).click(),
    ]);
    const bytes = new Uint8Array(await readFile(await download.path()));
    const wav = decodeWav(bytes);
    expect(wav.samples.length / wav.channels / wav.sampleRate).toBeCloseTo(2, 1);
    const token = (await tokenOf(page)) ?? '';
    const jobs = await cluster.edgeApi.call<{ data: Job[] }>('GET', '/v1/jobs', { token });
    expect(jobs.body.data).toHaveLength(1);
    expect(bytes.length).toBe(jobs.body.data[0]?.output?.bytes);
    // Charged once, though the job waited through an origin's death.
    await balanceOf(page, 19);
  }, 90_000);
});
