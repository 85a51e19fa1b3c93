import { type ApiKeyTags, apiKeyPrefix, apiKeyTags } from '../../../shared/api-key.ts';
import { ApiError } from '../../../shared/errors.ts';
import { encoder } from '../../../shared/hmac.ts';
import { ipBucket } from './client-ip.ts';
import { readSessionToken } from './session-token.ts';

/** Whose budget a request spends, and whether the edge refuses it once it is counted. */
export interface Counted {
  /** `user:<id>` for a credential the edge verified, else `ip:<address or /64>`. */
  key: string;
  refusal?: ApiError;
}

const tagsBySecret = new Map<string, ApiKeyTags>();
function tagsOf(secret: string): ApiKeyTags {
  let tags = tagsBySecret.get(secret);
  if (!tags) {
    tags = apiKeyTags(encoder.encode(secret));
    tagsBySecret.set(secret, tags);
  }
  return tags;
}

/**
 * Who a request counts against: something a client cannot mint for free. A session JWT the
 * edge verifies (under `JWT_SECRET`) and an API key whose tag it verifies count against
 * their user, so every token and key of one user shares that user's one budget; anything
 * else (no credential, a made-up, expired or malformed token, a key of the older format,
 * any token when the edge has no `JWT_SECRET`) counts against the client's IP, IPv6 by its
 * /64. A JWT in a non-canonical spelling is counted by IP and refused.
 *
 * @example
 * const { key } = await whoCounts(config.JWT_SECRET, 'eyJ…', '2001:db8::1'); // 'user:usr_…'
 */
export async function whoCounts(
  secret: string | undefined,
  credential: string | undefined,
  clientIp: string,
): Promise<Counted> {
  const byIp: Counted = { key: `ip:${ipBucket(clientIp)}` };
  if (!credential) return byIp;
  if (credential.startsWith(apiKeyPrefix)) {
    const userId = secret === undefined ? undefined : await tagsOf(secret).userOf(credential);
    return userId ? { key: `user:${userId}` } : byIp;
  }
  const read = await readSessionToken(secret, credential, Date.now() / 1000);
  if (read.kind === 'session') return { key: `user:${read.userId}` };
  if (read.kind === 'non_canonical') {
    return {
      ...byIp,
      refusal: new ApiError('unauthorized', 'The token is malformed: sign in again.'),
    };
  }
  return byIp;
}
