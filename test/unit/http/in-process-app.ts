import { join } from 'node:path';
import { createTokenSigner } from '../../../origin/auth/tokens.ts';
import { createBilling } from '../../../origin/billing/billing.ts';
import { loadEnv } from '../../../origin/env.ts';
import { createApp } from '../../../origin/http/app.ts';
import type { App } from '../../../origin/http/context.ts';
import { loadModels } from '../../../origin/inference/models/registry.ts';
import type { Scheduler } from '../../../origin/jobs/scheduler.ts';
import { createLogger } from '../../../origin/logger.ts';
import { noopMetrics } from '../../../origin/metrics/metrics.ts';
import { outputFiles } from '../../../origin/outputs/files.ts';
import type { Services } from '../../../origin/services.ts';
import { openSqliteStore } from '../../../origin/store/sqlite/index.ts';
import type { ApiAnswer } from '../../helpers/api.ts';
import { fixtureModels } from '../support.ts';

export const inProcessVersion = '9.9.9-test';

/**
 * The real app on a real SQLite store, with the parts that need threads stubbed: by default
 * the pool is not ready, so no job runs and nothing reaches the scheduler but its `active`
 * count. `services` replaces parts (given the store), for a test that needs them.
 *
 * @example
 * const { app, close } = inProcessApp(dir, { adminEmail: 'admin@example.test' });
 */
export function inProcessApp(
  dir: string,
  options: {
    adminEmail?: string;
    services?: (store: Services['store']) => Partial<Services>;
  } = {},
): { app: App; store: Services['store']; close(): void } {
  const env = loadEnv({
    EDGE_SIGNATURE_CHECK: 'off',
    DATA_DIR: dir,
    MODEL_DIR: fixtureModels,
    ADMIN_EMAILS: options.adminEmail ?? 'admin@example.test',
  });
  const store = openSqliteStore(join(dir, 'overture.sqlite'));
  const services: Services = {
    env,
    version: inProcessVersion,
    logger: createLogger('silent'),
    store,
    tokens: createTokenSigner(new TextEncoder().encode('a-test-secret-of-32-bytes-or-more'), 600),
    models: loadModels(fixtureModels),
    pool: { isReady: false, device: 'cpu', size: 0 },
    scheduler: { active: 0 } as Scheduler,
    outputs: outputFiles(join(dir, 'outputs')),
    billing: createBilling(env),
    metrics: noopMetrics,
    disk: { state: () => ({ freeBytes: 2 ** 40, freePercent: 50, low: false }) },
    accepting: true,
    ...options.services?.(store),
  };
  return { app: createApp(services, undefined), store, close: () => store.close() };
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
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  const isJson = (res.headers.get('content-type') ?? '').includes('json') && bytes.length > 0;
  return {
    status: res.status,
    headers: res.headers,
    body: (isJson ? JSON.parse(text) : undefined) as T,
    bytes,
  };
}
