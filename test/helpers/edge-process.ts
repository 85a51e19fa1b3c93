import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { wranglerConfigCounting } from '../../scripts/lib/wrangler-config.ts';
import { repoRoot } from './paths.ts';

export interface EdgeProcess {
  url: string;
  port: number;
  child: ChildProcess;
  output(): string;
  kill(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (wrangler dev needs a number, not 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Starts the edge Worker in real workerd with `wrangler dev`, as `npm start` does, with the
 * given vars (ORIGIN_URL and EDGE_SIGNING_SECRET at least), and waits for `/healthz`. A
 * RATE_LIMIT_DEFAULT among them is also what its rate-limiting binding counts (a copy of
 * wrangler.toml saying so, in the edge's state folder), unless `config` names another file.
 * wrangler's local tracing (X_LOCAL_OBSERVABILITY, a trace of every request and subrequest
 * for its local explorer, about 1 ms a request here) is off: no test reads it.
 *
 * @example
 * const edge = await startEdgeProcess({ ORIGIN_URL: origin.url, EDGE_SIGNING_SECRET: secret });
 */
export async function startEdgeProcess(
  vars: Record<string, string>,
  options: { port?: number; config?: string } = {},
): Promise<EdgeProcess> {
  // A port chosen beforehand lets a caller give the edge's address to the origin it starts meanwhile.
  const port = options.port ?? (await freePort());
  const args = [
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    // Otherwise each wrangler takes 9229 when it looks free: two starting at once collide.
    '--inspector-port',
    String(await freePort()),
    '--show-interactive-dev-session=false',
  ];
  // The config given (another Worker, other bindings), else a copy of the root's counting
  // RATE_LIMIT_DEFAULT, else the root's wrangler.toml itself.
  const config =
    options.config ??
    (vars.RATE_LIMIT_DEFAULT
      ? wranglerConfigCounting(vars.RATE_LIMIT_DEFAULT, stateDir(port))
      : undefined);
  if (config) args.push('--config', config);
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  // Each edge gets its own local state folder, so rate-limit buckets never leak between runs.
  args.push('--persist-to', stateDir(port));
  const child = spawn(join(repoRoot, 'node_modules/.bin/wrangler'), args, {
    cwd: repoRoot,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', X_LOCAL_OBSERVABILITY: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // A test process that ends without stopping it takes wrangler and its workerd along.
  const orphaned = () => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  };
  process.once('exit', orphaned);
  child.once('exit', () => process.off('exit', orphaned));
  let text = '';
  child.stdout?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const edge: EdgeProcess = {
    url,
    port,
    child,
    output: () => text,
    async kill() {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM'); // wrangler and its workerd
      await Promise.race([exited, sleep(5_000)]);
    },
  };
  const deadline = Date.now() + 60_000;
  while ((await fetch(`${url}/healthz`).catch(() => undefined))?.status !== 200) {
    const failure =
      child.exitCode !== null
        ? `wrangler dev exited:\n${text}`
        : Date.now() > deadline
          ? `wrangler dev did not start:\n${text}`
          : undefined;
    if (failure) {
      // One that never got going is stopped here: no caller holds it to stop.
      await stopEdgeProcess(edge);
      throw new Error(failure);
    }
    await sleep(100);
  }
  return edge;
}

/** The local state folder (Durable Objects, rate-limit counters, config) of the edge on `port`. */
const stateDir = (port: number) => join(repoRoot, '.wrangler', `test-${port}`);

/** Stops an edge (wrangler and its workerd) and removes its local state folder. */
export async function stopEdgeProcess(edge: EdgeProcess): Promise<void> {
  await edge.kill();
  rmSync(stateDir(edge.port), { recursive: true, force: true });
}
