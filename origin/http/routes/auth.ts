import type { Context } from 'hono';
import * as api from '../../../shared/api/auth.ts';
import { changePassword, login, logout, register } from '../../auth/sessions.ts';
import type { App, AppEnv } from '../context.ts';
import { enforce } from '../enforce.ts';

const deps = (c: Context<AppEnv>) => {
  const s = c.get('services');
  return {
    accounts: s.store.accounts,
    sessions: s.store.sessions,
    tokens: s.tokens,
    grant: s.billing.signupGrant,
  };
};

/**
 * `POST /v1/auth/register` (201), `/login`, `/logout` and `/password` (204). Ending sessions
 * closes their sockets on this origin at once; other origins' hubs find out at their next
 * re-check.
 */
export function registerAuth(app: App): void {
  app.openapi(enforce(api.register), async (c) =>
    c.json(await register(deps(c), c.req.valid('json')), 201),
  );
  app.openapi(enforce(api.login), async (c) =>
    c.json(await login(deps(c), c.req.valid('json')), 200),
  );
  app.openapi(enforce(api.logout), async (c) => {
    const principal = c.get('principal');
    await logout(deps(c), principal);
    c.get('services').hub.recheck(principal.userId);
    return c.body(null, 204);
  });
  app.openapi(enforce(api.changePassword), async (c) => {
    const principal = c.get('principal');
    await changePassword(deps(c), principal, c.req.valid('json'));
    c.get('services').hub.recheck(principal.userId);
    return c.body(null, 204);
  });
}
