/**
 * The fixtures of the browser suites, on top of `fixtures.ts`'s (`stripe` among them):
 *
 * - `browser`: a headless Chromium for the file.
 * - `system`: the whole system as `npm start` runs it (edge and origin) for the file,
 *   started with `systemOptions`, stopped with its data removed after the file's last test.
 *
 * @example
 * import { it } from '../helpers/ui-fixtures.ts';
 *
 * it.override({ systemOptions: { originEnv: { POOL_THREADS: '1' } } });
 * it('…', async ({ browser, system }) => {
 *   const { page } = await openPage(browser, system.url);
 * });
 */
import { launchBrowser } from './browser.ts';
import { test as base } from './fixtures.ts';
import { startUiSystem, stopUiSystem, type UiSystemOptions } from './ui-system.ts';

export const test = base
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its destructuring; this one has none.
  .extend('browser', { scope: 'file' }, async ({}, { onCleanup }) => {
    const browser = await launchBrowser();
    onCleanup(() => browser.close());
    return browser;
  })
  .extend('systemOptions', { scope: 'file' }, {} as UiSystemOptions)
  .extend('system', { scope: 'file' }, async ({ systemOptions }, { onCleanup }) => {
    const system = await startUiSystem(systemOptions);
    onCleanup(() => stopUiSystem(system));
    return system;
  });

/** `test`, by the name most files use. */
export const it = test;
