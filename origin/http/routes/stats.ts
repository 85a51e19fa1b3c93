import * as api from '../../../shared/api/stats.ts';
import { readStats } from '../../stats/read-stats.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';

/** `GET /v1/stats?window=24h&scope=own|all`: per-model quality of recent jobs. */
export function registerStats(app: App): void {
  app.openapi(enforce(api.getStats), async (c) =>
    c.json(await readStats(c.get('services'), c.get('principal'), c.req.valid('query')), 200),
  );
}
