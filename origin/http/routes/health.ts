import * as api from '../../../shared/api/health.ts';
import type { Health } from '../../../shared/schemas/health.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';

/**
 * `GET /v1/health`: 503 `starting` until some model's pool has loaded (the origin serves the
 * models that are ready; the others answer 503 `not_ready` for their jobs, and say `loading`
 * here), 503 while a graceful shutdown drains; `degraded` (200) when the disk is low and new
 * jobs are refused.
 */
export function registerHealth(app: App): void {
  app.openapi(enforce(api.getHealth), async (c) => {
    const s = c.get('services');
    const disk = s.disk.state();
    const stopping = !s.accepting;
    const models = s.pool.states();
    const status = !s.pool.isReady ? 'starting' : stopping || disk.low ? 'degraded' : 'healthy';
    const body: Health = {
      status,
      originId: s.originId,
      modelsLoaded: models.every((m) => m.status === 'ready'),
      device: s.pool.device,
      models,
      queueLength: await s.store.jobs.countQueued(),
      activeJobs: s.scheduler.active,
      version: s.version,
      disk,
      stopping,
    };
    const serving = s.pool.isReady && !stopping;
    if (!serving) c.header('Retry-After', '2');
    return c.json(body, serving ? 200 : 503);
  });
}
