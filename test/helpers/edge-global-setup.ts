import type { TestProject } from 'vitest/node';
import { startEchoOrigin } from './echo-origin.ts';
import { freePort } from './edge-process.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The echo origin the edge project's Worker forwards to. */
    echoOrigin: string;
    /** An origin URL where nothing listens. */
    deadOrigin: string;
  }
}

/**
 * The edge project's global setup: one echo origin for every edge test file, its address
 * provided to the pool options (ORIGIN_URL) and to the tests.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const echo = await startEchoOrigin();
  project.provide('echoOrigin', echo.url);
  project.provide('deadOrigin', `http://127.0.0.1:${await freePort()}`);
  return () => echo.close();
}
