import { afterAll, beforeAll } from 'vitest';
import { apiClient } from './api.ts';
import {
  type OriginProcess,
  removeDataDir,
  type StartOptions,
  startOriginProcess,
} from './origin-process.ts';

export interface SharedOrigin {
  origin: OriginProcess;
  api: ReturnType<typeof apiClient>;
}

/**
 * One real origin for a whole test file: started in `beforeAll`, stopped and its data
 * directory removed in `afterAll`. Read `origin` and `api` inside tests, not at collection.
 * The `origin` and `api` fixtures (`fixtures.ts`) do this for the other suites; this stays
 * for openapi.answers.test.ts until it moves to them.
 *
 * @example
 * const shared = sharedOrigin({ env: { QUEUE_LIMIT: '2' } });
 * it('…', async () => { const { token } = await shared.api.signUp(); });
 */
export function sharedOrigin(options: StartOptions = {}): SharedOrigin {
  const shared = {} as SharedOrigin;
  beforeAll(async () => {
    shared.origin = await startOriginProcess(options);
    shared.api = apiClient(shared.origin.url);
  });
  afterAll(async () => {
    if (!shared.origin) return;
    await shared.origin.kill();
    removeDataDir(shared.origin.dataDir);
  });
  return shared;
}
