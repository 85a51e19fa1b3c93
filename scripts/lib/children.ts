import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { wranglerConfigCounting } from './wrangler-config.ts';

/**
 * The processes `npm start` and `npm run start:cluster` run together: when one exits, or on
 * Ctrl-C (SIGINT) or SIGTERM, every other is stopped, then `onStop` runs (a database to
 * stop), then the script exits.
 */
export function supervisor(root: string, onStop: () => Promise<void> = async () => {}) {
  const children: ChildProcess[] = [];
  let stopping = false;

  function stop(code: number): void {
    if (stopping) return;
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    setTimeout(() => process.exit(code), 10_000).unref();
    Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once('exit', r)))),
    )
      .then(onStop)
      .finally(() => process.exit(code));
  }

  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));

  return {
    /** Starts a process with its output on ours; its exit stops the rest. */
    run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
      const child = spawn(command, args, {
        cwd: root,
        env,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('exit', (code) => {
        if (!stopping) {
          console.error(`start: ${name} exited (${code ?? 'signal'}); stopping the rest`);
          stop(code ?? 1);
        }
      });
      children.push(child);
      return child;
    },
    /** Waits until `url` answers 200, or the deadline, or a stop. */
    async until(url: string, timeoutMs = 120_000): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (!stopping && Date.now() < deadline) {
        const ok = await fetch(url).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) return true;
        await new Promise((r) => setTimeout(r, 500));
      }
      return false;
    },
  };
}

/**
 * The arguments of `wrangler dev` on 127.0.0.1:`port` with these vars (those that are set),
 * and the edge settings a developer may give in the environment. A RATE_LIMIT_DEFAULT given
 * so is also what the rate-limiting binding counts (a copy of wrangler.toml saying so, in
 * .wrangler/dev-config; the local state stays in .wrangler/state).
 */
export function wranglerDevArgs(port: string, vars: Record<string, string | undefined>): string[] {
  const all: Record<string, string | undefined> = {
    STRIPE_WEBHOOK_SECRET: process.env.STRIPE_WEBHOOK_SECRET,
    CORS_ORIGINS: process.env.CORS_ORIGINS,
    RATE_LIMIT_ENABLED: process.env.RATE_LIMIT_ENABLED,
    RATE_LIMIT_JOBS: process.env.RATE_LIMIT_JOBS,
    RATE_LIMIT_AUTH: process.env.RATE_LIMIT_AUTH,
    RATE_LIMIT_DEFAULT: process.env.RATE_LIMIT_DEFAULT,
    RATE_LIMIT_UPGRADES: process.env.RATE_LIMIT_UPGRADES,
    ...vars,
  };
  const root = join(import.meta.dirname, '..', '..');
  const config =
    all.RATE_LIMIT_DEFAULT &&
    wranglerConfigCounting(all.RATE_LIMIT_DEFAULT, join(root, '.wrangler', 'dev-config'), root);
  return [
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    port,
    '--show-interactive-dev-session=false',
    ...(config ? ['--config', config, '--persist-to', join(root, '.wrangler', 'state')] : []),
    ...Object.entries(all).flatMap(([k, v]) => (v === undefined ? [] : ['--var', `${k}:${v}`])),
  ];
}
