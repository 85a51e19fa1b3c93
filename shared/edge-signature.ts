/**
 * How the edge signs every request it forwards and how the origin checks it: an
 * HMAC-SHA256 with `EDGE_SIGNING_SECRET` over a canonical string, one field per line:
 *
 * ```text
 * v2
 * <timestamp, Unix seconds>
 * <METHOD>
 * <path with its query, as the origin sees it>
 * <hex SHA-256 of the body (of no bytes for GET, HEAD, OPTIONS), or `stream:<bytes>`>
 * <client IP>
 * <request id>
 * <Authorization>
 * <Idempotency-Key>
 * <Range>
 * ```
 *
 * A header the request does not carry is an empty line. The three headers are signed so
 * that a captured request cannot be sent again with other credentials, another key (a
 * second job) or another range. The header is `x-edge-signature: v2=<base64url MAC>`; both
 * ends run the same version (a `v1` signature, which covered none of the three, is
 * refused as malformed). Web Crypto only, so the same code runs in Workers and in Node.
 *
 * An upload (`POST /v1/files`, up to 20 MiB) is streamed through the edge rather than held
 * whole to be hashed first: its body field is `stream:<Content-Length>`, and the request
 * says so with `x-edge-body: stream` (a request that says so with another body field, or
 * the reverse, fails its MAC). The MAC then covers the body's length, not its bytes: what
 * keeps them is the connection's TLS and the replay cache (a MAC is taken once), and the
 * origin accepts the mode on the upload route alone (`streamedBodyPaths`).
 */

import { encoder, fromBase64Url, hmacKey, toBase64Url, toHex } from './hmac.ts';

export const edgeHeaders = {
  signature: 'x-edge-signature',
  timestamp: 'x-edge-timestamp',
  clientIp: 'x-edge-client-ip',
  requestId: 'x-request-id',
} as const;

/** The request headers the signature covers (lower case), in the canonical string's order. */
export const signedHeaders = ['authorization', 'idempotency-key', 'range'] as const;

const version = 'v2';
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

/** `x-edge-body: stream`: the body is signed by its length (`{ streamedBytes }`), not its hash. */
export const streamedBodyHeader = 'x-edge-body';
/** The paths whose POST body may be streamed (signed by its length): uploads. */
export const streamedBodyPaths = ['/v1/files'] as const;

/**
 * The declared length of a body that may be streamed (signed by its length): a POST to one of
 * `streamedBodyPaths` with a `Content-Length` and no `Transfer-Encoding`; undefined otherwise.
 * The edge streams exactly these, and the origin takes the mode for exactly these.
 *
 * @example
 * streamableLength('POST', '/v1/files', (n) => headers.get(n)); // 3000
 */
export function streamableLength(
  method: string,
  path: string,
  header: HeaderLookup,
): number | undefined {
  const length = header('content-length');
  const upload =
    method.toUpperCase() === 'POST' && (streamedBodyPaths as readonly string[]).includes(path);
  if (!upload || typeof length !== 'string' || !/^\d{1,12}$/.test(length)) return undefined;
  return header('transfer-encoding') ? undefined : Number(length);
}

/** A body as signed: its bytes (hashed), none, or a stream of this many bytes. */
export type SignedBody = ArrayBuffer | Uint8Array | undefined | { streamedBytes: number };

export interface SignedParts {
  method: string;
  /** `pathname + search` exactly as the origin will see it. */
  pathWithQuery: string;
  body: SignedBody;
  clientIp: string;
  requestId: string;
  /** The headers the request travels with: those named in `signedHeaders` are signed. */
  headers: Headers | Record<string, string>;
}

/** A request's header by its lower-case name. */
type HeaderLookup = (name: string) => string | undefined | null;

// Visible ASCII, space and tab: what a header value may hold and read the same everywhere.
const plainAscii = /^[\t\x20-\x7e]*$/;

/**
 * The first of the signed headers whose value is not plain ASCII (visible characters, space,
 * tab), if any. The signature covers their text, and past ASCII the two ends read the same
 * bytes as different text: workerd decodes a header's bytes as UTF-8 (U+FFFD for bytes
 * that are none), Node as latin-1, so such a request could only fail its signature. The
 * three are ASCII by their grammars (RFC 9110 credentials and ranges; an Idempotency-Key is
 * printable ASCII), so the edge refuses the request instead of forwarding it.
 *
 * @example
 * unsignableHeader((n) => request.headers.get(n)); // 'idempotency-key' for "clé"
 */
export function unsignableHeader(header: HeaderLookup): (typeof signedHeaders)[number] | undefined {
  return signedHeaders.find((name) => !plainAscii.test(header(name) ?? ''));
}

// One field per line: a field holding a line break could hand text on to the next one.
const breaksLines = (field: string) => /[\r\n]/.test(field);

/** The fields a client or the network could shape, in the canonical string's order. */
const freeFields = (clientIp: string, requestId: string, header: HeaderLookup) => [
  clientIp,
  requestId,
  ...signedHeaders.map((name) => header(name) ?? ''),
];

async function canonical(
  parts: Omit<SignedParts, 'headers'>,
  header: HeaderLookup,
  timestamp: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const fields = freeFields(parts.clientIp, parts.requestId, header);
  if (fields.some(breaksLines)) throw new TypeError('a signed field holds a line break');
  const body = parts.body ?? new Uint8Array(0);
  const bodyHash =
    'streamedBytes' in body
      ? `stream:${body.streamedBytes}`
      : toHex(await crypto.subtle.digest('SHA-256', body as BufferSource));
  return new Uint8Array(
    encoder.encode(
      [
        version,
        String(timestamp),
        parts.method.toUpperCase(),
        parts.pathWithQuery,
        bodyHash,
        ...fields,
      ].join('\n'),
    ),
  );
}

/**
 * The headers to add to a forwarded request, signed with the headers it travels with.
 *
 * @example
 * const headers = await signEdgeRequest(secret, { method: 'GET', pathWithQuery: '/v1/me',
 *   body: undefined, clientIp: '203.0.113.9', requestId: crypto.randomUUID(),
 *   headers: { authorization: `Bearer ${token}` } });
 */
export async function signEdgeRequest(
  secret: string,
  parts: SignedParts,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const headers = new Headers(parts.headers);
  const mac = await crypto.subtle.sign(
    'HMAC',
    await hmacKey(secret),
    await canonical(parts, (name) => headers.get(name), timestamp),
  );
  return {
    [edgeHeaders.signature]: `${version}=${toBase64Url(mac)}`,
    [edgeHeaders.timestamp]: String(timestamp),
    [edgeHeaders.clientIp]: parts.clientIp,
    [edgeHeaders.requestId]: parts.requestId,
  };
}

export type EdgeScreen =
  | {
      ok: true;
      mac: Uint8Array<ArrayBuffer>;
      timestamp: number;
      clientIp: string;
      requestId: string;
    }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' };

/**
 * The checks of an edge signature that need no body: present, well formed (the MAC in its
 * one canonical spelling), no older (or newer) than `maxAgeSeconds`. A request that fails
 * them is refused before its body is read.
 *
 * @example
 * const screen = screenEdgeRequest((name) => c.req.header(name), { maxAgeSeconds: 30 });
 */
export function screenEdgeRequest(
  header: HeaderLookup,
  options: { maxAgeSeconds: number; now?: number },
): EdgeScreen {
  const signature = header(edgeHeaders.signature);
  const stamp = header(edgeHeaders.timestamp);
  const clientIp = header(edgeHeaders.clientIp);
  const requestId = header(edgeHeaders.requestId);
  if (!signature || !stamp || !clientIp || !requestId) return { ok: false, reason: 'missing' };
  const prefix = `${version}=`;
  const mac = signature.startsWith(prefix)
    ? fromBase64Url(signature.slice(prefix.length), 32)
    : undefined;
  if (
    !mac ||
    !/^\d{1,12}$/.test(stamp) ||
    freeFields(clientIp, requestId, header).some(breaksLines)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const timestamp = Number(stamp);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > options.maxAgeSeconds) return { ok: false, reason: 'stale' };
  return { ok: true, mac, timestamp, clientIp, requestId };
}

export type EdgeCheck =
  | {
      ok: true;
      clientIp: string;
      requestId: string;
      /** The MAC's bytes in hex: one spelling per signature, the key of a replay cache. */
      mac: string;
      timestamp: number;
    }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * Checks a request's edge signature: `screenEdgeRequest`'s checks, then the MAC over the
 * method, path, body and the headers as the request carries them. The comparison is
 * `crypto.subtle.verify`, constant-time.
 *
 * @example
 * const check = await verifyEdgeRequest(secret, { method, pathWithQuery, body,
 *   header: (name) => c.req.header(name) }, { maxAgeSeconds: 30 });
 */
export async function verifyEdgeRequest(
  secret: string,
  request: {
    method: string;
    pathWithQuery: string;
    body: SignedBody;
    header: HeaderLookup;
  },
  options: { maxAgeSeconds: number; now?: number },
): Promise<EdgeCheck> {
  const screen = screenEdgeRequest(request.header, options);
  if (!screen.ok) return screen;
  const { clientIp, requestId, timestamp } = screen;
  const data = await canonical(
    {
      method: request.method,
      pathWithQuery: request.pathWithQuery,
      body: request.body,
      clientIp,
      requestId,
    },
    request.header,
    timestamp,
  );
  const ok = await crypto.subtle.verify('HMAC', await hmacKey(secret), screen.mac, data);
  return ok
    ? { ok, clientIp, requestId, mac: toHex(screen.mac.buffer), timestamp }
    : { ok: false, reason: 'mismatch' };
}
