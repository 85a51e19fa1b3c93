/**
 * How the edge signs every request it forwards and how the origin checks it: an
 * HMAC-SHA256 with `EDGE_SIGNING_SECRET` over a canonical string of the timestamp, the
 * method, the path with its query, the SHA-256 of the body, the client IP and the request
 * id. Web Crypto only, so the same code runs in Workers and in Node.
 */

export const edgeHeaders = {
  signature: 'x-edge-signature',
  timestamp: 'x-edge-timestamp',
  clientIp: 'x-edge-client-ip',
  requestId: 'x-request-id',
} as const;

import { encoder, fromBase64Url, hmacKey, toBase64Url, toHex } from './hmac.ts';

const edgeSecretMinBytes = 32;

/**
 * The one length rule of `EDGE_SIGNING_SECRET`, checked by the edge (`edge/config.ts`) and
 * the origin (`origin/env.ts`) alike: at least 32 bytes of UTF-8, because those bytes are
 * the HMAC key. Counting characters at one end and bytes at the other let a secret of
 * multi-byte characters start the origin and misconfigure the edge.
 *
 * @example
 * z.string().refine(edgeSecretRule.check, edgeSecretRule.message);
 */
export const edgeSecretRule = {
  minBytes: edgeSecretMinBytes,
  message: `must be at least ${edgeSecretMinBytes} bytes (of UTF-8)`,
  check: (secret: string): boolean => encoder.encode(secret).byteLength >= edgeSecretMinBytes,
} as const;

/**
 * Methods whose requests carry no body: the edge forwards none and signs the empty body's
 * hash, and the origin verifies them without reading one. Both ends must agree, or every
 * such request fails its signature.
 */
export const bodilessMethods = ['GET', 'HEAD', 'OPTIONS'] as const;

/**
 * Whether a request's body is part of its edge signature (and is forwarded).
 *
 * @example
 * const body = hasSignedBody(c.req.method) ? await c.req.arrayBuffer() : undefined;
 */
export function hasSignedBody(method: string): boolean {
  return !(bodilessMethods as readonly string[]).includes(method.toUpperCase());
}

export interface SignedParts {
  method: string;
  /** `pathname + search` exactly as the origin will see it. */
  pathWithQuery: string;
  body: ArrayBuffer | Uint8Array | undefined;
  clientIp: string;
  requestId: string;
}

async function canonical(parts: SignedParts, timestamp: number): Promise<Uint8Array<ArrayBuffer>> {
  const body = parts.body ?? new Uint8Array(0);
  const bodyHash = toHex(await crypto.subtle.digest('SHA-256', body as BufferSource));
  return new Uint8Array(
    encoder.encode(
      [
        'v1',
        String(timestamp),
        parts.method.toUpperCase(),
        parts.pathWithQuery,
        bodyHash,
        parts.clientIp,
        parts.requestId,
      ].join('\n'),
    ),
  );
}

/**
 * The headers to add to a forwarded request.
 *
 * @example
 * const headers = await signEdgeRequest(secret, { method: 'GET', pathWithQuery: '/v1/me',
 *   body: undefined, clientIp: '203.0.113.9', requestId: crypto.randomUUID() });
 */
export async function signEdgeRequest(
  secret: string,
  parts: SignedParts,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const mac = await crypto.subtle.sign(
    'HMAC',
    await hmacKey(secret),
    await canonical(parts, timestamp),
  );
  return {
    [edgeHeaders.signature]: `v1=${toBase64Url(mac)}`,
    [edgeHeaders.timestamp]: String(timestamp),
    [edgeHeaders.clientIp]: parts.clientIp,
    [edgeHeaders.requestId]: parts.requestId,
  };
}

export type EdgeCheck =
  | { ok: true; clientIp: string; requestId: string; signature: string; timestamp: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * Checks a request's edge signature: present, well formed, no older (or newer) than
 * `maxAgeSeconds`, and matching. The comparison is `crypto.subtle.verify`, constant-time.
 */
export async function verifyEdgeRequest(
  secret: string,
  request: {
    method: string;
    pathWithQuery: string;
    body: ArrayBuffer | Uint8Array | undefined;
    header(name: string): string | undefined | null;
  },
  options: { maxAgeSeconds: number; now?: number },
): Promise<EdgeCheck> {
  const signature = request.header(edgeHeaders.signature);
  const stamp = request.header(edgeHeaders.timestamp);
  const clientIp = request.header(edgeHeaders.clientIp);
  const requestId = request.header(edgeHeaders.requestId);
  if (!signature || !stamp || !clientIp || !requestId) return { ok: false, reason: 'missing' };
  const mac = signature.startsWith('v1=') ? fromBase64Url(signature.slice(3)) : undefined;
  if (!mac || !/^\d{1,12}$/.test(stamp)) return { ok: false, reason: 'malformed' };
  const timestamp = Number(stamp);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > options.maxAgeSeconds) return { ok: false, reason: 'stale' };
  const data = await canonical(
    {
      method: request.method,
      pathWithQuery: request.pathWithQuery,
      body: request.body,
      clientIp,
      requestId,
    },
    timestamp,
  );
  const ok = await crypto.subtle.verify('HMAC', await hmacKey(secret), mac, data);
  return ok ? { ok, clientIp, requestId, signature, timestamp } : { ok: false, reason: 'mismatch' };
}
