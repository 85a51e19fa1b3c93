import type { Health } from '../../../shared/schemas/health.ts';
import type { App } from '../context.ts';

/** `GET /v1/health`: 503 `starting` until every worker has warmed every model. */
export function registerHealth(app: App): void {
  app.get('/v1/health', async (c) => {
    const s = c.get('services');
    const ready = s.pool.isReady && s.accepting;
    const body: Health = {
      status: ready ? 'healthy' : 'starting',
      modelsLoaded: s.pool.isReady,
      device: s.pool.device,
      queueLength: await s.store.jobs.countQueued(),
      activeJobs: s.scheduler.active,
      version: s.version,
    };
    if (!ready) c.header('Retry-After', '2');
    return c.json(body, ready ? 200 : 503);
  });
}
