import { ApiError } from '../../shared/errors.ts';
import type { Credentials, PasswordChange, SessionAnswer } from '../../shared/schemas/auth.ts';
import { signupCredits } from '../billing/signup-credits.ts';
import { newId } from '../lib/ids.ts';
import type { AccountStore, SessionStore } from '../store/store.ts';
import { newWebhookSecret } from '../webhooks/signature.ts';
import { hashPassword, verifyNothing, verifyPassword } from './passwords.ts';
import type { Principal } from './principal.ts';
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
    lastStartedAt: null,
  };
  const created = await deps.accounts.createUser(user, signupCredits(user.id, deps.grant, at));
  if (created === 'email_taken') {
    throw new ApiError('conflict', 'An account with this email exists.');
  }
  return {
    user: { id: created.id, email: created.email },
    token: await deps.tokens.sign(created.id, created.sessionVersion),
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
  return { user, token: await deps.tokens.sign(user.id, found.sessionVersion) };
}

/**
 * Ended tokens are kept this long past their expiry before they are forgotten: an origin whose
 * clock runs behind still refuses them.
 */
const clockSkewMs = 10 * 60_000;

/** Ends the session of this token on every origin; an API key is revoked instead (403). */
export async function logout(deps: { sessions: SessionStore }, principal: Principal) {
  if (!principal.session) {
    throw new ApiError(
      'forbidden',
      'Signing out ends a session token; revoke an API key with DELETE /v1/api-keys/:id.',
    );
  }
  const { tokenId, expiresAt } = principal.session;
  await deps.sessions.end({ tokenId, userId: principal.userId, expiresAt });
  await deps.sessions.forgetEnded(Date.now() - clockSkewMs);
}

/**
 * Sets a new password and ends every session of the user, this one too (API keys stay);
 * a wrong current password is 403, so a client does not take it for its session's end.
 */
export async function changePassword(
  deps: { accounts: AccountStore; sessions: SessionStore },
  principal: Principal,
  input: PasswordChange,
): Promise<void> {
  const user = await deps.accounts.findUserById(principal.userId);
  if (!user) throw new ApiError('unauthorized', 'A valid bearer token is required.');
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new ApiError('forbidden', 'The current password is wrong.');
  }
  const hash = await hashPassword(input.newPassword);
  const changed = await deps.sessions.changePassword(user.id, user.passwordHash, hash);
  if (changed === undefined) {
    throw new ApiError('conflict', 'The password was changed meanwhile: sign in again.');
  }
}
