import { encoder, fromBase64Url, hmacKey, toBase64Url } from './hmac.ts';

/**
 * How an origin signs its calls to the edge's internal output routes (`PUT`, `GET` and
 * `DELETE` `/internal/outputs/:key`, never reachable without it) and how the edge checks them: an
 * HMAC-SHA256 with `EDGE_SIGNING_SECRET` over the timestamp, the method, the path, and the
 * body's SHA-256 and length as the origin declares them. The canonical string starts with
 * its own label, so an edge-to-origin signature can never pass for one of these, nor the
 * reverse. The body is not hashed at the edge: R2 checks the declared SHA-256 itself as it
 * stores the stream, and refuses a body that does not match. A replay within the window
 * writes the same bytes at the same key, or deletes again: both change nothing. The MAC is
 * accepted only in its canonical base64url spelling (`fromBase64Url`), as the edge's is.
 */

export const originHeaders = {
  signature: 'x-origin-signature',
  timestamp: 'x-origin-timestamp',
  sha256: 'x-content-sha256',
} as const;

export interface OriginSignedParts {
  method: string;
  path: string;
  /** Hex SHA-256 of the body; of no bytes for a request without one. */
  sha256: string;
  length: number;
}

const emptySha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const canonical = (parts: OriginSignedParts, timestamp: number) =>
  encoder.encode(
    [
      'origin-v1',
      String(timestamp),
      parts.method.toUpperCase(),
      parts.path,
      parts.sha256,
      String(parts.length),
    ].join('\n'),
  );

/**
 * The headers an origin adds to its call (the caller sets `content-length` itself).
 *
 * @example
 * const headers = await signOriginRequest(secret, { method: 'PUT', path, sha256, length });
 */
export async function signOriginRequest(
  secret: string,
  parts: Partial<Pick<OriginSignedParts, 'sha256' | 'length'>> &
    Pick<OriginSignedParts, 'method' | 'path'>,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const full = { ...parts, sha256: parts.sha256 ?? emptySha256, length: parts.length ?? 0 };
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), canonical(full, timestamp));
  return {
    [originHeaders.signature]: `v1=${toBase64Url(mac)}`,
    [originHeaders.timestamp]: String(timestamp),
    [originHeaders.sha256]: full.sha256,
  };
}

export type OriginCheck =
  | { ok: true; sha256: string; length: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/** Checks an origin's call: present, well formed, within `maxAgeSeconds`, and matching. */
export async function verifyOriginRequest(
  secret: string,
  request: { method: string; path: string; header(name: string): string | undefined | null },
  options: { maxAgeSeconds: number; now?: number },
): Promise<OriginCheck> {
  const signature = request.header(originHeaders.signature);
  const stamp = request.header(originHeaders.timestamp);
  const sha256 = request.header(originHeaders.sha256);
  const length = request.header('content-length') ?? '0';
  if (!signature || !stamp || !sha256) return { ok: false, reason: 'missing' };
  const mac = signature.startsWith('v1=') ? fromBase64Url(signature.slice(3), 32) : undefined;
  if (
    !mac ||
    !/^\d{1,12}$/.test(stamp) ||
    !/^[0-9a-f]{64}$/.test(sha256) ||
    !/^\d{1,15}$/.test(length)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const timestamp = Number(stamp);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > options.maxAgeSeconds) return { ok: false, reason: 'stale' };
  const parts = { method: request.method, path: request.path, sha256, length: Number(length) };
  const ok = await crypto.subtle.verify(
    'HMAC',
    await hmacKey(secret),
    mac,
    canonical(parts, timestamp),
  );
  return ok ? { ok, sha256, length: parts.length } : { ok: false, reason: 'mismatch' };
}
