import * as api from '../../../shared/api/stats.ts';
import { readStats } from '../../stats/read-stats.ts';
import { readUsage } from '../../stats/read-usage.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';

/**
 * `GET /v1/stats?window=24h&scope=own|all&bucket=`: per-model quality of recent jobs, per
 * interval with `bucket`; `GET /v1/usage?days=30`: the caller's jobs and credits per day.
 */
export function registerStats(app: App): void {
  app.openapi(enforce(api.getStats), async (c) =>
    c.json(await readStats(c.get('services'), c.get('principal'), c.req.valid('query')), 200),
  );
  app.openapi(enforce(api.getUsage), async (c) =>
    c.json(await readUsage(c.get('services'), c.get('principal'), c.req.valid('query')), 200),
  );
}
