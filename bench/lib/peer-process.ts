import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import { repoRoot } from '../../test/helpers/paths.ts';
import { exitOf } from './child-exit.ts';
import { startRedis } from './redis.ts';

export interface PeerProcess {
  url: string;
  /** The peer's Node process, for its main thread's CPU time. */
  pid: number;
  /** A bearer token of a fresh user, signed as the peer checks it (HS256). */
  signUp(): Promise<string>;
  /** Stops the peer (SIGTERM, SIGKILL after a while), then its Redis; removes Redis's dir. */
  stop(): Promise<void>;
}

const stopGraceMs = 10_000;

/**
 * Starts bench/peer/server.ts as its own process (`process.execPath`) on a Redis of its own
 * that fsyncs every write, and resolves once it listens. Whatever fails on the way is
 * stopped before the error is thrown.
 */
export async function startPeerProcess(
  redisBin: string,
  concurrency: number,
): Promise<PeerProcess> {
  const redis = await startRedis(redisBin, true);
  const secret = randomBytes(32).toString('hex');
  const child = spawn(process.execPath, [join(repoRoot, 'bench/peer/server.ts')], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_PORT: String(redis.port),
      JWT_SECRET: secret,
      WORKER_CONCURRENCY: String(concurrency),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = exitOf(child);
  let text = '';
  child.stdout.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      await exited;
      clearTimeout(timer);
    }
    await redis.stop();
  };

  const deadline = Date.now() + 60_000;
  let port: number | undefined;
  while (port === undefined) {
    const match = /"msg":"listening","port":(\d+)/.exec(text);
    if (match) port = Number(match[1]);
    else if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the BullMQ peer process did not start:\n${text}`);
    } else await sleep(20);
  }
  const key = new TextEncoder().encode(secret);
  let users = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    signUp: () =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`user-${++users}`)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(key),
    stop,
  };
}
