/**
 * `npm start`: the whole system on this machine — the origin (Node, default model, SQLite
 * in ./data) on 127.0.0.1:$PORT (8788) and the edge Worker in real workerd (`wrangler dev`)
 * on 127.0.0.1:$EDGE_PORT (8787), sharing a development signing secret. Stops both on Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const originPort = process.env.PORT ?? '8788';
const edgePort = process.env.EDGE_PORT ?? '8787';
const secret = process.env.EDGE_SIGNING_SECRET ?? `dev-${randomBytes(24).toString('hex')}`;
const edgeUrl = `http://127.0.0.1:${edgePort}`;

// Edge settings that may come from the environment; each goes to the Worker as a var.
const edgeVars: Record<string, string | undefined> = {
  ORIGIN_URL: `http://127.0.0.1:${originPort}`,
  EDGE_SIGNING_SECRET: secret,
  STRIPE_WEBHOOK_SECRET: process.env.STRIPE_WEBHOOK_SECRET,
  CORS_ORIGINS: process.env.CORS_ORIGINS,
  RATE_LIMIT_ENABLED: process.env.RATE_LIMIT_ENABLED,
  RATE_LIMIT_JOBS: process.env.RATE_LIMIT_JOBS,
  RATE_LIMIT_AUTH: process.env.RATE_LIMIT_AUTH,
  RATE_LIMIT_DEFAULT: process.env.RATE_LIMIT_DEFAULT,
};

const children: ChildProcess[] = [];
let stopping = false;

function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3_000).unref();
  Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once('exit', r)))),
  ).then(() => process.exit(code));
}

function run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`start: ${name} exited (${code ?? 'signal'}); stopping the rest`);
      stop(code ?? 1);
    }
  });
  children.push(child);
  return child;
}

run('origin', process.execPath, [join(root, 'origin/main.ts')], {
  ...process.env,
  PORT: originPort,
  HOST: process.env.HOST ?? '127.0.0.1',
  EDGE_SIGNING_SECRET: secret,
  PUBLIC_URL: process.env.PUBLIC_URL ?? edgeUrl,
});

const vars = Object.entries(edgeVars).flatMap(([k, v]) =>
  v === undefined ? [] : ['--var', `${k}:${v}`],
);
run(
  'edge',
  join(root, 'node_modules/.bin/wrangler'),
  ['dev', '--ip', '127.0.0.1', '--port', edgePort, '--show-interactive-dev-session=false', ...vars],
  { ...process.env, WRANGLER_SEND_METRICS: 'false' },
);

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

// Say where to go once both answer.
const deadline = Date.now() + 120_000;
while (!stopping && Date.now() < deadline) {
  const ok = await fetch(`${edgeUrl}/v1/health`).then(
    (r) => r.status === 200,
    () => false,
  );
  if (ok) {
    console.log(
      `\nOverture is running: open ${edgeUrl}  (API: ${edgeUrl}/v1, origin: 127.0.0.1:${originPort})\n`,
    );
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
