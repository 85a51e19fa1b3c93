import * as api from '../../../shared/api/models.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';

/** `GET /v1/models`: every model with its cost, input schema and pool on this origin. */
export function registerModels(app: App): void {
  app.openapi(enforce(api.listModels), (c) => {
    const s = c.get('services');
    return c.json({ data: s.models.info(s.pool.states()) }, 200);
  });
}
