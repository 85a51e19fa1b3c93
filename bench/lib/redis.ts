import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../test/helpers/edge-process.ts';
import { ensureDebianPackage } from './apt.ts';
import { exitOf } from './child-exit.ts';

/** redis-server from Debian's packages: installed if missing (as root), else the peers are skipped. */
export function redisBinary(): string | undefined {
  const found = () =>
    spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  return ensureDebianPackage('redis-server', 'the BullMQ peers', () => found() !== '')
    ? found()
    : undefined;
}

export interface RedisServer {
  port: number;
  child: ChildProcess;
  /** Its working directory (the append-only file of a durable one): removed by `stop`. */
  dir: string;
  /** Kills it, waits for its exit and removes its directory. */
  stop(): Promise<void>;
}

/**
 * A Redis on a free port: without persistence (as BullMQ is usually benchmarked), or
 * `durable`, with an append-only file fsynced on every write, as Overture fsyncs its jobs.
 */
export async function startRedis(bin: string, durable: boolean): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'overture-redis-'));
  const persistence = durable
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  const child = spawn(
    bin,
    ['--port', String(port), '--save', '', '--bind', '127.0.0.1', '--dir', dir, ...persistence],
    { stdio: 'ignore' },
  );
  const exited = exitOf(child);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    const pong = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (pong.stdout.includes('PONG')) break;
    if (i === 100 || child.exitCode !== null) {
      await stop();
      throw new Error(`redis-server on port ${port} did not answer PING`);
    }
    await sleep(50);
  }
  return { port, child, dir, stop };
}
