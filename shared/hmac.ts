/**
 * The HMAC-SHA256 primitives both signing schemes share (edge → origin in
 * `edge-signature.ts`, origin → edge in `origin-signature.ts`): Web Crypto only, so the same
 * code runs in Workers and in Node.
 */

export const encoder = new TextEncoder();

const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key of a secret, imported once per secret. */
export function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      encoder.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    keys.set(secret, key);
  }
  return key;
}

export const toHex = (bytes: ArrayBuffer): string =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

export const toBase64Url = (bytes: ArrayBuffer): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');

/**
 * A 32-byte MAC written in base64url (43 characters), in its one canonical spelling, or
 * undefined. 43 characters carry 258 bits: the last one's two low bits are padding, which
 * `atob` ignores, so four spellings decode to the same bytes. Only the one `toBase64Url`
 * writes (padding bits zero) is accepted: a replay cannot pass for a new signature by
 * re-spelling it.
 */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return undefined;
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  return toBase64Url(bytes.buffer) === text ? bytes : undefined;
}
