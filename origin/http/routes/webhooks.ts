import { ApiError } from '../../../shared/errors.ts';
import { listDeliveries } from '../../webhooks/read-deliveries.ts';
import type { App } from '../context.ts';
import { requireUser } from '../middleware/require-user.ts';
import { pathId } from '../validation.ts';

/**
 * `GET /v1/webhooks/secret` (the key that signs this user's webhooks) and
 * `GET /v1/jobs/:id/webhook-deliveries`.
 */
export function registerWebhooks(app: App): void {
  app.get('/v1/webhooks/secret', requireUser(), async (c) => {
    const user = await c.get('services').store.accounts.findUserById(c.get('principal').userId);
    if (!user) throw new ApiError('unauthorized', 'The account no longer exists.');
    return c.json({ secret: user.webhookSecret });
  });
  app.get('/v1/jobs/:id/webhook-deliveries', requireUser(), async (c) => {
    const data = await listDeliveries(c.get('services'), c.get('principal'), pathId(c));
    return c.json({ data });
  });
}
