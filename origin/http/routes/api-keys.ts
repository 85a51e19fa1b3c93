import { createApiKeySchema } from '../../../shared/schemas/auth.ts';
import { createKey, listKeys, revokeKey } from '../../auth/keys.ts';
import type { App } from '../context.ts';
import { requireUser } from '../middleware/require-user.ts';
import { pathId, readJson } from '../validation.ts';

/** `POST /v1/api-keys` (the key is shown once), `GET /v1/api-keys`, `DELETE /v1/api-keys/:id`. */
export function registerApiKeys(app: App): void {
  // '/v1/api-keys/*' matches '/v1/api-keys' itself too.
  app.use('/v1/api-keys/*', requireUser());
  app.post('/v1/api-keys', async (c) => {
    const { name } = await readJson(c, createApiKeySchema);
    const created = await createKey(
      c.get('services').store.accounts,
      c.get('principal').userId,
      name,
    );
    return c.json(created, 201);
  });
  app.get('/v1/api-keys', async (c) => {
    const data = await listKeys(c.get('services').store.accounts, c.get('principal').userId);
    return c.json({ data });
  });
  app.delete('/v1/api-keys/:id', async (c) => {
    await revokeKey(c.get('services').store.accounts, c.get('principal').userId, pathId(c));
    return c.body(null, 204);
  });
}
