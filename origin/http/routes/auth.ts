import type { Context } from 'hono';
import * as api from '../../../shared/api/auth.ts';
import { login, register } from '../../auth/sessions.ts';
import type { App, AppEnv } from '../context.ts';
import { enforce } from '../enforce.ts';

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
  app.openapi(enforce(api.register), async (c) =>
    c.json(await register(deps(c), c.req.valid('json')), 201),
  );
  app.openapi(enforce(api.login), async (c) =>
    c.json(await login(deps(c), c.req.valid('json')), 200),
  );
}
