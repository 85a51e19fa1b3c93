/**
 * The processes tests run against, as vitest fixtures: each starts when a test (or a
 * `test.beforeAll`) first asks for it by name, and stops after the last test of its scope,
 * its data removed, whatever the tests did to it. File-scoped fixtures take their options
 * from an option fixture that a file sets once, at its top, with `test.override`.
 *
 * - `origin`, `api`: one real origin for the file, started with `originOptions`.
 * - `stripe`: the Stripe double for the file.
 * - `pair`: an origin behind a real edge for the file, started with `pairOptions`.
 * - `origins`: starts origins for one test; they are SIGKILLed when it ends.
 * - `fileOrigins`: the same for the whole file (stopped with SIGTERM, as `origin` is).
 * - `cluster`: a throwaway PostgreSQL and origins on it for the file, with `clusterOptions`.
 *
 * A fixture starts inside the first test that asks for it, under that test's timeout
 * (vitest counts a fixture's setup in that test); one a `test.beforeAll` asks for starts
 * there, under the hook timeout. A file needing another origin adds a file fixture on
 * `fileOrigins` (`test.extend('timing', { scope: 'file' }, ({ fileOrigins }) => …)`), and
 * uses that one test object throughout: fixtures belong to the object they were made on.
 * `test.override` at a file's top sets that file's options: the node and chaos projects
 * give each file its own module graph.
 *
 * @example
 * import { describe, expect } from 'vitest';
 * import { it } from '../helpers/fixtures.ts';
 *
 * it.override({ originOptions: { env: { QUEUE_LIMIT: '2' } } });
 *
 * describe('the queue bound', () => {
 *   it('refuses jobs past QUEUE_LIMIT', async ({ api }) => {
 *     const { token } = await api.signUp();
 *   });
 * });
 */
import { test as base } from 'vitest';
import { apiClient } from './api.ts';
import { startCluster } from './cluster.ts';
import { type EdgePairOptions, startEdgePair, stopEdgePair } from './edge-pair.ts';
import {
  makeDataDir,
  type OriginProcess,
  removeDataDir,
  type StartOptions,
  startOriginProcess,
  stopOriginProcess,
} from './origin-process.ts';
import { startStripeDouble } from './stripe.ts';

/** How many origins a file's cluster has, and their environment. */
export interface ClusterOptions {
  origins: number;
  env?: Record<string, string>;
  /** An edge (`wrangler dev`) in front of the origins, with these vars. */
  edge?: { vars?: Record<string, string> };
}

/** Starts origins that are stopped, and their data removed, when its scope ends. */
export interface OriginLauncher {
  /** Starts an origin, on a fresh data directory unless `options.dataDir` names one. */
  start(options?: StartOptions): Promise<OriginProcess>;
  /** A fresh temporary directory, removed once every origin of the scope has stopped. */
  dataDir(): string;
}

function originLauncher(stopSignal: NodeJS.Signals) {
  const started: OriginProcess[] = [];
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = makeDataDir();
    dirs.push(dir);
    return dir;
  };
  const launcher: OriginLauncher = {
    dataDir,
    async start(options = {}) {
      const origin = await startOriginProcess({
        ...options,
        dataDir: options.dataDir ?? dataDir(),
      });
      started.push(origin);
      return origin;
    },
  };
  /** Stops every origin (those already stopped are left as they are), then removes the data. */
  async function stopAll(): Promise<void> {
    const stops = await Promise.allSettled(started.map((o) => stopOriginProcess(o, stopSignal)));
    for (const dir of dirs) removeDataDir(dir);
    const failed = stops.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return { launcher, stopAll };
}

export const test = base
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its destructuring; this one has none.
  .extend('origins', async ({}, { onCleanup }) => {
    // A test's origins are thrown away with their data: nothing to drain.
    const { launcher, stopAll } = originLauncher('SIGKILL');
    onCleanup(stopAll);
    return launcher;
  })
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its destructuring; this one has none.
  .extend('fileOrigins', { scope: 'file' }, async ({}, { onCleanup }) => {
    const { launcher, stopAll } = originLauncher('SIGTERM');
    onCleanup(stopAll);
    return launcher;
  })
  .extend('originOptions', { scope: 'file' }, {} as StartOptions)
  .extend('origin', { scope: 'file' }, ({ fileOrigins, originOptions }) =>
    fileOrigins.start(originOptions),
  )
  .extend('api', { scope: 'file' }, ({ origin }) => apiClient(origin.url))
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its destructuring; this one has none.
  .extend('stripe', { scope: 'file' }, async ({}, { onCleanup }) => {
    const double = await startStripeDouble();
    onCleanup(() => double.close());
    return double;
  })
  .extend('clusterOptions', { scope: 'file' }, { origins: 2 } as ClusterOptions)
  .extend('cluster', { scope: 'file' }, async ({ clusterOptions }, { onCleanup }) => {
    const cluster = await startCluster(clusterOptions.origins, {
      env: clusterOptions.env ?? {},
      ...(clusterOptions.edge ? { edge: clusterOptions.edge } : {}),
    });
    onCleanup(() => cluster.stop());
    return cluster;
  })
  .extend('pairOptions', { scope: 'file' }, {} as EdgePairOptions)
  .extend('pair', { scope: 'file' }, async ({ pairOptions }, { onCleanup }) => {
    const pair = await startEdgePair(pairOptions);
    onCleanup(() => stopEdgePair(pair));
    return pair;
  });

/** `test`, by the name most files use. */
export const it = test;
