import { errors, jwtVerify, SignJWT } from 'jose';

const issuer = 'overture';

export interface TokenSigner {
  /** A session JWT (HS256) whose subject is the user id. */
  sign(userId: string): Promise<string>;
  /** The user id of a valid, unexpired token; undefined otherwise. */
  verify(token: string): Promise<string | undefined>;
}

/**
 * @example
 * const tokens = createTokenSigner(secret, 3600);
 * const userId = await tokens.verify(await tokens.sign('usr_1'));
 */
export function createTokenSigner(secret: Uint8Array, ttlSeconds: number): TokenSigner {
  return {
    sign(userId) {
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuer(issuer)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(secret);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, secret, {
          issuer,
          algorithms: ['HS256'],
          requiredClaims: ['exp', 'sub'],
        });
        return typeof payload.sub === 'string' ? payload.sub : undefined;
      } catch (error) {
        if (error instanceof errors.JOSEError) return undefined;
        throw error;
      }
    },
  };
}
