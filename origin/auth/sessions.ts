import { ApiError } from '../../shared/errors.ts';
import type { Credentials, SessionAnswer } from '../../shared/schemas/auth.ts';
import { signupCredits } from '../billing/signup-credits.ts';
import { newId } from '../lib/ids.ts';
import type { AccountStore } from '../store/store.ts';
import { newWebhookSecret } from '../webhooks/signature.ts';
import { hashPassword, verifyNothing, verifyPassword } from './passwords.ts';
import type { TokenSigner } from './tokens.ts';

interface Deps {
  accounts: AccountStore;
  tokens: TokenSigner;
  /** Credits a new account receives. */
  grant: number;
}

/** Creates an account; 409 `conflict` when the (normalised) email is taken. */
export async function register(deps: Deps, input: Credentials): Promise<SessionAnswer> {
  const at = Date.now();
  const user = {
    id: newId('usr', at),
    email: input.email,
    passwordHash: await hashPassword(input.password),
    balance: deps.grant,
    webhookSecret: newWebhookSecret(),
    createdAt: at,
    sessionVersion: 0,
    isAdmin: false,
  };
  const created = await deps.accounts.createUser(user, signupCredits(user.id, deps.grant, at));
  if (created === 'email_taken') {
    throw new ApiError('conflict', 'An account with this email exists.');
  }
  return {
    user: { id: created.id, email: created.email },
    token: await deps.tokens.sign(created.id),
  };
}

/** Signs in; an unknown email and a wrong password give the same 401, in the same time. */
export async function login(deps: Deps, input: Credentials): Promise<SessionAnswer> {
  const found = await deps.accounts.findUserByEmail(input.email);
  const ok = found
    ? await verifyPassword(found.passwordHash, input.password)
    : await verifyNothing(input.password);
  if (!found || !ok) throw new ApiError('unauthorized', 'Wrong email or password.');
  const user = { id: found.id, email: found.email };
  return { user, token: await deps.tokens.sign(user.id) };
}
