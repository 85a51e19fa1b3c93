import { env } from 'cloudflare:test';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { readSessionToken } from '../../edge/middleware/rate-limit/session-token.ts';
import { hmacKey, toBase64Url } from '../../shared/hmac.ts';
import { newSession, newUserId, otherSpellings } from './support.ts';

const secret = env.JWT_SECRET as string;
const now = () => Date.now() / 1000;
const b64 = (text: string) => toBase64Url(new TextEncoder().encode(text).buffer as ArrayBuffer);

/** A token signed under `secret` with any header at all (jose signs no unknown `crit`). */
async function handSigned(header: Record<string, unknown>, claims: Record<string, unknown>) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const mac = await crypto.subtle.sign(
    'HMAC',
    await hmacKey(secret),
    new TextEncoder().encode(input),
  );
  return `${input}.${toBase64Url(mac)}`;
}

/** A token signed under `secret` with this header and these claims, as jose writes it. */
function signed(header: Record<string, unknown>, claims: Record<string, unknown>) {
  return new SignJWT(claims)
    .setProtectedHeader(header as { alg: string })
    .sign(new TextEncoder().encode(secret));
}
const valid = (more: Record<string, unknown> = {}) => ({
  sub: newUserId(),
  iss: 'overture',
  exp: Math.floor(now()) + 60,
  ...more,
});

describe('readSessionToken', () => {
  it("reads an origin's session token as its user", async () => {
    const userId = newUserId();
    expect(await readSessionToken(secret, await newSession(userId), now())).toEqual({
      kind: 'session',
      userId,
    });
  });

  it.each([
    ['expired', { exp: Math.floor(Date.now() / 1000) - 1 }],
    ['not yet valid', { nbf: Math.floor(Date.now() / 1000) + 60 }],
    ['of another issuer', { iss: 'evil' }],
    ['without exp', { exp: undefined }],
    ['without sub', { sub: undefined }],
    ['with a sub that is no user id', { sub: 'usr 1/../x' }],
    ['with a string exp', { exp: '9999999999' }],
  ])('answers unknown for a token %s', async (_, claims) => {
    const token = await signed({ alg: 'HS256' }, valid(claims));
    expect(await readSessionToken(secret, token, now())).toEqual({ kind: 'unknown' });
  });

  it('answers unknown for another secret, alg none, a crit header, a swapped payload, and garbage', async () => {
    const other = await newSession(newUserId(), { secret: `other-${crypto.randomUUID()}` });
    const good = await newSession();
    const [head, , signature] = good.split('.');
    const tokens = [
      other,
      `${b64('{"alg":"none"}')}.${b64(JSON.stringify(valid()))}.`,
      await handSigned({ alg: 'HS256', crit: ['exp'] }, valid()),
      `${head}.${b64(JSON.stringify(valid()))}.${signature}`,
      'not-a-token',
      'a.b',
      'a.b.c.d',
      `${good}x`.repeat(40),
    ];
    for (const token of tokens) {
      expect(await readSessionToken(secret, token, now()), token).toEqual({ kind: 'unknown' });
    }
  });

  it('answers non_canonical for any other spelling of a part, with or without the secret', async () => {
    // A kid makes the header 34 characters long, whose last carries 4 unused bits.
    const token = await signed({ alg: 'HS256', kid: 'k' }, valid());
    const [head = '', body = '', signature = ''] = token.split('.');
    expect(await readSessionToken(secret, token, now())).toMatchObject({ kind: 'session' });
    const spellings = [
      ...otherSpellings(head).map((h) => `${h}.${body}.${signature}`),
      ...otherSpellings(body).map((b) => `${head}.${b}.${signature}`),
      ...otherSpellings(signature).map((s) => `${head}.${body}.${s}`),
      // Not base64 at all: a length no encoder writes.
      `${head}.${body}.${signature}AA`,
    ];
    expect(spellings.length).toBeGreaterThanOrEqual(15 + 3 + 1);
    for (const spelled of spellings) {
      expect(await readSessionToken(secret, spelled, now())).toEqual({ kind: 'non_canonical' });
      expect(await readSessionToken(undefined, spelled, now())).toEqual({ kind: 'non_canonical' });
    }
  });

  it('reads a hand-made token like a jose one (the check above is not about how it was made)', async () => {
    const claims = valid();
    expect(
      await readSessionToken(secret, await handSigned({ alg: 'HS256' }, claims), now()),
    ).toEqual({ kind: 'session', userId: claims.sub });
  });

  it('answers unknown for a valid token when the edge has no secret', async () => {
    expect(await readSessionToken(undefined, await newSession(), now())).toEqual({
      kind: 'unknown',
    });
  });
});
