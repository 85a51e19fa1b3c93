import { userIdPattern } from '../../../shared/api-key.ts';
import { encoder, fromBase64Url, hmacKey } from '../../../shared/hmac.ts';

/** What a bearer token is, to the limiter. */
export type SessionRead =
  /** A session JWT the origins signed (HS256 under JWT_SECRET), unexpired: counted by its user. */
  | { kind: 'session'; userId: string }
  /**
   * Shaped as a JWT, but some part is not in its one canonical base64url spelling (the last
   * character of a part carries bits no decoder looks at, so one token has several
   * spellings): refused, so that one token never opens several budgets.
   */
  | { kind: 'non_canonical' }
  /** Anything else: made up, expired, signed with another secret, or not checkable here. */
  | { kind: 'unknown' };

const issuer = 'overture';
const partPattern = /^[A-Za-z0-9_-]*$/;
/** Far above any token the origins sign; a longer one is not worth decoding. */
const maxTokenChars = 4096;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function json(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a bearer token as the origins' session JWT (`origin/auth/tokens.ts`: HS256, issuer
 * `overture`, `sub` and `exp` required) with Web Crypto. Without `secret` no session can be
 * checked: every token is `unknown` (counted by IP), but a non-canonical one is still refused.
 * Whether the session was since ended (logout, password change) is the origin's question:
 * here a validly signed token of a user counts against that user, which is all a budget needs.
 *
 * @example
 * const read = await readSessionToken(config.JWT_SECRET, token, Date.now() / 1000);
 * if (read.kind === 'session') key = `user:${read.userId}`;
 */
export async function readSessionToken(
  secret: string | undefined,
  token: string,
  nowSeconds: number,
): Promise<SessionRead> {
  const parts = token.split('.');
  if (token.length > maxTokenChars || parts.length !== 3) return { kind: 'unknown' };
  if (!parts.every((p) => partPattern.test(p))) return { kind: 'unknown' };
  const [header, payload, signature] = parts.map((part) => fromBase64Url(part));
  if (!header || !payload || !signature) return { kind: 'non_canonical' };
  if (secret === undefined) return { kind: 'unknown' };
  const head = json(header);
  if (head?.alg !== 'HS256' || 'crit' in head) return { kind: 'unknown' };
  const signed = encoder.encode(`${parts[0]}.${parts[1]}`);
  if (!(await crypto.subtle.verify('HMAC', await hmacKey(secret), signature, signed))) {
    return { kind: 'unknown' };
  }
  const claims = json(payload);
  const { sub, exp, nbf, iss } = claims ?? {};
  const valid =
    iss === issuer &&
    typeof sub === 'string' &&
    userIdPattern.test(sub) &&
    typeof exp === 'number' &&
    exp > nowSeconds &&
    (nbf === undefined || (typeof nbf === 'number' && nbf <= nowSeconds));
  return valid ? { kind: 'session', userId: sub } : { kind: 'unknown' };
}
