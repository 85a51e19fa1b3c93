/**
 * API keys that say whose they are: `ovt_<random>_<user id>_<tag>`, where the tag is an
 * HMAC of everything before it under a key derived from the JWT secret, which the origins and
 * the edge both hold. The origin still finds a key by its hash (the store alone makes a key
 * valid, and revokes it); the tag lets the edge count every key of one user against that
 * user's one rate-limit budget without a database, and anything it cannot check (a made-up
 * key, a key of the older `ovt_<random>` format) against the client's IP. The random part
 * comes first so that the visible prefix (`ovt_` and 8 characters) still tells keys apart.
 * Web Crypto only: the same code mints at the origin and reads at the edge.
 */
import { encoder, toBase64Url } from './hmac.ts';

export const apiKeyPrefix = 'ovt_';

/** 32 random bytes in base64url. */
const randomChars = 43;
/** 128 bits of HMAC-SHA256, in base64url. */
const tagBytes = 16;
const tagChars = 22;
/** A user id as API keys and session tokens carry it: 1–64 URL-safe characters. */
export const userIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const randomPattern = /^[A-Za-z0-9_-]+$/;
/** Domain separation: the tag key is never the key that signs session tokens. */
const label = 'overture/api-key-tag/v1';

export interface ApiKeyTags {
  /** A new key of `userId` (shown once, stored hashed). */
  mint(userId: string): Promise<string>;
  /** The user a key of this format names when its tag is right; undefined for anything else. */
  userOf(key: string): Promise<string | undefined>;
}

async function deriveTagKey(secret: Uint8Array): Promise<CryptoKey> {
  const hmac = { name: 'HMAC', hash: 'SHA-256' };
  const root = await crypto.subtle.importKey('raw', new Uint8Array(secret), hmac, false, ['sign']);
  const derived = await crypto.subtle.sign('HMAC', root, encoder.encode(label));
  return crypto.subtle.importKey('raw', derived, hmac, false, ['sign']);
}

/** Equal strings, in time that depends on their length only. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Mints and reads API keys under `secret` (the JWT secret's bytes).
 *
 * @example
 * const tags = apiKeyTags(new TextEncoder().encode(env.JWT_SECRET));
 * const userId = await tags.userOf(await tags.mint('usr_1')); // 'usr_1'
 */
export function apiKeyTags(secret: Uint8Array): ApiKeyTags {
  let key: Promise<CryptoKey> | undefined;
  const tagOf = async (body: string) => {
    key ??= deriveTagKey(secret);
    const mac = await crypto.subtle.sign('HMAC', await key, encoder.encode(body));
    return toBase64Url(mac.slice(0, tagBytes));
  };
  return {
    async mint(userId) {
      if (!userIdPattern.test(userId)) throw new Error('a user id of 1–64 URL-safe characters');
      const random = toBase64Url(crypto.getRandomValues(new Uint8Array(32)).buffer);
      const body = `${apiKeyPrefix}${random}_${userId}_`;
      return body + (await tagOf(body));
    },
    async userOf(candidate) {
      const start = apiKeyPrefix.length;
      const userAt = start + randomChars + 1;
      const tagAt = candidate.length - tagChars;
      if (!candidate.startsWith(apiKeyPrefix) || tagAt - 1 <= userAt) return undefined;
      if (candidate[userAt - 1] !== '_' || candidate[tagAt - 1] !== '_') return undefined;
      if (!randomPattern.test(candidate.slice(start, userAt - 1))) return undefined;
      const userId = candidate.slice(userAt, tagAt - 1);
      if (!userIdPattern.test(userId)) return undefined;
      // The canonical spelling of the tag only: another spelling of its last character is another string.
      const tag = await tagOf(candidate.slice(0, tagAt));
      return sameText(tag, candidate.slice(tagAt)) ? userId : undefined;
    },
  };
}
