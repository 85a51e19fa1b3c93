import { createHash, randomBytes } from 'node:crypto';

export const apiKeyPrefix = 'ovt_';

/** A new API key: the key itself (shown once), its visible prefix, and the hash stored. */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${apiKeyPrefix}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, 12), hash: hashApiKey(key) };
}

/** Keys are 256 random bits, so a fast hash is enough: no salt or stretching needed. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export const looksLikeApiKey = (token: string): boolean => token.startsWith(apiKeyPrefix);
