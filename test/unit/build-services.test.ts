import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildServices } from '../../origin/build-services.ts';
import { loadEnv } from '../../origin/env.ts';
import { createLogger } from '../../origin/logger.ts';
import { threadlessPool } from './http/in-process-app.ts';
import { fixtureModels, tempDir, tempStore } from './support.ts';

describe('buildServices', () => {
  it('makes DATA_DIR when nothing else does (outputs at the edge, the database elsewhere)', async () => {
    const dataDir = join(tempDir(), 'not', 'made', 'yet');
    const env = loadEnv({
      DATA_DIR: dataDir,
      MODEL_DIR: fixtureModels,
      OUTPUT_STORE: 'edge',
      EDGE_URL: 'http://127.0.0.1:8787',
      EDGE_SIGNING_SECRET: 'a-signing-secret-of-32-bytes-or-more',
      JWT_SECRET: 'a-jwt-secret-of-32-bytes-or-more-too',
    });
    const { services } = buildServices(env, tempStore(), {
      pool: threadlessPool(false),
      logger: createLogger('silent'),
    });
    try {
      expect(existsSync(dataDir)).toBe(true);
      expect(services.disk.state().freeBytes).toBeGreaterThan(0);
      expect(await services.outputs.locate('job_x.wav')).toEqual({ at: 'edge', key: 'job_x.wav' });
    } finally {
      services.disk.stop();
      services.scheduler.close();
      services.hub.close();
    }
  });
});
