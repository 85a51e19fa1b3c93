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
 * The bytes of a base64url text (unpadded) in its one canonical spelling, or undefined; with
 * `byteLength`, only a text of that many bytes. When the length is not a multiple of 4, the
 * last character carries bits no decoder looks at (`atob` ignores them), so several spellings
 * decode to the same bytes (a 32-byte MAC's 43 characters: four). Only the one `toBase64Url`
 * writes (those bits zero) is accepted: nothing keyed on the text (a replay cache, a
 * rate-limit bucket) can take one value for several by its re-spellings.
 *
 * @example
 * fromBase64Url(signature, 32); // a MAC, or undefined
 */
export function fromBase64Url(
  text: string,
  byteLength?: number,
): Uint8Array<ArrayBuffer> | undefined {
  if (byteLength !== undefined && text.length !== Math.ceil((byteLength * 4) / 3)) return undefined;
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  return toBase64Url(bytes.buffer) === text ? bytes : undefined;
}
