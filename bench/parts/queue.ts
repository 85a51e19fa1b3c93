import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../test/helpers/edge-process.ts';
import { removeDataDir, repoRoot, startOriginProcess } from '../../test/helpers/origin-process.ts';
import { closedLoop, openClients } from '../lib/job-clients.ts';
import { interleave, round } from '../lib/stats.ts';

/** redis-server from Debian's packages: installed if missing (as root), else the peer is skipped. */
function redisBinary(): string | undefined {
  const found = () =>
    spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (found()) return found();
  if (process.getuid?.() === 0) {
    console.warn('bench: installing redis-server from Debian packages for the BullMQ peer');
    spawnSync(
      'sh',
      [
        '-c',
        'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server',
      ],
      {
        stdio: 'inherit',
      },
    );
  }
  return found() || undefined;
}

async function startRedis(bin: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    bin,
    ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    if (
      spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.includes(
        'PONG',
      )
    )
      break;
    await sleep(50);
  }
  return { port, child };
}

/**
 * A model that does nothing through Overture's whole job path (HTTP create, SQLite, the
 * scheduler, a worker thread, the WebSocket terminal event) against BullMQ on a local Redis
 * doing the same (add, process, completed event), with the same number of clients, each
 * waiting for its job before adding the next (closed loop), in interleaved rounds.
 */
export async function noopVsBullmq(options: {
  threads: number;
  clients: number;
  bullmqConcurrency: number;
  rounds: number;
  perRound: number;
}) {
  const { clients: clientCount, rounds, perRound } = options;
  const origin = await startOriginProcess({
    env: {
      MODEL_DIR: join(repoRoot, 'bench/models'),
      POOL_THREADS: String(options.threads),
      QUEUE_LIMIT: '100000',
      LOG_LEVEL: 'warn',
    },
  });
  const clients = await openClients(origin.url, clientCount);
  const overture = { jobs: 0, ms: 0 };
  const bullmq = { jobs: 0, ms: 0 };

  const bin = redisBinary();
  const redis = bin ? await startRedis(bin) : undefined;
  let peer: { add(): Promise<void>; close(): Promise<void> } | undefined;
  if (redis) {
    const { Queue, QueueEvents, Worker } = await import('bullmq');
    const connection = { host: '127.0.0.1', port: redis.port };
    const name = `noop-${process.pid}`;
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const worker = new Worker(name, async () => 1, {
      connection,
      concurrency: options.bullmqConcurrency,
    });
    // Each waiting client listens on the queue and its events: more than Node's default 10.
    queue.setMaxListeners(clientCount * 4);
    events.setMaxListeners(clientCount * 4);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
    peer = {
      async add() {
        // Kept, not removed on completion: waitUntilFinished reads the finished job back.
        const job = await queue.add('noop', {});
        await job.waitUntilFinished(events);
      },
      async close() {
        await worker.close();
        await events.close();
        await queue.close();
      },
    };
  }

  await interleave(rounds, {
    overture: async () => {
      const run = await closedLoop(clients, perRound, 'noop', {});
      overture.ms += run.ms;
      overture.jobs += run.timings.length;
    },
    bullmq: async () => {
      if (!peer) return;
      const add = peer.add;
      let started = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: clientCount }, async () => {
          while (started < perRound) {
            started++;
            await add();
          }
        }),
      );
      bullmq.ms += performance.now() - t0;
      bullmq.jobs += perRound;
    },
  });

  for (const c of clients) c.close();
  await peer?.close();
  redis?.child.kill();
  await origin.kill();
  removeDataDir(origin.dataDir);
  const noopPerS = (overture.jobs / overture.ms) * 1000;
  const bullPerS = peer ? (bullmq.jobs / bullmq.ms) * 1000 : Number.NaN;
  return {
    noop_jobs_per_s: round(noopPerS, 1),
    bullmq_noop_jobs_per_s: peer ? round(bullPerS, 1) : 'skipped: no redis-server',
    queue_ratio: peer ? round(noopPerS / bullPerS, 3) : 'skipped',
  };
}
