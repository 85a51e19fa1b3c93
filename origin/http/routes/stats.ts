import { statsQuerySchema } from '../../../shared/schemas/stats.ts';
import { readStats } from '../../stats/read-stats.ts';
import type { App } from '../context.ts';
import { requireUser } from '../middleware/require-user.ts';
import { parseOr400 } from '../validation.ts';

/** `GET /v1/stats?window=24h&scope=own|all`: per-model quality of recent jobs. */
export function registerStats(app: App): void {
  app.get('/v1/stats', requireUser(), async (c) => {
    const query = parseOr400(statsQuerySchema, c.req.query(), 'query');
    return c.json(await readStats(c.get('services'), c.get('principal'), query));
  });
}
