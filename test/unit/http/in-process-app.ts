import { join } from 'node:path';
import { createTokenSigner } from '../../../origin/auth/tokens.ts';
import { buildServices } from '../../../origin/build-services.ts';
import { loadEnv } from '../../../origin/env.ts';
import { createApp } from '../../../origin/http/app.ts';
import type { App } from '../../../origin/http/context.ts';
import type { ModelPools } from '../../../origin/inference/model-pools.ts';
import { createModelPools } from '../../../origin/inference/model-pools.ts';
import { loadModels } from '../../../origin/inference/models/registry.ts';
import { planPools } from '../../../origin/inference/pool-plan.ts';
import { createLogger } from '../../../origin/logger.ts';
import { openSqliteStore } from '../../../origin/store/sqlite/index.ts';
import type { Store } from '../../../origin/store/store.ts';
import { type ApiAnswer, readAnswer } from '../../helpers/http.ts';
import { fixtureModels } from '../support.ts';

export const inProcessVersion = '9.9.9-test';

/** Pools with no threads, one per fixture model: `ready` as asked, but no task ever runs. */
export function threadlessPool(ready: boolean): ModelPools {
  const plans = planPools(
    loadModels(fixtureModels).list(),
    { models: {} },
    {
      threads: 1,
      device: 'cpu',
      cores: 1,
    },
  );
  const startedAt = performance.now();
  return createModelPools(plans, {
    createPool: (options) => ({
      size: options.threads,
      ready: ready ? Promise.resolve() : new Promise(() => {}),
      isReady: ready,
      device: 'cpu',
      load: () => ({
        status: ready ? 'ready' : 'loading',
        startedAt,
        endedAt: ready ? startedAt : null,
        rssGrowthBytes: ready ? 0 : null,
        threads: [],
        error: null,
      }),
      run: () => Promise.reject(new Error('in-process tests run no inference')),
      close: async () => {},
    }),
  });
}

/**
 * The real app, built by the origin's own `buildServices` on a real SQLite store, with a
 * pool that has no threads: by default it is not ready, so no job is accepted; with
 * `poolReady` jobs are accepted and stay queued (nothing starts the scheduler). `store`
 * wraps the store, for a test that watches it.
 *
 * @example
 * const { app, store, close } = inProcessApp(dir, { poolReady: true });
 */
export function inProcessApp(
  dir: string,
  options: { poolReady?: boolean; store?: (store: Store) => Store } = {},
): { app: App; store: Store; close(): Promise<void> } {
  const env = loadEnv({ EDGE_SIGNATURE_CHECK: 'off', DATA_DIR: dir, MODEL_DIR: fixtureModels });
  const real = openSqliteStore(join(dir, 'overture.sqlite'));
  const store = options.store?.(real) ?? real;
  const { services, edge } = buildServices(env, store, {
    pool: threadlessPool(options.poolReady ?? false),
    logger: createLogger('silent'),
    tokens: createTokenSigner(new TextEncoder().encode('a-test-secret-of-32-bytes-or-more'), 600),
    disk: { state: () => ({ freeBytes: 2 ** 40, freePercent: 50, low: false }), stop() {} },
  });
  services.version = inProcessVersion;
  return {
    app: createApp(services, edge),
    store,
    async close() {
      services.scheduler.close();
      services.hub.close();
      await real.close();
    },
  };
}

/** One request to an in-process app, its answer read whole. */
export async function call<T = unknown>(
  app: App,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.request(`http://localhost${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return readAnswer<T>(res);
}
