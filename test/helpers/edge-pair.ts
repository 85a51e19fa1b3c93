import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll } from 'vitest';
import { apiClient } from './api.ts';
import { type EdgeProcess, startEdgeProcess } from './edge-process.ts';
import {
  type OriginProcess,
  removeDataDir,
  type StartOptions,
  startOriginProcess,
} from './origin-process.ts';
import { repoRoot } from './paths.ts';

export interface EdgePair {
  origin: OriginProcess;
  edge: EdgeProcess;
  /** The signing secret the two share. */
  secret: string;
  /** A client of the edge: the way in for clients. */
  api: ReturnType<typeof apiClient>;
  /** A client of the origin itself, skipping the edge. */
  direct: ReturnType<typeof apiClient>;
}

export interface EdgePairOptions {
  /**
   * More of the origin's environment (it always checks edge signatures); a function is
   * called in `beforeAll`, for values that earlier hooks make (a double's URL).
   */
  originEnv?: StartOptions['env'] | (() => StartOptions['env']);
  /** More of the edge's vars (ORIGIN_URL and EDGE_SIGNING_SECRET are set). */
  edgeVars?: Record<string, string>;
}

/**
 * A real origin that checks edge signatures behind a real edge (`wrangler dev`, workerd),
 * sharing a fresh secret, for one whole test file: started in `beforeAll` (ready once the
 * origin's `/v1/health` answers 200 through the edge), stopped in `afterAll`. Read the
 * fields inside tests, not at collection.
 *
 * @example
 * const pair = sharedEdgePair();
 * it('…', async () => { const { token } = await pair.api.signUp(); });
 */
export function sharedEdgePair(options: EdgePairOptions = {}): EdgePair {
  const pair = {} as EdgePair;
  beforeAll(async () => {
    pair.secret = `e2e-${randomBytes(24).toString('hex')}`;
    // Only until it listens: the edge starts while the models load, and readiness is then
    // asked through the edge, which is the path under test anyway.
    pair.origin = await startOriginProcess({
      waitReady: false,
      env: {
        POOL_THREADS: '1',
        ...(typeof options.originEnv === 'function' ? options.originEnv() : options.originEnv),
        EDGE_SIGNATURE_CHECK: 'on',
        EDGE_SIGNING_SECRET: pair.secret,
      },
    });
    pair.edge = await startEdgeProcess({
      ...options.edgeVars,
      ORIGIN_URL: pair.origin.url,
      EDGE_SIGNING_SECRET: pair.secret,
    });
    pair.api = apiClient(pair.edge.url);
    pair.direct = apiClient(pair.origin.url);
    const deadline = Date.now() + 30_000;
    while ((await pair.api.call('GET', '/v1/health').catch(() => undefined))?.status !== 200) {
      if (Date.now() > deadline || pair.origin.child.exitCode !== null) {
        throw new Error(
          `not ready through the edge:\n${pair.origin.output()}\n${pair.edge.output()}`,
        );
      }
      await sleep(50);
    }
  });
  afterAll(async () => {
    await Promise.all([pair.edge?.kill(), pair.origin?.kill()]);
    if (pair.origin) removeDataDir(pair.origin.dataDir);
    if (pair.edge) {
      rmSync(join(repoRoot, '.wrangler', `test-${pair.edge.port}`), {
        recursive: true,
        force: true,
      });
    }
  });
  return pair;
}
