/**
 * The web UI in a real Chromium against the whole system as `npm start` runs it (the edge
 * in workerd serving the built UI, dist/ui, and the API; a real origin behind it), in free
 * billing mode: generate and watch the progress bar, play and download, cancel, billing
 * off, the keyboard, a phone, and surviving an origin crash. The origin has one inference
 * thread, which another user's long `steps` job can hold, so the page's job waits in the
 * queue for exactly as long as a test needs.
 */
import { readFile } from 'node:fs/promises';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, onTestFinished } from 'vitest';
import { decodeWav } from '../../models/tone-diffusion/wav.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { uniqueEmail } from '../helpers/api.ts';
import { clickTrack } from '../helpers/audio-fixtures.ts';
import {
  audioDuration,
  openPage,
  signUpInPage,
  socketMessages,
  testPassword,
  tokenOf,
} from '../helpers/browser.ts';
import { holdableModelDir } from '../helpers/holdable-model.ts';
import { mp3Frames } from '../helpers/mp3-frames.ts';
import { it } from '../helpers/ui-fixtures.ts';
import { occupyThePool, type UiSystem } from '../helpers/ui-system.ts';

it.override({
  systemOptions: { originEnv: { POOL_THREADS: '1', MODEL_DIR: holdableModelDir() } },
});

/** Creates an account through the form; free mode's welcome grant shows in the balance. */
async function signUp(page: Page, email = uniqueEmail()): Promise<string> {
  await signUpInPage(page, email);
  await page.locator('#balance', { hasText: '20 credits' }).waitFor();
  return email;
}

/** Fills the form and presses Generate; answers the new job's card. */
async function generate(page: Page, prompt: string, duration: number) {
  await page.getByRole('textbox', { name: 'Prompt' }).fill(prompt);
  await page.getByLabel('Duration (seconds)').fill(String(duration));
  await page.getByRole('button', { name: 'Generate' }).click();
  const card = page.getByRole('listitem').filter({ hasText: prompt });
  await card.waitFor();
  return card;
}

/**
 * The card's queue line once it reads `place` (say "2nd"), checked whole: the place, then
 * the estimated start the server gave ("about 40 s", "about 2 min") or "starting soon".
 */
async function queueLineOf(card: Locator, place: string): Promise<string> {
  const line = card.getByText(new RegExp(`^${place} in line`));
  await line.waitFor();
  const text = (await line.textContent()) ?? '';
  expect(text).toMatch(/^\d+(st|nd|rd|th) in line, (about \d+ (s|min)|starting soon)$/);
  return text;
}

/** Holds the only inference thread until the test ends (or `release`). */
async function holdThePool(sys: UiSystem) {
  const blocker = await occupyThePool(sys);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    expect(await blocker.release()).toBe('canceled');
  };
  onTestFinished(release);
  return { release };
}

async function jobOf(system: UiSystem, page: Page, jobId: string): Promise<Job> {
  const token = (await tokenOf(page)) ?? '';
  const res = await system.api.call<Job>('GET', `/v1/jobs/${jobId}`, { token });
  expect(res.status).toBe(200);
  return res.body;
}

const pageWidths = (page: Page) =>
  page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));

// Its first test pays for the system's start (wrangler dev, the origin, Chromium): on 2 busy
// cores that alone has taken 20 s (measured with two CPU hogs beside it).
describe('the UI in free mode', { timeout: 60_000 }, () => {
  it('generates music: the bar moves, the result plays and downloads as a WAV', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    const socket = socketMessages(page);
    await signUp(page);
    const pool = await holdThePool(system);

    const duration = 2;
    const card = await generate(page, 'slow rain on a tin roof', duration);
    await queueLineOf(card, '1st');
    const jobId = (await card.getAttribute('data-job-id')) ?? '';
    // The page follows the job live before it runs.
    await socket.until((m) => m.type === 'subscribed' && m.jobId === jobId);
    await expect(card.locator('.status').textContent()).resolves.toBe('queued');
    await page.locator('#balance', { hasText: '19 credits' }).waitFor();
    const bar = card.getByRole('progressbar');
    expect(await bar.getAttribute('aria-valuenow')).toBe('0');

    // Record every value the bar takes from now on, then let the job run.
    await bar.evaluate((el) => {
      const seen: number[] = [];
      (globalThis as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => seen.push(Number(el.getAttribute('aria-valuenow')))).observe(el, {
        attributes: true,
        attributeFilter: ['aria-valuenow'],
      });
    });
    await pool.release();

    await card.locator('.status', { hasText: 'succeeded' }).waitFor();
    const seen = await page.evaluate(
      () => (globalThis as unknown as { progressSeen: number[] }).progressSeen,
    );
    expect(
      seen.some((v) => v > 0 && v < 100),
      `values seen: ${seen}`,
    ).toBe(true);
    expect(seen, 'the bar never goes back').toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(100);
    expect(await bar.isHidden()).toBe(true);
    expect(await card.getByRole('button', { name: 'Cancel' }).isHidden()).toBe(true);

    // The player: metadata loads, its length is the asked duration, and it plays.
    const audio = card.locator('audio');
    const length = await audioDuration(audio);
    expect(length).toBeCloseTo(duration, 1);
    await audio.evaluate(
      (a: HTMLAudioElement) =>
        new Promise<void>((resolve, reject) => {
          a.addEventListener('timeupdate', () => a.currentTime > 0 && resolve());
          a.play().catch(reject);
        }),
    );
    await card.locator('canvas[data-drawn="true"]').waitFor();

    // The download: the very file the API serves, a valid WAV of that length.
    const job = await jobOf(system, page, jobId);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByRole('link', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${jobId}.wav`);
    const bytes = new Uint8Array(await readFile(await download.path()));
    const ascii = (from: number, to: number) => new TextDecoder().decode(bytes.slice(from, to));
    expect(ascii(0, 4)).toBe('RIFF');
    expect(ascii(8, 12)).toBe('WAVE');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getUint32(4, true)).toBe(bytes.length - 8);
    expect(bytes.length).toBe(job.output?.bytes);
    const wav = decodeWav(bytes);
    expect(wav.samples.length / wav.channels / wav.sampleRate).toBeCloseTo(duration, 1);
  });

  it('makes MP3 when asked: it plays, its waveform is drawn, and it downloads as .mp3', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    await signUp(page);
    // The default model offers both formats; WAV first.
    await page.locator('#generate-form').getByLabel('Model').selectOption('tone-diffusion');
    const format = page.getByLabel('Format');
    await expect
      .poll(() => format.locator('option').allTextContents())
      .toEqual(['WAV (lossless)', 'MP3 (smaller)']);
    await format.selectOption('mp3');
    const duration = 3;
    const card = await generate(page, 'a song for the road', duration);
    await card.locator('.status', { hasText: 'succeeded' }).waitFor();
    const jobId = (await card.getAttribute('data-job-id')) ?? '';
    const job = await jobOf(system, page, jobId);
    expect(job).toMatchObject({ format: 'mp3', output: { contentType: 'audio/mpeg' } });

    const audio = card.locator('audio');
    // The encoder's padding adds a few frames (26 ms each) at most.
    const length = await audioDuration(audio);
    expect(length).toBeGreaterThanOrEqual(duration - 0.05);
    expect(length).toBeLessThan(duration + 0.2);
    await card.locator('canvas[data-drawn="true"]').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByRole('link', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${jobId}.mp3`);
    const bytes = new Uint8Array(await readFile(await download.path()));
    expect(bytes.length).toBe(job.output?.bytes);
    expect(mp3Frames(bytes)).toMatchObject({ sampleRate: 22_050, channels: 1 });

    // A model that offers no choice of format hides the field.
    await page.locator('#generate-form').getByLabel('Model').selectOption('steps');
    expect(await format.isVisible()).toBe(false);
  });

  it('uploads a reference clip, generates MP3 that follows it, plays and downloads it', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    await signUp(page);
    const form = page.locator('#generate-form');
    await form.getByLabel('Model').selectOption('tone-diffusion');
    const clip = form.getByLabel(/Reference clip/);
    await clip.waitFor();
    await clip.setInputFiles({
      name: 'four-clicks.wav',
      mimeType: 'audio/wav',
      buffer: Buffer.from(clickTrack(4)),
    });
    await form.getByLabel('Format').selectOption('mp3');
    const card = await generate(page, 'following the clicks', 4);
    await card.getByText('Reference: four-clicks.wav').waitFor();
    await card.locator('.status', { hasText: 'succeeded' }).waitFor();
    const jobId = (await card.getAttribute('data-job-id')) ?? '';
    const job = await jobOf(system, page, jobId);
    const token = (await tokenOf(page)) ?? '';
    const files = await system.api.call('GET', '/v1/files', { token });
    expect(files.body.data).toEqual([
      expect.objectContaining({ name: 'four-clicks.wav', contentType: 'audio/wav' }),
    ]);
    expect(job).toMatchObject({
      format: 'mp3',
      input: { reference: files.body.data[0].id },
      output: { contentType: 'audio/mpeg' },
    });
    const length = await audioDuration(card.locator('audio'));
    expect(length).toBeGreaterThanOrEqual(4 - 0.05);
    expect(length).toBeLessThan(4 + 0.2);
    await card.locator('canvas[data-drawn="true"]').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByRole('link', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${jobId}.mp3`);
    const bytes = new Uint8Array(await readFile(await download.path()));
    expect(mp3Frames(bytes).seconds).toBeGreaterThanOrEqual(4);
    // After a reload the card still names its clip, read from the API.
    await page.reload();
    await page
      .locator(`[data-job-id="${jobId}"]`)
      .getByText('Reference: four-clicks.wav')
      .waitFor();
  });

  it('cancels a queued job: the credit comes back, and the job behind moves up', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    await signUp(page);
    await holdThePool(system);

    const card = await generate(page, 'a job to think better of', 2);
    await queueLineOf(card, '1st');
    // Behind the first, its estimate counts the first one's run: never "starting soon".
    const second = await generate(page, 'a job that waits its turn', 2);
    expect(await queueLineOf(second, '2nd')).toMatch(/, about \d+ (s|min)$/);
    await page.locator('#balance', { hasText: '18 credits' }).waitFor();

    await card.getByRole('button', { name: 'Cancel' }).click();
    await card.locator('.status', { hasText: 'canceled' }).waitFor();
    await page.locator('#balance', { hasText: '19 credits' }).waitFor();
    expect(await card.getByRole('button', { name: 'Cancel' }).isHidden()).toBe(true);
    expect(await card.getByRole('progressbar').isHidden()).toBe(true);
    // The socket moves the second job up, with its new estimate.
    await queueLineOf(second, '1st');
    await second.getByRole('button', { name: 'Cancel' }).click();
    await second.locator('.status', { hasText: 'canceled' }).waitFor();
    await page.locator('#balance', { hasText: '20 credits' }).waitFor();
    const refunds = page.locator('#ledger li', { hasText: 'Refund of a job' });
    await expect.poll(() => refunds.filter({ hasText: '+1' }).count()).toBe(2);
    const jobId = (await card.getAttribute('data-job-id')) ?? '';
    expect((await jobOf(system, page, jobId)).status).toBe('canceled');
  });

  it('says that billing is off in free mode, with no way to buy', async ({ browser, system }) => {
    const { page } = await openPage(browser, system.url);
    await signUp(page);
    await page.locator('#billing-status', { hasText: 'Billing is off' }).waitFor();
    expect(await page.locator('#billing-status').textContent()).toContain('20 credits');
    expect(await page.getByRole('button', { name: 'Buy credits' }).count()).toBe(0);
    await page
      .locator('#ledger li', { hasText: 'Welcome grant' })
      .filter({ hasText: '+20' })
      .waitFor();
  });

  it('signs in with the keyboard only: Tab, type, Tab, type, Enter', async ({
    browser,
    system,
  }) => {
    const user = await system.api.signUp(uniqueEmail(), testPassword);
    const { page } = await openPage(browser, system.url);
    const email = page.getByRole('textbox', { name: 'Email' });
    await email.waitFor();
    const focused = (name: string) =>
      page.evaluate(
        (label) =>
          document.activeElement instanceof HTMLInputElement &&
          document.activeElement.labels?.[0]?.textContent?.trim() === label,
        name,
      );

    await page.keyboard.press('Tab');
    expect(await focused('Email')).toBe(true);
    await page.keyboard.type(user.email);
    await page.keyboard.press('Tab');
    expect(await focused('Password')).toBe(true);
    await page.keyboard.type(testPassword);
    await page.keyboard.press('Enter');

    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.locator('#who', { hasText: user.email }).waitFor();
  });

  it('fits a phone: no horizontal scroll, signed out or signed in with results', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url, {
      viewport: { width: 390, height: 844 },
    });
    const before = await pageWidths(page);
    expect(before.scrollWidth).toBeLessThanOrEqual(before.innerWidth);

    // A long address, a result with its player, a new key and an error: the widest content.
    await signUp(page, `a.rather.long.name.for.a.phone.${Date.now()}@example.test`);
    await page.getByRole('textbox', { name: 'Prompt' }).fill('a small tune for a small screen');
    await page.getByLabel('Duration (seconds)').fill('1');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('link', { name: 'Download' }).waitFor();
    await page.getByRole('textbox', { name: 'Key name' }).fill('phone');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.locator('#new-key-value', { hasText: 'ovt_' }).waitFor();
    await page.getByRole('textbox', { name: 'Key name' }).fill('');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('alert').getByText('(invalid_request)').waitFor();

    const after = await pageWidths(page);
    expect(after.scrollWidth).toBeLessThanOrEqual(after.innerWidth);
    // Everything that matters is within the screen's width.
    for (const name of ['Sign out', 'Generate', 'Create key']) {
      const box = await page.getByRole('button', { name }).boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 390, name).toBe(true);
    }
  });

  // Last: it kills the origin, and brings it back on the same port and data.
  it('reconnects after the origin is killed mid-job, and shows the job succeeded', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    await signUp(page);
    const pool = await holdThePool(system);
    const card = await generate(page, 'music that outlives a crash', 2);
    await queueLineOf(card, '1st');
    const offline = page.getByRole('status').filter({ hasText: 'Offline — reconnecting…' });
    expect(await offline.isHidden()).toBe(true);

    await system.origin.kill('SIGKILL');
    await offline.waitFor();
    await expect(card.locator('.status').textContent()).resolves.toBe('queued');

    await system.restartOrigin();
    // The blocker was re-queued by the restart; cancel it so the page's job runs.
    await pool.release();
    await card.locator('.status', { hasText: 'succeeded' }).waitFor({ timeout: 20_000 });
    await card.locator('audio').waitFor();
    await card.getByRole('link', { name: 'Download' }).waitFor();
    await offline.waitFor({ state: 'hidden' });
    // Nothing left saying the server cannot be reached, now that it can.
    expect(await page.getByRole('alert').textContent()).toBe('');
    // The same session still works after the restart.
    await page.locator('#balance', { hasText: '19 credits' }).waitFor();
  }, 45_000);
});
