import type { AccountStore } from '../store/store.ts';
import { hashApiKey, looksLikeApiKey } from './api-keys.ts';
import type { TokenSigner } from './tokens.ts';

/** Who a request acts for. */
export interface Principal {
  userId: string;
  /** Set when the request came with an API key rather than a session token. */
  apiKeyId?: string;
}

// Writing last_used_at on every request would turn each read into a write.
const touchEveryMs = 60_000;

/**
 * Resolves a bearer token (session JWT or `ovt_` API key) to a principal, or undefined.
 *
 * @example
 * const principal = await authenticate({ accounts, tokens }, 'ovt_…');
 */
export async function authenticate(
  deps: { accounts: AccountStore; tokens: TokenSigner },
  token: string,
): Promise<Principal | undefined> {
  if (looksLikeApiKey(token)) {
    const key = await deps.accounts.findApiKey(hashApiKey(token));
    if (!key) return undefined;
    const now = Date.now();
    if (key.lastUsedAt === null || now - key.lastUsedAt > touchEveryMs) {
      await deps.accounts.touchApiKey(key.id, now);
    }
    return { userId: key.userId, apiKeyId: key.id };
  }
  const userId = await deps.tokens.verify(token);
  if (!userId) return undefined;
  // A token outlives nothing: a deleted account's token is refused.
  return (await deps.accounts.findUserById(userId)) ? { userId } : undefined;
}
