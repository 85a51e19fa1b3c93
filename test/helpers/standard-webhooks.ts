import type { IncomingHttpHeaders } from 'node:http';

/**
 * A Standard Webhooks verifier written from the specification, independently of
 * `origin/webhooks/signature.ts` (Web Crypto rather than `node:crypto`): the HMAC-SHA256 of
 * `${webhook-id}.${webhook-timestamp}.${body}`, keyed by the base64 part of the `whsec_`
 * secret, must equal one of the space-separated `v1,<base64>` entries of `webhook-signature`.
 *
 * @example
 * expect(await verifyStandardWebhook(secret, hit.headers, hit.body)).toBe(true);
 */
export async function verifyStandardWebhook(
  secret: string,
  headers: IncomingHttpHeaders,
  body: string,
): Promise<boolean> {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') {
    return false;
  }
  if (!secret.startsWith('whsec_')) return false;
  const key = await crypto.subtle.importKey(
    'raw',
    Uint8Array.from(atob(secret.slice('whsec_'.length)), (c) => c.charCodeAt(0)),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)),
  );
  const expected = `v1,${btoa(String.fromCharCode(...mac))}`;
  return signatures.split(' ').includes(expected);
}
