/**
 * `npm start`: the whole system on this machine — the origin (Node, default model, SQLite
 * in ./data) on 127.0.0.1:$PORT (8788) and the edge Worker in real workerd (`wrangler dev`)
 * on 127.0.0.1:$EDGE_PORT (8787), sharing a development signing secret and a JWT secret
 * (kept in the data folder, so sessions survive a restart). Stops both on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { supervisor, wranglerDevArgs } from './lib/children.ts';

const root = join(import.meta.dirname, '..');

/** The JWT secret of this data folder: made once, then read back. */
function devJwtSecret(dataDir: string): string {
  const file = join(dataDir, 'dev-jwt-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = `dev-jwt-${randomBytes(24).toString('hex')}`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  return secret;
}

const originPort = process.env.PORT ?? '8788';
const edgePort = process.env.EDGE_PORT ?? '8787';
const secret = process.env.EDGE_SIGNING_SECRET ?? `dev-${randomBytes(24).toString('hex')}`;
// Both ends hold it: the edge verifies sessions and API keys to count them by their user.
const jwtSecret =
  process.env.JWT_SECRET ?? devJwtSecret(resolve(root, process.env.DATA_DIR ?? 'data'));
const edgeUrl = `http://127.0.0.1:${edgePort}`;
const processes = supervisor(root);

processes.run('origin', process.execPath, [join(root, 'origin/main.ts')], {
  ...process.env,
  PORT: originPort,
  HOST: process.env.HOST ?? '127.0.0.1',
  EDGE_SIGNING_SECRET: secret,
  JWT_SECRET: jwtSecret,
  PUBLIC_URL: process.env.PUBLIC_URL ?? edgeUrl,
});

processes.run(
  'edge',
  join(root, 'node_modules/.bin/wrangler'),
  wranglerDevArgs(edgePort, {
    ORIGIN_URL: `http://127.0.0.1:${originPort}`,
    EDGE_SIGNING_SECRET: secret,
    JWT_SECRET: jwtSecret,
  }),
  { ...process.env, WRANGLER_SEND_METRICS: 'false' },
);

// Say where to go once both answer.
if (await processes.until(`${edgeUrl}/v1/health`)) {
  console.log(
    `\nOverture is running: open ${edgeUrl}  (API: ${edgeUrl}/v1, origin: 127.0.0.1:${originPort})\n`,
  );
}
