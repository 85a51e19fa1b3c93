import { ApiError } from '../../shared/errors.ts';
import type { Credentials, SessionAnswer } from '../../shared/schemas/auth.ts';
import type { AccountStore } from '../store/store.ts';
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
  const created = await deps.accounts.createUser({
    email: input.email,
    passwordHash: await hashPassword(input.password),
    grant: deps.grant,
  });
  if (created === 'email_taken') {
    throw new ApiError('conflict', 'An account with this email exists.');
  }
  const user = { id: created.id, email: created.email };
  return { user, token: await deps.tokens.sign(user.id) };
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
