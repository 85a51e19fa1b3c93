import * as api from '../../../shared/api/me.ts';
import { ApiError } from '../../../shared/errors.ts';
import type { MeAnswer } from '../../../shared/schemas/auth.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';

/** `GET /v1/me`: who the token is, the credit balance, and whether it is an administrator. */
export function registerMe(app: App): void {
  app.openapi(enforce(api.getMe), async (c) => {
    const { store } = c.get('services');
    const user = await store.accounts.findUserById(c.get('principal').userId);
    if (!user) throw new ApiError('unauthorized', 'The account no longer exists.');
    const body: MeAnswer = {
      user: { id: user.id, email: user.email },
      credits: user.balance,
      admin: user.isAdmin,
    };
    return c.json(body, 200);
  });
}
