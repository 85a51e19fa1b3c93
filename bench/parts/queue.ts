import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../test/helpers/edge-process.ts';
import { removeDataDir, startOriginProcess } from '../../test/helpers/origin-process.ts';
import { ensureDebianPackage } from '../lib/apt.ts';
import { closedLoop, openClients } from '../lib/job-clients.ts';
import { benchOriginEnv } from '../lib/origins.ts';
import { interleave, round } from '../lib/stats.ts';

/** redis-server from Debian's packages: installed if missing (as root), else the peer is skipped. */
function redisBinary(): string | undefined {
  const found = () =>
    spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  return ensureDebianPackage('redis-server', 'the BullMQ peer', () => found() !== '')
    ? found()
    : undefined;
}

/**
 * A Redis on a free port: without persistence (as BullMQ is usually benchmarked), or
 * `durable`, with an append-only file fsynced on every write, as Overture fsyncs its jobs.
 */
async function startRedis(
  bin: string,
  durable: boolean,
): Promise<{ port: number; child: ChildProcess; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'overture-redis-'));
  const persistence = durable
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  const child = spawn(
    bin,
    ['--port', String(port), '--save', '', '--bind', '127.0.0.1', '--dir', dir, ...persistence],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    const pong = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (pong.stdout.includes('PONG')) break;
    await sleep(50);
  }
  return { port, child, dir };
}

interface Peer {
  add(): Promise<void>;
  close(): Promise<void>;
}

/** BullMQ on its own Redis: add a no-op job and wait for its completed event. */
async function bullmqPeer(
  bin: string,
  durable: boolean,
  concurrency: number,
  clients: number,
): Promise<Peer> {
  const redis = await startRedis(bin, durable);
  const { Queue, QueueEvents, Worker } = await import('bullmq');
  const connection = { host: '127.0.0.1', port: redis.port };
  const name = `noop-${process.pid}`;
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  const worker = new Worker(name, async () => 1, { connection, concurrency });
  // Each waiting client listens on the queue and its events: more than Node's default 10.
  queue.setMaxListeners(clients * 4);
  events.setMaxListeners(clients * 4);
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
  return {
    async add() {
      // Kept, not removed on completion: waitUntilFinished reads the finished job back.
      const job = await queue.add('noop', {});
      await job.waitUntilFinished(events);
    },
    async close() {
      await worker.close();
      await events.close();
      await queue.close();
      redis.child.kill();
      rmSync(redis.dir, { recursive: true, force: true });
    },
  };
}

/** `clients` closed-loop clients through `add` until `total` jobs are done; answers ms. */
async function closedLoopOf(
  add: () => Promise<void>,
  clients: number,
  total: number,
): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (started < total) {
        started++;
        await add();
      }
    }),
  );
  return performance.now() - t0;
}

/**
 * A model that does nothing through Overture's whole job path (HTTP create, SQLite, the
 * scheduler, a worker thread, the WebSocket terminal event) against BullMQ on a local Redis
 * doing the same (add, process, completed event), with the same number of clients, each
 * waiting for its job before adding the next (closed loop), in interleaved rounds. BullMQ
 * runs twice: on a Redis without persistence, and on one that fsyncs every write.
 */
export async function noopVsBullmq(options: {
  threads: number;
  clients: number;
  bullmqConcurrency: number;
  rounds: number;
  perRound: number;
}) {
  const { clients: clientCount, rounds, perRound } = options;
  const origin = await startOriginProcess({ env: benchOriginEnv(options.threads) });
  const clients = await openClients(origin.url, clientCount);
  const overture = { jobs: 0, ms: 0 };
  const bullmq = { jobs: 0, ms: 0 };
  const durable = { jobs: 0, ms: 0 };

  const bin = redisBinary();
  const concurrency = options.bullmqConcurrency;
  const peer = bin ? await bullmqPeer(bin, false, concurrency, clientCount) : undefined;
  const durablePeer = bin ? await bullmqPeer(bin, true, concurrency, clientCount) : undefined;

  await interleave(rounds, {
    overture: async () => {
      const run = await closedLoop(clients, perRound, 'noop', {});
      overture.ms += run.ms;
      overture.jobs += run.timings.length;
    },
    bullmq: async () => {
      if (!peer) return;
      bullmq.ms += await closedLoopOf(peer.add, clientCount, perRound);
      bullmq.jobs += perRound;
    },
    bullmqDurable: async () => {
      if (!durablePeer) return;
      durable.ms += await closedLoopOf(durablePeer.add, clientCount, perRound);
      durable.jobs += perRound;
    },
  });

  for (const c of clients) c.close();
  await peer?.close();
  await durablePeer?.close();
  await origin.kill();
  removeDataDir(origin.dataDir);
  const noopPerS = (overture.jobs / overture.ms) * 1000;
  const bullPerS = peer ? (bullmq.jobs / bullmq.ms) * 1000 : Number.NaN;
  return {
    noop_jobs_per_s: round(noopPerS, 1),
    bullmq_noop_jobs_per_s: peer ? round(bullPerS, 1) : 'skipped: no redis-server',
    queue_ratio: peer ? round(noopPerS / bullPerS, 3) : 'skipped',
    // The same peer with Redis fsyncing every write (appendfsync always), as Overture does.
    bullmq_durable_noop_jobs_per_s: durablePeer
      ? round((durable.jobs / durable.ms) * 1000, 1)
      : 'skipped',
    queue_ratio_vs_durable: durablePeer
      ? round(noopPerS / ((durable.jobs / durable.ms) * 1000), 3)
      : 'skipped',
  };
}
