/**
 * `npm start`: the whole system on this machine — the origin (Node, default model, SQLite
 * in ./data) on 127.0.0.1:$PORT (8788) and the edge Worker in real workerd (`wrangler dev`)
 * on 127.0.0.1:$EDGE_PORT (8787), sharing a development signing secret. Stops both on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { supervisor, wranglerDevArgs } from './lib/children.ts';

const root = join(import.meta.dirname, '..');
const originPort = process.env.PORT ?? '8788';
const edgePort = process.env.EDGE_PORT ?? '8787';
const secret = process.env.EDGE_SIGNING_SECRET ?? `dev-${randomBytes(24).toString('hex')}`;
const edgeUrl = `http://127.0.0.1:${edgePort}`;
const processes = supervisor(root);

processes.run('origin', process.execPath, [join(root, 'origin/main.ts')], {
  ...process.env,
  PORT: originPort,
  HOST: process.env.HOST ?? '127.0.0.1',
  EDGE_SIGNING_SECRET: secret,
  PUBLIC_URL: process.env.PUBLIC_URL ?? edgeUrl,
});

processes.run(
  'edge',
  join(root, 'node_modules/.bin/wrangler'),
  wranglerDevArgs(edgePort, {
    ORIGIN_URL: `http://127.0.0.1:${originPort}`,
    EDGE_SIGNING_SECRET: secret,
  }),
  { ...process.env, WRANGLER_SEND_METRICS: 'false' },
);

// Say where to go once both answer.
if (await processes.until(`${edgeUrl}/v1/health`)) {
  console.log(
    `\nOverture is running: open ${edgeUrl}  (API: ${edgeUrl}/v1, origin: 127.0.0.1:${originPort})\n`,
  );
}
