import * as api from '../../../shared/api/webhooks.ts';
import { ApiError } from '../../../shared/errors.ts';
import { listDeliveries } from '../../webhooks/read-deliveries.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';

/**
 * `GET /v1/webhooks/secret` (the key that signs this user's webhooks) and
 * `GET /v1/jobs/:id/webhook-deliveries`.
 */
export function registerWebhooks(app: App): void {
  app.openapi(enforce(api.getWebhookSecret), async (c) => {
    const user = await c.get('services').store.accounts.findUserById(c.get('principal').userId);
    if (!user) throw new ApiError('unauthorized', 'The account no longer exists.');
    return c.json({ secret: user.webhookSecret }, 200);
  });
  app.openapi(enforce(api.listWebhookDeliveries), async (c) => {
    const { id } = c.req.valid('param');
    const data = await listDeliveries(c.get('services'), c.get('principal'), id);
    return c.json({ data }, 200);
  });
}
