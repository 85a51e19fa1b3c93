import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * A session JWT as the origin signs them (HS256, issuer `overture`, a token id, a session
 * version), with the claims a test chooses.
 *
 * @example
 * const token = await mintSession(secret, { sub: user.id, exp: nowS() + 3 });
 */
export function mintSession(
  secret: string,
  claims: { sub: string; exp: number; sv?: number; jti?: string },
): Promise<string> {
  return new SignJWT({ sv: claims.sv ?? 0 })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer('overture')
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt()
    .setExpirationTime(claims.exp)
    .sign(new TextEncoder().encode(secret));
}

/** Now, in the seconds JWTs count in. */
export const nowS = (): number => Math.floor(Date.now() / 1000);

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Every other spelling of a token: one part's last character swapped for one that decodes to
 * the same bytes (it differs only in the bits a decoder drops). Each names the part changed.
 */
export function respellings(token: string): { part: number; token: string }[] {
  const parts = token.split('.');
  const out: { part: number; token: string }[] = [];
  parts.forEach((p, i) => {
    const bytes = Buffer.from(p, 'base64url');
    for (const c of alphabet) {
      const other = p.slice(0, -1) + c;
      if (other !== p && Buffer.from(other, 'base64url').equals(bytes)) {
        out.push({ part: i, token: parts.map((q, j) => (j === i ? other : q)).join('.') });
      }
    }
  });
  return out;
}
