import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import { expect, onTestFailed, onTestFinished } from 'vitest';
import { uniqueEmail } from './api.ts';
import { repoRoot } from './paths.ts';

/** Where failure screenshots go (git-ignored). */
export const resultsDir = join(repoRoot, 'test-results');

/**
 * Launches a headless Chromium (the machine's, driven by playwright-core). Tests get one
 * for their file from the `browser` fixture (`ui-fixtures.ts`), which closes it; each test
 * opens its own context with `openPage`, so storage (the session token) never leaks
 * between tests.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // No sound card here; playing still runs the media pipeline.
      '--mute-audio',
    ],
  });
}

export interface OpenPageOptions {
  viewport?: { width: number; height: number };
}

const fileName = (name: string) => name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);

/**
 * A fresh context and page on `url`, for the current test: on failure a full-page
 * screenshot goes to test-results/, then the context is closed. Errors the page throws
 * fail the test.
 */
export async function openPage(
  browser: Browser,
  url: string,
  options: OpenPageOptions = {},
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({
    baseURL: url,
    acceptDownloads: true,
    viewport: options.viewport ?? { width: 1280, height: 900 },
  });
  // Under the test's own timeout, so a wait that fails says which element it waited for.
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  // Failed handlers run after finished ones: closing waits until the screenshot is taken.
  onTestFinished(async ({ task }) => {
    if (task.result?.state !== 'fail') {
      expect(pageErrors, 'errors thrown in the page').toEqual([]);
      await context.close();
    }
  });
  onTestFailed(async ({ task }) => {
    mkdirSync(resultsDir, { recursive: true });
    const path = join(resultsDir, `${fileName(task.file.name)}--${fileName(task.name)}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => undefined);
    if (pageErrors.length) console.error(`errors thrown in the page:\n${pageErrors.join('\n')}`);
    await context.close();
  });
  await page.goto('/');
  return { page, context };
}

/**
 * Records what the page's WebSockets receive, from now on, so a test can wait for the
 * server's answer to the page (say, `subscribed` to a job) before it moves on.
 */
export function socketMessages(page: Page) {
  const received: Record<string, unknown>[] = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', (frame) => {
      try {
        received.push(JSON.parse(String(frame.payload)) as Record<string, unknown>);
      } catch {
        // Not JSON: not the API's.
      }
    }),
  );
  return {
    received,
    /** Waits until a received message matches. */
    async until(match: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(match);
        if (found) return found;
        if (Date.now() > deadline) {
          throw new Error(`no such message; received: ${JSON.stringify(received).slice(-2000)}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

export const testPassword = 'correct horse battery';

/** Creates an account through the page's form; resolves once the page is signed in. */
export async function signUpInPage(page: Page, email = uniqueEmail()): Promise<string> {
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(testPassword);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return email;
}

/** The session token the page keeps (its localStorage). */
export function tokenOf(page: Page): Promise<string | null> {
  return page.evaluate(() => localStorage.getItem('overture.token'));
}

/** The duration of an `<audio>` once its metadata loaded (the browser decoded the file). */
export function audioDuration(audio: Locator): Promise<number> {
  return audio.evaluate(
    (a: HTMLAudioElement) =>
      new Promise<number>((resolve, reject) => {
        if (a.readyState >= 1) resolve(a.duration);
        a.addEventListener('loadedmetadata', () => resolve(a.duration));
        a.addEventListener('error', () => reject(new Error(`audio error ${a.error?.code}`)));
      }),
  );
}
