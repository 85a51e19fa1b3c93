/**
 * `npm run start:cluster`: a local cluster on this machine — a throwaway PostgreSQL (its own
 * folder and port, removed on exit), two origins on it (127.0.0.1:8788 and :8789, one
 * inference thread each, outputs in the edge's R2 bucket), and the edge Worker in real
 * workerd (`wrangler dev`) on :8787 in front of both, with the web UI. Ctrl-C stops
 * everything. Kill one origin (its pid is printed) to watch the other take its jobs over.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { supervisor, wranglerDevArgs } from './lib/children.ts';
import { startPostgres } from './lib/postgres-server.ts';

const root = join(import.meta.dirname, '..');
const edgePort = process.env.EDGE_PORT ?? '8787';
const originPorts = (process.env.ORIGIN_PORTS ?? '8788,8789').split(',');
const secret = process.env.EDGE_SIGNING_SECRET ?? `dev-${randomBytes(24).toString('hex')}`;
const edgeUrl = `http://127.0.0.1:${edgePort}`;

const database = await startPostgres();
const databaseUrl = await database.createDatabase('overture');
console.log(`start:cluster: PostgreSQL on 127.0.0.1:${database.port} (throwaway)`);
const processes = supervisor(root, () => database.stop());

// One secret for sessions across origins; one for the edge's and the origins' signatures.
const jwtSecret = process.env.JWT_SECRET ?? `dev-jwt-${randomBytes(24).toString('hex')}`;
for (const [i, port] of originPorts.entries()) {
  const id = `origin-${String.fromCharCode(97 + i)}`;
  const child = processes.run(id, process.execPath, [join(root, 'origin/main.ts')], {
    ...process.env,
    PORT: port,
    HOST: '127.0.0.1',
    ORIGIN_ID: id,
    DATABASE_URL: databaseUrl,
    JWT_SECRET: jwtSecret,
    EDGE_SIGNING_SECRET: secret,
    OUTPUT_STORE: 'edge',
    EDGE_URL: edgeUrl,
    DATA_DIR: join(root, 'data', 'cluster', id),
    POOL_THREADS: process.env.POOL_THREADS ?? '1',
    METRICS_PORT: String(9464 + i),
    PUBLIC_URL: process.env.PUBLIC_URL ?? edgeUrl,
  });
  console.log(`start:cluster: ${id} on 127.0.0.1:${port} (pid ${child.pid})`);
}

processes.run(
  'edge',
  join(root, 'node_modules/.bin/wrangler'),
  wranglerDevArgs(edgePort, {
    // wrangler.toml's one-origin default, emptied: the edge takes one or the other.
    ORIGIN_URL: '',
    ORIGIN_URLS: originPorts.map((p) => `http://127.0.0.1:${p}`).join(','),
    EDGE_SIGNING_SECRET: secret,
    // The edge counts sessions and API keys by their user with it (else by IP).
    JWT_SECRET: jwtSecret,
  }),
  { ...process.env, WRANGLER_SEND_METRICS: 'false' },
);

if (await processes.until(`${edgeUrl}/v1/health`)) {
  console.log(`\nOverture cluster is running: open ${edgeUrl}  (health: ${edgeUrl}/v1/health)\n`);
}
