import type { Context } from 'hono';
import { credentialsSchema } from '../../../shared/schemas/auth.ts';
import { login, register } from '../../auth/sessions.ts';
import type { App, AppEnv } from '../context.ts';
import { readJson } from '../validation.ts';

const deps = (c: Context<AppEnv>) => {
  const s = c.get('services');
  return {
    accounts: s.store.accounts,
    tokens: s.tokens,
    grant: s.billing.signupGrant,
  };
};

/** `POST /v1/auth/register` (201) and `POST /v1/auth/login`. */
export function registerAuth(app: App): void {
  app.post('/v1/auth/register', async (c) => {
    const body = await readJson(c, credentialsSchema);
    return c.json(await register(deps(c), body), 201);
  });
  app.post('/v1/auth/login', async (c) => {
    const body = await readJson(c, credentialsSchema);
    return c.json(await login(deps(c), body));
  });
}
