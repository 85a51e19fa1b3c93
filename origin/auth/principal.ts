import type { AccountStore, SessionStore } from '../store/store.ts';
import { hashApiKey, looksLikeApiKey } from './api-keys.ts';
import type { TokenSigner } from './tokens.ts';

/** Who a request acts for. */
export interface Principal {
  userId: string;
  /** Set when the request came with an API key rather than a session token. */
  apiKeyId?: string;
  /** Set when it came with a session token: what ends it (a sign-out, a password change, time). */
  session?: { tokenId: string; version: number; expiresAt: number };
}

interface Deps {
  accounts: AccountStore;
  sessions: SessionStore;
  tokens: TokenSigner;
}

// Writing last_used_at on every request would turn each read into a write.
const touchEveryMs = 60_000;

/**
 * Resolves a bearer token (session JWT or `ovt_` API key) to a principal, or undefined. A
 * session token holds while its user exists, it was not ended, and its session version is
 * the user's.
 *
 * @example
 * const principal = await authenticate({ accounts, sessions, tokens }, 'ovt_…');
 */
export async function authenticate(deps: Deps, token: string): Promise<Principal | undefined> {
  if (looksLikeApiKey(token)) {
    const key = await deps.accounts.findApiKey(hashApiKey(token));
    if (!key) return undefined;
    const now = Date.now();
    if (key.lastUsedAt === null || now - key.lastUsedAt > touchEveryMs) {
      await deps.accounts.touchApiKey(key.id, now);
    }
    return { userId: key.userId, apiKeyId: key.id };
  }
  const claims = await deps.tokens.verify(token);
  if (!claims) return undefined;
  const found = await deps.sessions.find(claims.userId, claims.tokenId);
  // A token outlives nothing: a deleted account, a sign-out, a password change.
  if (!found || found.ended || found.user.sessionVersion !== claims.version) return undefined;
  const { tokenId, version, expiresAt } = claims;
  return { userId: claims.userId, session: { tokenId, version, expiresAt } };
}

/**
 * Of these principals (the WebSocket hub's sockets), those that no longer hold: an expired or
 * ended session, a user's sessions ended by a password change, a revoked key. Three batched
 * reads of the distinct ids, however many sockets share them.
 */
export async function endedPrincipals(
  deps: Pick<Deps, 'sessions'>,
  principals: readonly Principal[],
  now = Date.now(),
): Promise<Set<Principal>> {
  const distinct = (pick: (p: Principal) => string | undefined) => [
    ...new Set(principals.flatMap((p) => pick(p) ?? [])),
  ];
  const tokenIds = distinct((p) => p.session?.tokenId);
  const userIds = distinct((p) => (p.session ? p.userId : undefined));
  const keyIds = distinct((p) => p.apiKeyId);
  const [ended, versions, live] = await Promise.all([
    tokenIds.length ? deps.sessions.ended(tokenIds) : [],
    userIds.length ? deps.sessions.versions(userIds) : [],
    keyIds.length ? deps.sessions.liveKeys(keyIds) : [],
  ]);
  const endedIds = new Set(ended);
  const versionOf = new Map(versions.map((v) => [v.id, v.sessionVersion]));
  const liveIds = new Set(live);
  const out = new Set<Principal>();
  for (const p of principals) {
    const gone = p.session
      ? p.session.expiresAt <= now ||
        endedIds.has(p.session.tokenId) ||
        versionOf.get(p.userId) !== p.session.version
      : p.apiKeyId !== undefined && !liveIds.has(p.apiKeyId);
    if (gone) out.add(p);
  }
  return out;
}
