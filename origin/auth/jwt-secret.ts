import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The secret that signs session tokens: `JWT_SECRET` when set (validated as ≥ 32 bytes by
 * the environment schema); otherwise, outside production, a random one kept in
 * `DATA_DIR/jwt-secret` so sessions survive restarts. Production without it refuses to start.
 */
export function loadJwtSecret(options: {
  configured: string | undefined;
  dataDir: string;
  production: boolean;
}): Uint8Array {
  if (options.configured !== undefined) return new TextEncoder().encode(options.configured);
  if (options.production) throw new Error('JWT_SECRET must be set in production');
  const file = join(options.dataDir, 'jwt-secret');
  try {
    return new Uint8Array(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
  return new Uint8Array(secret);
}
