import * as api from '../../../shared/api/api-keys.ts';
import { createKey, listKeys, revokeKey } from '../../auth/keys.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';

/** `POST /v1/api-keys` (the key is shown once), `GET /v1/api-keys`, `DELETE /v1/api-keys/:id`. */
export function registerApiKeys(app: App): void {
  app.openapi(enforce(api.createApiKey), async (c) => {
    const { name } = c.req.valid('json');
    const services = c.get('services');
    const created = await createKey(
      services.store.accounts,
      services.apiKeyTags,
      c.get('principal').userId,
      name,
    );
    return c.json(created, 201);
  });
  app.openapi(enforce(api.listApiKeys), async (c) => {
    const data = await listKeys(c.get('services').store.accounts, c.get('principal').userId);
    return c.json({ data }, 200);
  });
  app.openapi(enforce(api.revokeApiKey), async (c) => {
    const { id } = c.req.valid('param');
    const { store, hub } = c.get('services');
    const { userId } = c.get('principal');
    await revokeKey(store.accounts, userId, id);
    // The key's sockets on this origin close now; other origins' at their next re-check.
    hub.recheck(userId);
    return c.body(null, 204);
  });
}
