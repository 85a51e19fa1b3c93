import { createHash } from 'node:crypto';
import { type ApiKeyTags, apiKeyPrefix } from '../../shared/api-key.ts';

/**
 * A new API key of `userId`: the key itself (shown once), its visible prefix, and the hash
 * stored. The key names its user under a tag the edge checks (`shared/api-key.ts`), so that
 * every key of one user spends that user's one rate-limit budget; keys of the older
 * `ovt_<random>` format are found by their hash as before.
 */
export async function generateApiKey(
  tags: ApiKeyTags,
  userId: string,
): Promise<{ key: string; prefix: string; hash: string }> {
  const key = await tags.mint(userId);
  return { key, prefix: key.slice(0, 12), hash: hashApiKey(key) };
}

/** Keys carry 256 random bits, so a fast hash is enough: no salt or stretching needed. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export const looksLikeApiKey = (token: string): boolean => token.startsWith(apiKeyPrefix);
