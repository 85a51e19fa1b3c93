import type { App } from '../context.ts';

/** `GET /v1/models`: every loaded model with its cost and input schema. */
export function registerModels(app: App): void {
  app.get('/v1/models', (c) => {
    const s = c.get('services');
    return c.json({ data: s.models.info(s.pool.isReady) });
  });
}
